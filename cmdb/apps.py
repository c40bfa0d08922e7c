from django.apps import AppConfig


class CmdbConfig(AppConfig):
    name = "cmdb"
    verbose_name = "CMDB"

    def ready(self) -> None:
        # Ticket forms and the API resolve CI ids only among the CIs the caller may read.
        from core.extensions import provide

        from .selectors import autocomplete_cis, visible_cis

        provide("visible_cis", visible_cis)
        provide("autocomplete_cis", autocomplete_cis)  # the CI pickers (core.pickers)
