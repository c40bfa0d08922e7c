from django.apps import AppConfig

from core import events
from core.breaker import BROKER


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Integrations"

    def ready(self) -> None:
        # Imported here, not at the top: both import models, which are loaded only after every app's
        # config (Django's app loading order, not a cycle).
        from . import listeners, tasks

        events.on_change(listeners.persist_outbox)
        events.after_commit(listeners.enqueue_outbox)
        # When the broker comes back, send what its outage left pending now, not at the next beat sweep.
        BROKER.on_recovery.append(tasks.drain_outbox_soon)
