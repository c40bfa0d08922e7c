from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Shared ticket core"

    def ready(self):
        from core.perf import strict_json

        strict_json.install()
