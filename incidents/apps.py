from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = "Incidents"

    def ready(self) -> None:
        from core import events

        from . import correlation

        events.after_commit(correlation.on_incident_event)
