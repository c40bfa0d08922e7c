"""The identity settings, read from django.conf.settings at call time.

Nothing here is cached at import: the admin page, the backends and the tests all see the settings of the
moment. Every setting comes from the environment (itsm/settings/base.py, README configuration table).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import ldap
from django.conf import settings
from django_auth_ldap import config as ldap_config
from django_auth_ldap.config import LDAPSearch


def ldap_enabled() -> bool:
    """Directory sign-in is on when a server is configured."""
    return bool(settings.LDAP_SERVER_URI)


def oidc_enabled() -> bool:
    """Single sign-on is on when a client id and the provider's endpoints are configured."""
    return bool(
        settings.OIDC_RP_CLIENT_ID
        and settings.OIDC_OP_AUTHORIZATION_ENDPOINT
        and settings.OIDC_OP_TOKEN_ENDPOINT
        and settings.OIDC_OP_USER_ENDPOINT
        and (settings.OIDC_OP_JWKS_ENDPOINT or not settings.OIDC_RP_SIGN_ALGO.startswith(("RS", "ES")))
    )


def role_map() -> dict[str, str]:
    """Directory group name (lower case) -> role name."""
    return {key.strip().lower(): value.strip() for key, value in settings.IDENTITY_ROLE_MAP.items()}


def group_map() -> dict[str, str]:
    """Directory group name (lower case) -> assignment group name."""
    return {key.strip().lower(): value.strip() for key, value in settings.IDENTITY_GROUP_MAP.items()}


def sso_required() -> bool:
    return bool(settings.SSO_REQUIRED)


def break_glass_users() -> set[str]:
    return {name.strip().lower() for name in settings.SSO_BREAK_GLASS_USERS if name.strip()}


GROUP_TYPES = ("groupOfNames", "nested_groupOfNames", "active_directory", "nested_active_directory", "posix")


def ldap_group_type():
    """django-auth-ldap's group type object for LDAP_GROUP_TYPE (ValueError naming the choices if unknown)."""
    types = {
        "groupOfNames": ldap_config.GroupOfNamesType,
        "nested_groupOfNames": ldap_config.NestedGroupOfNamesType,
        "active_directory": ldap_config.ActiveDirectoryGroupType,
        "nested_active_directory": ldap_config.NestedActiveDirectoryGroupType,
        "posix": ldap_config.PosixGroupType,
    }
    try:
        return types[settings.LDAP_GROUP_TYPE]()
    except KeyError:
        raise ValueError(
            f"LDAP_GROUP_TYPE {settings.LDAP_GROUP_TYPE!r} is not one of {', '.join(GROUP_TYPES)}."
        ) from None


def django_auth_ldap_settings() -> dict:
    """django-auth-ldap's settings, built from ours. Attributes are not mapped by django-auth-ldap
    (USER_ATTR_MAP empty): accounts.identity.services does it, with the length limits of our fields."""
    options = {
        ldap.OPT_NETWORK_TIMEOUT: settings.LDAP_TIMEOUT,
        ldap.OPT_TIMEOUT: settings.LDAP_TIMEOUT,
        ldap.OPT_REFERRALS: 0,  # Active Directory's referrals make python-ldap hang on anonymous chases
    }
    values = {
        "SERVER_URI": settings.LDAP_SERVER_URI,
        "START_TLS": settings.LDAP_START_TLS,
        "BIND_DN": settings.LDAP_BIND_DN,
        "BIND_PASSWORD": settings.LDAP_BIND_PASSWORD,
        "CONNECTION_OPTIONS": options,
        "USER_SEARCH": LDAPSearch(settings.LDAP_USER_BASE_DN, ldap.SCOPE_SUBTREE, settings.LDAP_USER_FILTER),
        "USER_ATTR_MAP": {},
        "ALWAYS_UPDATE_USER": True,
        "MIRROR_GROUPS": None,
        "FIND_GROUP_PERMS": False,
        "CACHE_TIMEOUT": 0,
    }
    if settings.LDAP_GROUP_BASE_DN:
        values["GROUP_SEARCH"] = LDAPSearch(
            settings.LDAP_GROUP_BASE_DN, ldap.SCOPE_SUBTREE, settings.LDAP_GROUP_FILTER
        )
        values["GROUP_TYPE"] = ldap_group_type()
    return values


def end_session_origin() -> str | None:
    """The SSO provider's origin when sign-out goes on to its end-session endpoint. The sign-out form
    posts to us and we redirect there; the CSP's `form-action` governs that redirect too, so it must
    name this origin (core.middleware.SecurityHeadersMiddleware adds it)."""
    endpoint = settings.OIDC_OP_END_SESSION_ENDPOINT
    if not (endpoint and oidc_enabled()):
        return None
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"
