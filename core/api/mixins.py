"""Write plumbing for API resources that are not tickets (users, change templates, rules, macros).

TicketViewSet reads each ticket kind's declared services (core.ticket_services); the other resources
written through a service declare theirs on the viewset with ServiceWritesMixin.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar


class ServiceWritesMixin:
    """POST, PUT/PATCH and DELETE of a ModelViewSet go through the app's services, never through
    `serializer.save()` or `instance.delete()`, so an API write is checked and audited as any other.

    `save_service(*, actor, data, <instance_kw>=record)` creates (no record given) or edits. DELETE calls
    `delete_service(record, *, actor)`; a resource that is retired instead of deleted (what refers to it
    keeps its history) leaves `delete_service` unset and names `retire_data`, which DELETE saves through
    `save_service`. Declare the services with `staticmethod(...)`.
    """

    save_service: ClassVar[Callable[..., Any]]
    delete_service: ClassVar[Callable[..., Any] | None] = None
    instance_kw: ClassVar[str] = "instance"
    retire_data: ClassVar[dict[str, Any]] = {}

    def perform_create(self, serializer):
        serializer.instance = self.save_service(actor=self.request.user, data=dict(serializer.validated_data))

    def perform_update(self, serializer):
        serializer.instance = self.save_service(
            actor=self.request.user,
            data=dict(serializer.validated_data),
            **{self.instance_kw: serializer.instance},
        )

    def perform_destroy(self, instance):
        if self.delete_service is not None:
            self.delete_service(instance, actor=self.request.user)
        else:
            self.save_service(
                actor=self.request.user, data=dict(self.retire_data), **{self.instance_kw: instance}
            )
