from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Integrations"

    def ready(self) -> None:
        from core import events

        from . import listeners

        events.on_change(listeners.persist_outbox)
        events.after_commit(listeners.enqueue_outbox)
