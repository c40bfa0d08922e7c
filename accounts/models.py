"""Users and assignment groups.

The custom User exists from the first migration so fields like `manager` (used by request approvals) and
`time_zone` (used to show dates) never need a painful swap later.
"""

import zoneinfo

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Collate, Upper

from core.limits import TEXT_MAX_LENGTH


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"Unknown time zone {value!r}; use an IANA name such as Europe/Paris.")


class IdentitySource(models.TextChoices):
    """Where a user's identity lives: their password and attributes are checked and refreshed there."""

    LOCAL = "local", "Local account"  # a password kept by the suite (admins, small teams, break-glass)
    LDAP = "ldap", "Directory (LDAP)"  # LDAP / Active Directory: refreshed at each sign-in and nightly
    OIDC = "oidc", "Single sign-on (OIDC)"  # an OpenID Connect provider: refreshed at each sign-in


class User(AbstractUser):
    identity_source = models.CharField(
        max_length=8, choices=IdentitySource.choices, default=IdentitySource.LOCAL, editable=False
    )
    # The directory's stable name for the user: the LDAP entry's DN, or the OIDC subject (`sub`). The
    # nightly sync and the manager link find users by it, OIDC sign-in matches on it before the email.
    external_id = models.CharField(max_length=512, blank=True, editable=False)
    manager = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reports"
    )
    phone = models.CharField(max_length=40, blank=True)
    department = models.CharField(max_length=120, blank=True)
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    # The columns the user chose for each list page, by ticket kind: {"incident": ["priority", "sla", ...]}.
    # On the user row, so reading it costs no query (the session's user is loaded anyway).
    list_columns = models.JSONField(default=dict, blank=True, editable=False)

    class Meta:
        ordering = ["username"]
        indexes = [
            models.Index(fields=["identity_source", "external_id"], name="user_identity"),
            # The user picker (core.pickers.search_users): a case-insensitive prefix of the username, first
            # or last name is a range scan of one of these (`upper(x) COLLATE "C" LIKE 'Q%'`).
            models.Index(Collate(Upper("username"), "C"), name="user_username_prefix_idx"),
            models.Index(Collate(Upper("first_name"), "C"), name="user_first_name_prefix_idx"),
            models.Index(Collate(Upper("last_name"), "C"), name="user_last_name_prefix_idx"),
        ]

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username


class AssignmentGroup(models.Model):
    """A team that tickets are assigned to ("network", "service-desk"); addressed by `name` in the API."""

    name = models.SlugField(max_length=80, unique=True, help_text="Short name used in the API, e.g. network")
    description = models.TextField(blank=True, max_length=TEXT_MAX_LENGTH)
    email = models.EmailField(blank=True)
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_groups",
    )
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="assignment_groups")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "group"
        indexes = [
            models.Index(Collate(Upper("name"), "C"), name="group_name_prefix_idx")
        ]  # the group picker

    def __str__(self) -> str:
        return self.name


class TokenScope(models.TextChoices):
    READ = "read", "Read only"  # every GET; any write answers 403
    WRITE = "write", "Read and write"  # everything the user may do


class ApiToken(models.Model):
    """A named personal access token (SPEC §9). Only a hash of the key is stored (accounts.tokens says
    which hash and why); the key itself is shown once, when the token is created. Revoking deletes the row."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=80)
    scope = models.CharField(max_length=8, choices=TokenScope.choices, default=TokenScope.WRITE)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(
        max_length=16, editable=False, help_text="The key's first characters, to recognise it"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: never expires")
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="apitoken_user_created")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
