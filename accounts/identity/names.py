"""Which sign-in names may reach the directory.

A name that cannot be a directory account is refused before any connection is opened: an attacker's
megabyte of text, a NUL byte or a newline costs us nothing and the directory never sees it. Names that
merely contain LDAP filter characters (`*`, `(`, `)`, `\\`) are legal account names and go on: django-auth-ldap
escapes them (RFC 4515) before they enter the search filter.
"""

from __future__ import annotations

MAX_LENGTH = 150  # the username field's length; AD's sAMAccountName (20) and uids are shorter


def directory_name_problem(username: str | None) -> str | None:
    """Why this sign-in name may not be looked up in the directory, or None when it may."""
    if not username or not username.strip():
        return "empty"
    if len(username) > MAX_LENGTH:
        return f"longer than {MAX_LENGTH} characters"
    if any(ord(char) < 32 or ord(char) == 127 for char in username):
        return "contains control characters"
    if username != username.strip():
        return "starts or ends with a space"
    return None
