"""Read-only looks at the directory for the admin page and the sync: "test connection", "test a user",
and the before/after snapshot of a user that the sync's report is made of.

Nothing here writes, and no message ever contains the bind password: errors name the setting to fix.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import ldap
import requests
from django.conf import settings
from django_auth_ldap.backend import _LDAPUser

from accounts.models import User

from . import config, names, services
from .ldap import DirectoryBackend, first_value, profile_of

COUNT_LIMIT = 1000  # "test connection" counts users up to this many, then says "at least"


@dataclass
class CheckResult:
    ok: bool
    message: str
    details: list[str] = field(default_factory=list)


def describe_ldap_error(error: ldap.LDAPError) -> str:
    """A sentence an admin can act on, for python-ldap's exceptions (their args are dicts)."""
    info = error.args[0] if error.args and isinstance(error.args[0], dict) else {}
    detail = info.get("info") or info.get("desc") or str(error)
    uri = settings.LDAP_SERVER_URI
    if isinstance(error, ldap.INVALID_CREDENTIALS):
        return (
            f"The directory refused the service account {settings.LDAP_BIND_DN or '(anonymous)'}: "
            "wrong bind DN or password (check LDAP_BIND_DN and LDAP_BIND_PASSWORD)."
        )
    if isinstance(error, ldap.SERVER_DOWN):
        return f"Cannot reach the directory at {uri} ({detail}). Check LDAP_SERVER_URI and the network."
    if isinstance(error, ldap.TIMEOUT):
        return f"The directory at {uri} did not answer within {settings.LDAP_TIMEOUT} s (LDAP_TIMEOUT)."
    if isinstance(error, ldap.NO_SUCH_OBJECT):
        return f"The base DN does not exist in the directory ({detail}). Check LDAP_USER_BASE_DN and LDAP_GROUP_BASE_DN."
    if isinstance(error, ldap.FILTER_ERROR):
        return f"LDAP_USER_FILTER or LDAP_GROUP_FILTER is not a valid LDAP filter ({detail})."
    if isinstance(error, ldap.CONFIDENTIALITY_REQUIRED | ldap.STRONG_AUTH_REQUIRED):
        return f"The directory requires an encrypted connection ({detail}): use ldaps:// or LDAP_START_TLS."
    return f"The directory answered with an error: {detail}."


def _connect():
    connection = ldap.initialize(settings.LDAP_SERVER_URI, bytes_mode=False)
    for option, value in config.django_auth_ldap_settings()["CONNECTION_OPTIONS"].items():
        connection.set_option(option, value)
    if settings.LDAP_START_TLS:
        connection.start_tls_s()
    return connection


def check_connection() -> CheckResult:
    """Bind with the service account and count the users LDAP_USER_FILTER finds under the base DN."""
    if not config.ldap_enabled():
        return CheckResult(False, "Directory sign-in is not configured: LDAP_SERVER_URI is empty.")
    try:
        config.ldap_group_type()
    except ValueError as error:
        return CheckResult(False, str(error))
    try:
        connection = _connect()
        connection.simple_bind_s(settings.LDAP_BIND_DN, settings.LDAP_BIND_PASSWORD)
        user_filter = settings.LDAP_USER_FILTER.replace("%(user)s", "*")
        try:
            found = connection.search_ext_s(
                settings.LDAP_USER_BASE_DN, ldap.SCOPE_SUBTREE, user_filter, ["1.1"], sizelimit=COUNT_LIMIT
            )
            count = f"{len([dn for dn, _ in found if dn])}"
        except ldap.SIZELIMIT_EXCEEDED:
            count = f"at least {COUNT_LIMIT}"
        groups = ""
        if settings.LDAP_GROUP_BASE_DN:
            found_groups = connection.search_ext_s(
                settings.LDAP_GROUP_BASE_DN,
                ldap.SCOPE_SUBTREE,
                settings.LDAP_GROUP_FILTER,
                ["cn"],
                sizelimit=COUNT_LIMIT,
            )
            groups = f" and {len([dn for dn, _ in found_groups if dn])} groups"
        connection.unbind_s()
    except ldap.LDAPError as error:
        return CheckResult(False, describe_ldap_error(error))
    return CheckResult(
        True,
        f"Connected to {settings.LDAP_SERVER_URI} as {settings.LDAP_BIND_DN or '(anonymous)'}: "
        f"{count} users{groups} found.",
    )


@dataclass
class UserLookup:
    ok: bool
    message: str
    dn: str = ""
    fields: dict[str, str] = field(default_factory=dict)
    directory_groups: list[str] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    assignment_groups: list[str] = field(default_factory=list)
    manager_dn: str = ""


def look_up_user(username: str) -> UserLookup:
    """What signing in as `username` would give (profile, roles, groups, manager), without a password and
    without creating or changing anyone."""
    if not config.ldap_enabled():
        return UserLookup(False, "Directory sign-in is not configured: LDAP_SERVER_URI is empty.")
    problem = names.directory_name_problem(username)
    if problem:
        return UserLookup(False, f"That name cannot be a directory account: it is {problem}.")
    check = check_connection()
    if not check.ok:
        return UserLookup(False, check.message)
    ldap_user = _LDAPUser(DirectoryBackend(), username=username)
    try:
        if ldap_user.dn is None or ldap_user.attrs is None:
            return UserLookup(
                False, f"No enabled account named “{username}” matches LDAP_USER_FILTER in the directory."
            )
        profile = profile_of(ldap_user)
    except ldap.LDAPError as error:
        return UserLookup(False, describe_ldap_error(error))
    return UserLookup(
        True,
        f"Found {ldap_user.dn}.",
        dn=ldap_user.dn,
        fields=profile.fields,
        directory_groups=sorted(profile.group_names),
        roles=sorted(services.mapped_roles(profile.group_names) | {"requester"}),
        assignment_groups=sorted(services.mapped_assignment_groups(profile.group_names)),
        manager_dn=first_value(ldap_user.attrs, settings.LDAP_MANAGER_ATTR),
    )


def snapshot(user: User) -> dict:
    """What the sync may change about a user, to report the difference."""
    user = User.objects.select_related("manager").get(pk=user.pk)
    return {
        **{name: getattr(user, name) for name in services.PROFILE_FIELDS},
        "username": user.username,
        "manager": user.manager.username if user.manager_id else None,
        "roles": sorted(user.groups.values_list("name", flat=True)),
        "assignment_groups": sorted(user.assignment_groups.values_list("name", flat=True)),
        "is_active": user.is_active,
    }


def diff(before: dict, after: dict) -> dict:
    return {key: [before[key], after[key]] for key in before if before[key] != after.get(key)}


def check_provider() -> CheckResult:
    """Ask the SSO provider what it says of itself: its discovery document must name our configured issuer
    and endpoints, and its JWKS must hold at least one key. Nothing is signed in; the client secret is not
    sent anywhere."""
    if not config.oidc_enabled():
        return CheckResult(
            False, "Single sign-on is not configured: OIDC_RP_CLIENT_ID or an endpoint is empty."
        )
    issuer = settings.OIDC_OP_ISSUER
    if not issuer:
        return CheckResult(False, "OIDC_OP_ISSUER is empty: every sign-in would be refused (unknown issuer).")
    timeout = settings.OIDC_TIMEOUT
    verify = settings.OIDC_VERIFY_SSL
    discovery_url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    try:
        found = requests.get(discovery_url, timeout=timeout, verify=verify)
        found.raise_for_status()
        document = found.json()
    except (requests.RequestException, ValueError) as error:
        return CheckResult(
            False, f"The provider's discovery document at {discovery_url} could not be read ({error})."
        )
    problems = []
    if document.get("issuer") != issuer:
        problems.append(f"it calls itself {document.get('issuer')!r}, not OIDC_OP_ISSUER {issuer!r}")
    for setting, key in (
        ("OIDC_OP_AUTHORIZATION_ENDPOINT", "authorization_endpoint"),
        ("OIDC_OP_TOKEN_ENDPOINT", "token_endpoint"),
        ("OIDC_OP_USER_ENDPOINT", "userinfo_endpoint"),
        ("OIDC_OP_JWKS_ENDPOINT", "jwks_uri"),
    ):
        if document.get(key) and getattr(settings, setting) != document[key]:
            problems.append(f"{setting} differs from its {key} {document[key]}")
    if problems:
        return CheckResult(False, "The provider answers, but " + "; ".join(problems) + ".")
    try:
        keys = (
            requests.get(settings.OIDC_OP_JWKS_ENDPOINT, timeout=timeout, verify=verify)
            .json()
            .get("keys", [])
        )
    except (requests.RequestException, ValueError, AttributeError) as error:
        return CheckResult(False, f"The provider's keys (OIDC_OP_JWKS_ENDPOINT) could not be read ({error}).")
    if not keys:
        return CheckResult(False, "The provider publishes no signing keys (OIDC_OP_JWKS_ENDPOINT).")
    return CheckResult(
        True,
        f"The provider at {issuer} answers; its endpoints match the settings and it publishes {len(keys)} signing key(s).",
    )
