from django.apps import AppConfig


class AutomationConfig(AppConfig):
    name = "automation"
    verbose_name = "Automation"

    def ready(self) -> None:
        # Event rules follow every ticket write through core.events, inside the writing transaction and
        # after the other listeners (SLA timers, outbox rows): core never imports this app.
        from core import events

        from .engine import on_event

        events.on_change(on_event)
