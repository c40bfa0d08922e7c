from django.apps import AppConfig

from core import events


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = "Incidents"

    def ready(self) -> None:
        # Imported here, not at the top: correlation imports models, which are loaded only after every
        # app's config (Django's app loading order, not a cycle).
        from . import correlation

        events.after_commit(correlation.on_incident_event)
