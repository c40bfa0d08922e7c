"""`{% suggested_articles record as suggestions %}` for templates/knowledge/suggestions.html."""

from django import template

from knowledge.permissions import can_author
from knowledge.selectors import suggest_for_record

register = template.Library()


@register.simple_tag(takes_context=True)
def suggested_articles(context, record, limit: int = 5) -> dict:
    request = context.get("request")
    user = getattr(request, "user", None)
    if record is None or user is None:
        return {"items": [], "can_link": False, "can_resolve": False}
    is_open_incident = getattr(record, "KIND", "") == "incident" and getattr(record, "is_open", False)
    return {
        "items": suggest_for_record(record, user, limit=limit),
        "can_link": can_author(user),
        "can_resolve": can_author(user) and is_open_incident,
    }
