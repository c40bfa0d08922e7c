from django.apps import AppConfig

from core.extensions import provide


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Self-service portal"

    def ready(self) -> None:
        # Not at the top: apps.py is imported before the app registry is ready, when models cannot load.
        from .models import SatisfactionSurvey

        provide("survey_model", SatisfactionSurvey)  # what the survey report reads (core.surveys)
