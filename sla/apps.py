from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "sla"
    verbose_name = "SLAs and escalations"

    def ready(self) -> None:
        # Timers follow every ticket kind through core.events, inside the writing transaction.
        from core import events

        from .engine import on_ticket_change

        events.on_change(on_ticket_change)

        # What core shows of SLAs on every ticket: the list row's countdown and the API's `sla_timers`.
        from core.extensions import provide

        from .api.serializers import TimerSerializer
        from .selectors import at_risk, ticket_timers

        provide("ticket_timers", ticket_timers)
        provide("timer_serializer", TimerSerializer)
        provide("at_risk_tickets", at_risk)
