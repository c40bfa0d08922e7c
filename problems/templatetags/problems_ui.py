"""Template helpers for problem includes used on other apps' pages (the incident page)."""

from django import template

from problems.selectors import known_errors_for_cis

register = template.Library()


@register.simple_tag
def known_errors_for(cis, limit: int = 10) -> list:
    """`{% known_errors_for cis as known_errors %}`: open known errors on those CIs (or CI ids)."""
    ids = [getattr(ci, "pk", ci) for ci in (cis.all() if hasattr(cis, "all") else cis or [])]
    return list(known_errors_for_cis(ids)[:limit])
