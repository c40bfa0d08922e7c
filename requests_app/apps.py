from django.apps import AppConfig


class RequestsAppConfig(AppConfig):
    name = "requests_app"
    verbose_name = "Service requests"

    def ready(self) -> None:
        # An approver's decision moves the request on (requests_app.services.request_approval_decided).
        # Imported here, not at the top: each of these imports models, which cannot load while apps.py
        # itself is being imported.
        from core.approvals import register_decision_handler

        from .models import Request
        from .services import request_approval_decided

        register_decision_handler(Request, request_approval_decided)
