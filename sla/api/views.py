"""API of SLA configuration: everyone signed in may read; only admins write."""

from __future__ import annotations

from django.db import transaction
from rest_framework import permissions, viewsets

from accounts.roles import is_admin
from sla.models import BusinessCalendar, SLADefinition

from .serializers import CalendarSerializer, DefinitionSerializer


class IsAdminOrReadOnly(permissions.BasePermission):
    def has_permission(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return False
        return request.method in permissions.SAFE_METHODS or is_admin(request.user)


class DefinitionViewSet(viewsets.ModelViewSet):
    queryset = SLADefinition.objects.all()
    serializer_class = DefinitionSerializer
    permission_classes = [IsAdminOrReadOnly]
    filterset_fields = ["applies_to", "target", "active"]


class CalendarViewSet(viewsets.ModelViewSet):
    queryset = BusinessCalendar.objects.prefetch_related("hours", "holidays")
    serializer_class = CalendarSerializer
    permission_classes = [IsAdminOrReadOnly]

    @transaction.atomic
    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        hours, holidays = data.pop("hours", []), data.pop("holidays", [])
        calendar = BusinessCalendar.objects.create(**data)
        self._write_rows(calendar, hours, holidays)
        serializer.instance = calendar

    @transaction.atomic
    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        hours, holidays = data.pop("hours", None), data.pop("holidays", None)
        calendar = serializer.instance
        for name, value in data.items():
            setattr(calendar, name, value)
        calendar.save()
        if hours is not None:
            calendar.hours.all().delete()
        if holidays is not None:
            calendar.holidays.all().delete()
        self._write_rows(calendar, hours or [], holidays or [])

    @staticmethod
    def _write_rows(calendar, hours, holidays) -> None:
        calendar.hours.model.objects.bulk_create(
            [calendar.hours.model(calendar=calendar, **h) for h in hours]
        )
        calendar.holidays.model.objects.bulk_create(
            [calendar.holidays.model(calendar=calendar, **h) for h in holidays]
        )
