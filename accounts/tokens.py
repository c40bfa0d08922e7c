"""API token keys: how they look and how they are stored.

A key is `itsm_pat_` followed by 40 random URL-safe characters (240 bits). The prefix lets secret
scanners (GitHub's, gitleaks) recognise a leaked key, as GitHub's `ghp_` and GitLab's `glpat-` do.

Only HMAC-SHA256(API_TOKEN_HASH_KEY, key) is stored, never the key:
- a slow password hasher (PBKDF2, Argon2) protects low-entropy passwords against guessing; a 240-bit
  random key cannot be guessed, so the slowness would only cost every API request (PBKDF2 at Django's
  default work factor is ~100 ms per call) and, with a per-row salt, would force a scan of every token
  instead of one lookup;
- a keyed hash (not a bare SHA-256) means a copy of the database alone (a backup, a read-only SQL
  injection) does not even let anyone confirm a key: the HMAC key lives in the environment;
- the hash is deterministic, so authentication stays one indexed lookup (`key_hash` is unique), the
  same single prepared statement as before (accounts.authentication).
API_TOKEN_HASH_KEY defaults to SECRET_KEY; set it separately to be able to rotate SECRET_KEY without
invalidating every token (changing the HMAC key invalidates all keys).
"""

import hashlib
import hmac
import secrets

from django.conf import settings

KEY_PREFIX = "itsm_pat_"


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(30)


def hash_secret() -> str:
    """The HMAC key; a server started by a test or a benchmark with other settings needs the same one
    (pass it as API_TOKEN_HASH_KEY) to accept the tokens the test issued."""
    return settings.API_TOKEN_HASH_KEY or settings.SECRET_KEY


def hash_key(key: str) -> str:
    return hmac.new(hash_secret().encode(), key.encode(), hashlib.sha256).hexdigest()
