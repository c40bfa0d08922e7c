from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from rest_framework import serializers

from accounts.models import AssignmentGroup
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


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField()


def set_roles(user, roles: list[str]) -> None:
    wanted = set(roles) - {"requester"}
    user.groups.set(Group.objects.filter(name__in=wanted))
    user._role_names = None
