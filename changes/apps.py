from django.apps import AppConfig


class ChangesConfig(AppConfig):
    name = "changes"
    verbose_name = "Changes"

    def ready(self) -> None:
        # A CAB decision schedules or returns the change (changes.services.approval_decided). Imported
        # here, not at the top: these import models, which are loaded only after every app's config
        # (Django's app loading order, not a cycle).
        from core.approvals import register_decision_handler

        from .models import Change
        from .services import approval_decided

        register_decision_handler(Change, approval_decided)
