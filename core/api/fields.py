"""Serializer fields shared by every resource: users and groups by name, CIs by id."""

from django.contrib.auth import get_user_model
from rest_framework import serializers

from accounts.models import AssignmentGroup


class UsernameField(serializers.SlugRelatedField):
    def __init__(self, **kwargs):
        kwargs.setdefault("slug_field", "username")
        kwargs.setdefault("queryset", get_user_model().objects.filter(is_active=True))
        super().__init__(**kwargs)


class GroupNameField(serializers.SlugRelatedField):
    def __init__(self, **kwargs):
        kwargs.setdefault("slug_field", "name")
        kwargs.setdefault("queryset", AssignmentGroup.objects.filter(active=True))
        super().__init__(**kwargs)
