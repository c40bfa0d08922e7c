"""`{% sla_timers record as timers %}` and `{% sla_history record as rows %}` for ticket pages."""

from django import template

from sla import selectors

register = template.Library()


@register.simple_tag
def sla_timers(record):
    return selectors.ticket_timers(record) if record is not None and record.pk else []


@register.simple_tag
def sla_history(record):
    return list(selectors.sla_history(record)) if record is not None and record.pk else []
