from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "sla"
    verbose_name = "SLAs and escalations"

    def ready(self) -> None:
        # Timers follow every ticket kind through core.events, inside the writing transaction.
        from core import events

        from .engine import on_ticket_change

        events.on_change(on_ticket_change)
