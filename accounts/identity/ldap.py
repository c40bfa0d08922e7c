"""Sign-in with the company directory (LDAP / Active Directory), on django-auth-ldap.

django-auth-ldap binds with the service account, finds the user with LDAP_USER_FILTER (escaping the typed
name), binds as the user to check the password, and creates the local user on first sign-in. After that,
`accounts.identity.services.apply_profile` fills the profile, the manager (from the `manager` DN) and the
mapped roles and assignment groups, at every sign-in: a group change in the directory is a role change
at the next sign-in. An account the filter no longer finds (disabled, removed) cannot sign in; the nightly
sync (accounts.identity.sync) deactivates it.

A directory that is down or refuses the service account makes sign-in fail like a wrong password (the
error is logged by django-auth-ldap's `ldap_error` signal), never a 500; the admin page's "Test connection"
says what is wrong.
"""

from __future__ import annotations

import logging

import ldap
from django.conf import settings
from django_auth_ldap.backend import LDAPBackend, _LDAPUser

from accounts.models import IdentitySource, User

from . import config, names, services

logger = logging.getLogger(__name__)

# A manager chain is followed this far when the managers are not local users yet (first sign-in of an
# employee whose manager never signed in): enough for any real chain, and a cycle in the data stops.
MANAGER_DEPTH = 5


def first_value(attrs: dict | None, name: str) -> str:
    """The first value of an attribute, matched case-insensitively (AD and OpenLDAP spell them differently)."""
    if not attrs or not name:
        return ""
    for key, values in attrs.items():
        if key.lower() == name.lower() and values:
            return values[0]
    return ""


def profile_of(ldap_user) -> services.DirectoryProfile:
    """Our profile for a django-auth-ldap user: mapped attributes and the names (cn) of its groups."""

    attrs = ldap_user.attrs or {}
    fields = {field: first_value(attrs, attr) for field, attr in settings.LDAP_USER_ATTR_MAP.items()}
    group_names = set(ldap_user.group_names) if settings.LDAP_GROUP_BASE_DN else set()
    return services.DirectoryProfile(
        source=IdentitySource.LDAP, external_id=ldap_user.dn or "", fields=fields, group_names=group_names
    )


class DirectoryBackend(LDAPBackend):
    """django-auth-ldap configured from our settings (accounts.identity.config), plus the profile, manager
    and mapping of accounts.identity.services. Inert when LDAP_SERVER_URI is empty."""

    # Our settings are built by config.django_auth_ldap_settings(); a prefix nobody sets keeps stray
    # AUTH_LDAP_* settings from overriding them.
    settings_prefix = "ITSM_IDENTITY_UNUSED_"

    @property
    def default_settings(self):
        return config.django_auth_ldap_settings()

    def authenticate(self, request, username=None, password=None, **kwargs):
        if not config.ldap_enabled() or username is None or not password:
            return None
        problem = names.directory_name_problem(username)
        if problem:
            logger.info("directory sign-in refused without a query: the name is %s", problem)
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)

    def authenticate_ldap_user(self, ldap_user, password):
        user = super().authenticate_ldap_user(ldap_user, password)
        if user is None:
            return None
        try:
            self.apply(user, ldap_user)
        except ldap.LDAPError as error:
            # Groups could not be read: refuse rather than sign in with roles we could not check (and
            # rather than a 500). The next attempt reads them again.
            logger.warning("directory sign-in of %s refused: groups not read (%s)", user.username, error)
            return None
        return user

    def get_user(self, user_id):
        """The session's user, without django-auth-ldap's per-request `ldap_user` wrapper (we use no LDAP
        group permissions); a deactivated user's session ends at their next request, as with local accounts."""
        user = User._default_manager.filter(pk=user_id).first()
        return user if user is not None and user.is_active else None

    def populate_user(self, username):
        """Refresh (or create) a user from the directory without their password (the sync; managers)."""
        return self.populate(username, depth=0)

    def populate(self, username: str, *, depth: int):
        if names.directory_name_problem(username):
            return None
        ldap_user = _LDAPUser(self, username=username)
        user = ldap_user.populate_user()
        if user is not None:
            self.apply(user, ldap_user, depth=depth)
        return user

    def get_or_build_user(self, username, ldap_user):
        """The local user for this directory entry: by DN first (a renamed account keeps its history),
        then by username; a new unsaved user otherwise."""
        dn = ldap_user.dn or ""
        if dn:
            found = User.objects.filter(identity_source=IdentitySource.LDAP, external_id__iexact=dn).first()
            if found is not None:
                if (
                    found.username != username.lower()
                    and not User.objects.filter(username__iexact=username).exists()
                ):
                    found.username = username.lower()
                return found, False
        return super().get_or_build_user(username, ldap_user)

    def apply(self, user: User, ldap_user, *, depth: int = 0) -> dict:
        manager = None
        manager_dn = first_value(ldap_user.attrs, settings.LDAP_MANAGER_ATTR)
        if manager_dn:
            manager = self.manager_for(manager_dn, ldap_user, depth=depth)
        return services.apply_profile(user, profile_of(ldap_user), manager=manager)

    def manager_for(self, dn: str, ldap_user, *, depth: int) -> User | None:
        """The local user for a manager's DN, brought in from the directory if they never signed in."""
        found = User.objects.filter(identity_source=IdentitySource.LDAP, external_id__iexact=dn).first()
        if found is not None or depth >= MANAGER_DEPTH:
            return found
        try:
            results = ldap_user.connection.search_s(
                dn, ldap.SCOPE_BASE, "(objectClass=*)", [settings.LDAP_USERNAME_ATTR]
            )
        except ldap.LDAPError as error:
            logger.warning("manager %s not read from the directory: %s", dn, error)
            return None
        username = first_value(results[0][1] if results else None, settings.LDAP_USERNAME_ATTR)
        if isinstance(username, bytes):  # a raw python-ldap search answers bytes
            username = username.decode("utf-8", "replace")
        if not username:
            return None
        return self.populate(username, depth=depth + 1)
