from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.utils import timezone
from rest_framework import serializers

from accounts.models import ApiToken, AssignmentGroup, TokenScope
from accounts.roles import ALL_ROLES, role_names
from core.api.fields import NamedRelatedField, UsernameField

User = get_user_model()


class UserSerializer(serializers.ModelSerializer):
    """Admins manage users here; `roles` lists role names, `password` is write-only and validated."""

    manager = UsernameField(required=False, allow_null=True)
    roles = serializers.ListField(
        child=serializers.ChoiceField(choices=ALL_ROLES), required=False, help_text="Role names (SPEC §2)"
    )
    groups = NamedRelatedField(
        source="assignment_groups",
        slug_field="name",
        many=True,
        required=False,
        queryset=AssignmentGroup.objects.all(),
    )
    password = serializers.CharField(write_only=True, required=False, style={"input_type": "password"})

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "email",
            "first_name",
            "last_name",
            "manager",
            "phone",
            "department",
            "time_zone",
            "is_active",
            "roles",
            "groups",
            "password",
            "date_joined",
            "last_login",
        ]
        read_only_fields = ["id", "date_joined", "last_login"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["roles"] = sorted(role_names(instance))
        return data

    def validate_password(self, value):
        validate_password(value, self.instance)
        return value


class GroupSerializer(serializers.ModelSerializer):
    manager = UsernameField(required=False, allow_null=True)
    members = UsernameField(many=True, required=False)

    class Meta:
        model = AssignmentGroup
        fields = ["id", "name", "description", "email", "manager", "members", "active"]


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="The key; shown once")
    id = serializers.IntegerField()
    name = serializers.CharField()
    scope = serializers.CharField()
    expires_at = serializers.DateTimeField(allow_null=True)


def set_roles(user, roles: list[str]) -> None:
    wanted = set(roles) - {"requester"}
    user.groups.set(Group.objects.filter(name__in=wanted))
    user._role_names = None


class ApiTokenSerializer(serializers.ModelSerializer):
    """A personal access token as listed (SPEC §9); `key` appears only in the answer to its creation.
    `expires_at` omitted: API_TOKEN_TTL_DAYS from now; null: never expires."""

    user = serializers.CharField(source="user.username", read_only=True)
    key = serializers.SerializerMethodField()
    expires_at = serializers.DateTimeField(required=False, allow_null=True)

    class Meta:
        model = ApiToken
        fields = ["id", "name", "scope", "expires_at", "created_at", "last_used_at", "prefix", "user", "key"]
        read_only_fields = ["id", "created_at", "last_used_at", "prefix", "user", "key"]

    def get_key(self, obj) -> str | None:
        return getattr(obj, "key", None)

    def validate_expires_at(self, value):
        if value is not None and value <= timezone.now():
            raise serializers.ValidationError(
                "Must be in the future (or null for a token that never expires)."
            )
        return value


class TokenRequestSerializer(serializers.Serializer):
    """Sign in for a token; `name` and `scope` are optional (a write token named "default")."""

    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)
    name = serializers.CharField(max_length=80, required=False, default="default")
    scope = serializers.ChoiceField(choices=TokenScope.choices, required=False, default=TokenScope.WRITE)
