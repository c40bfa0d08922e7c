from django.apps import AppConfig

from core import events


class AutomationConfig(AppConfig):
    name = "automation"
    verbose_name = "Automation"

    def ready(self) -> None:
        # Event rules follow every ticket write through core.events, inside the writing transaction and
        # after the other listeners (SLA timers, outbox rows): core never imports this app.
        # Imported here, not at the top: the engine imports models, which are loaded only after every
        # app's config (Django's app loading order, not a cycle).
        from .engine import on_event

        events.on_change(on_event)
