from django.apps import AppConfig

from core import events
from core.extensions import provide


class SlaConfig(AppConfig):
    name = "sla"
    verbose_name = "SLAs and escalations"

    def ready(self) -> None:
        # Timers follow every ticket kind through core.events, inside the writing transaction. (The imports
        # here are not at the top: each imports the models, which cannot load while apps.py is imported.)
        from .engine import on_ticket_change

        events.on_change(on_ticket_change)

        # What core shows of SLAs on every ticket: the list row's countdown and the API's `sla_timers`.
        from .api.serializers import TimerSerializer
        from .selectors import at_risk, ticket_timers

        provide("ticket_timers", ticket_timers)
        provide("timer_serializer", TimerSerializer)
        provide("at_risk_tickets", at_risk)
