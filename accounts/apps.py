from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and roles"

    def ready(self):
        # The assignment-group cache (accounts.selectors) registers its invalidation when imported; every
        # process must do so at start, or a group changed by a process that never read the cache (a worker,
        # a management command) would not tell the web processes to reload theirs. Here, not at the top:
        # selectors imports the models, which cannot load while apps.py itself is being imported.
        from . import selectors  # noqa: F401
