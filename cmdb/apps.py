from django.apps import AppConfig

from core.extensions import provide


class CmdbConfig(AppConfig):
    name = "cmdb"
    verbose_name = "CMDB"

    def ready(self) -> None:
        # Ticket forms and the API resolve CI ids only among the CIs the caller may read. Imported here,
        # not at the top: selectors imports the models, which cannot load while apps.py is imported.
        from .selectors import autocomplete_cis, visible_cis

        provide("visible_cis", visible_cis)
        provide("autocomplete_cis", autocomplete_cis)  # the CI pickers (core.pickers)
