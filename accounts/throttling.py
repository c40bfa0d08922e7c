"""Login throttling shared by the login page and the token endpoint.

Every sign-in attempt takes a slot first: an atomic increment (Redis INCR) of a counter per username and
per client address over a sliding window. Past the limit, the attempt is refused without checking the
password, with the same message whether or not the account exists (no account enumeration). A successful
sign-in clears the counters. Counting before checking (not after a failure) is what keeps 50 parallel
guesses from all slipping through while the counters catch up.
"""

import logging

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 300
LOCKED_MESSAGE = "Too many failed sign-in attempts. Wait a few minutes and try again."


def _limit() -> int:
    return getattr(settings, "LOGIN_MAX_FAILURES", 10)


def _keys(username: str, address: str) -> list[str]:
    return [f"login-attempts:user:{(username or '').lower()[:150]}", f"login-attempts:addr:{address}"]


def take_attempt(username: str, address: str) -> bool:
    """Count one attempt; False when this username or address is over the limit (refuse it)."""
    allowed = True
    try:
        for key in _keys(username, address):
            cache.add(key, 0, WINDOW_SECONDS)
            if cache.incr(key) > _limit():
                allowed = False
    except Exception:
        # The cache (Redis) being down must not lock everyone out: sign-in still checks the password.
        logger.warning("login throttle unavailable; attempt not counted")
    return allowed


def clear(username: str, address: str) -> None:
    """A successful sign-in forgets the attempts of that username and address."""
    try:
        cache.delete_many(_keys(username, address))
    except Exception:
        logger.warning("login throttle unavailable; counters not cleared")
