"""The admins' "Sign-in and directory" page: the configuration in force (never the secrets), the group
mapping, and three actions: test the connection, test a user, sync now. Thin: the work is in
accounts.identity.directory (reads) and accounts.identity.sync (writes through services)."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Count
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from accounts.models import AssignmentGroup, IdentitySource, User
from accounts.roles import ALL_ROLES, is_admin

from . import config, directory, names, sync


class TestUserForm(forms.Form):
    username = forms.CharField(label="Directory username", max_length=names.MAX_LENGTH)


def field_label(name: str) -> str:
    """A user field's label ("First name"), for a field name from the attribute mapping."""
    try:
        return str(User._meta.get_field(name).verbose_name).capitalize()
    except FieldDoesNotExist:  # a misspelt field in LDAP_USER_ATTR_MAP: show it as written
        return name


def _mapping_rows(mapping: dict[str, str], known: set[str]) -> list[dict]:
    return [
        {"directory_group": key, "target": value, "known": value in known}
        for key, value in sorted(mapping.items())
    ]


def _configuration() -> dict:
    """What the page shows about the settings; passwords and secrets only as "set" / "not set"."""
    group_names = set(AssignmentGroup.objects.values_list("name", flat=True))
    return {
        "ldap_enabled": config.ldap_enabled(),
        "ldap": [
            ("Server", settings.LDAP_SERVER_URI or "—"),
            ("StartTLS", "yes" if settings.LDAP_START_TLS else "no"),
            ("Service account", settings.LDAP_BIND_DN or "(anonymous)"),
            ("Service account password", "set" if settings.LDAP_BIND_PASSWORD else "not set"),
            ("User search base", settings.LDAP_USER_BASE_DN or "—"),
            ("User filter", settings.LDAP_USER_FILTER),
            ("Username attribute", settings.LDAP_USERNAME_ATTR),
            (
                "Attributes",
                ", ".join(f"{field_label(k)} ← {v}" for k, v in settings.LDAP_USER_ATTR_MAP.items()),
            ),
            ("Manager attribute", settings.LDAP_MANAGER_ATTR),
            ("Group search base", settings.LDAP_GROUP_BASE_DN or "— (groups not read)"),
            ("Group filter", settings.LDAP_GROUP_FILTER),
            ("Group type", settings.LDAP_GROUP_TYPE),
            ("Nightly sync", f"{settings.DIRECTORY_SYNC_HOUR:02d}:{settings.DIRECTORY_SYNC_MINUTE:02d} UTC"),
        ],
        "oidc_enabled": config.oidc_enabled(),
        "oidc": [
            ("Provider", settings.OIDC_PROVIDER_NAME),
            ("Issuer", settings.OIDC_OP_ISSUER or "—"),
            ("Authorization endpoint", settings.OIDC_OP_AUTHORIZATION_ENDPOINT or "—"),
            ("Token endpoint", settings.OIDC_OP_TOKEN_ENDPOINT or "—"),
            ("Userinfo endpoint", settings.OIDC_OP_USER_ENDPOINT or "—"),
            ("Keys (JWKS)", settings.OIDC_OP_JWKS_ENDPOINT or "—"),
            ("End-session endpoint", settings.OIDC_OP_END_SESSION_ENDPOINT or "— (local sign-out only)"),
            ("Client id", settings.OIDC_RP_CLIENT_ID or "—"),
            ("Client secret", "set" if settings.OIDC_RP_CLIENT_SECRET else "not set"),
            ("Scopes", settings.OIDC_RP_SCOPES),
            ("Groups claim", settings.OIDC_GROUPS_CLAIM),
            ("PKCE", "S256, always"),
        ],
        "role_rows": _mapping_rows(config.role_map(), set(ALL_ROLES)),
        "group_rows": _mapping_rows(config.group_map(), group_names),
        "sso_required": config.sso_required(),
        "break_glass": sorted(config.break_glass_users()),
        "source_counts": _source_counts(),
    }


def _source_counts() -> list[tuple[str, int]]:
    counts = dict(
        User.objects.filter(is_active=True).values_list("identity_source").annotate(n=Count("id")).order_by()
    )
    return [(label, counts.get(value, 0)) for value, label in IdentitySource.choices]


@login_required
@require_http_methods(["GET", "POST"])
def identity_settings(request):
    if not is_admin(request.user):
        raise Http404
    form = TestUserForm()
    connection = lookup = report = None
    action = request.POST.get("action") if request.method == "POST" else None
    if action == "test_connection":
        connection = directory.check_connection()
    elif action == "test_user":
        form = TestUserForm(request.POST)
        if form.is_valid():
            lookup = directory.look_up_user(form.cleaned_data["username"])
            lookup.labelled_fields = [(field_label(name), value) for name, value in lookup.fields.items()]
    elif action == "test_provider":
        connection = directory.check_provider()
    elif action == "sync":
        report = sync.sync_directory()
    context = {"form": form, "connection": connection, "lookup": lookup, "report": report, **_configuration()}
    return render(request, "accounts/identity.html", context)
