from django.apps import AppConfig

from core.perf import strict_json


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Shared ticket core"

    def ready(self):
        strict_json.install()
