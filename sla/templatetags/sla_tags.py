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


@register.simple_tag
def sla_primary(record):
    """The most urgent timer of a list row, for `{{ timer|sla_badge }}`; prefetch `sla_timers` (with
    `sla_timers__definition__calendar__hours` / `__holidays`) on the list queryset to keep its query
    count fixed."""
    timers = sla_timers(record)
    return timers[0] if timers else None
