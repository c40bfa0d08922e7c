"""Login throttling shared by the login page and the token endpoint.

Counts failed attempts per username and per client address in the cache (Redis in production) over a
sliding window; past the limit, further attempts are refused without checking the password, with the same
message whether or not the account exists (no account enumeration).
"""

import logging

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 300


def _limit() -> int:
    return getattr(settings, "LOGIN_MAX_FAILURES", 10)


def _keys(username: str, address: str) -> list[str]:
    return [f"login-fail:user:{(username or '').lower()[:150]}", f"login-fail:addr:{address}"]


def is_locked(username: str, address: str) -> bool:
    try:
        return any((cache.get(key) or 0) >= _limit() for key in _keys(username, address))
    except Exception:
        # The cache (Redis) being down must not lock everyone out: sign-in still checks the password.
        logger.warning("login throttle unavailable; cache unreachable")
        return False


def record_failure(username: str, address: str) -> None:
    try:
        for key in _keys(username, address):
            cache.add(key, 0, WINDOW_SECONDS)
            try:
                cache.incr(key)
            except ValueError:
                cache.set(key, 1, WINDOW_SECONDS)
    except Exception:
        logger.warning("login throttle unavailable; failure not counted")


def clear(username: str, address: str) -> None:
    try:
        cache.delete_many(_keys(username, address))
    except Exception:
        logger.warning("login throttle unavailable; counters not cleared")


LOCKED_MESSAGE = "Too many failed sign-in attempts. Wait a few minutes and try again."
