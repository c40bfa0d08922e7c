"""Panels other apps' pages include: the contracts covering a ticket's CIs (incidents, changes) or a
CI, and the software on a CI. Each is one query, and nothing for users who may not read contracts."""

from django import template

from accounts.roles import is_workspace_user

from .. import selectors

register = template.Library()

SOFTWARE_PANEL_LIMIT = 50


@register.inclusion_tag("contracts/coverage_panel.html", takes_context=True)
def ticket_contracts_panel(context, record):
    """Contracts in force covering the record's CIs ("Covered by CTR… (Acme support, +1 555 0100) until …")."""
    user = context["request"].user
    if not is_workspace_user(user):
        return {"contracts": [], "hidden": True}
    ci_ids = [ci.pk for ci in record.configuration_items.all()]
    contracts = selectors.contracts_for_cis(ci_ids) if ci_ids else []
    return {"contracts": contracts, "empty_text": "No contract covers these configuration items."}


@register.inclusion_tag("contracts/coverage_panel.html", takes_context=True)
def ci_contracts_panel(context, ci):
    user = context["request"].user
    if not is_workspace_user(user):
        return {"contracts": [], "hidden": True}
    return {
        "contracts": selectors.contracts_for_cis([ci.pk]),
        "empty_text": "No contract in force covers this CI.",
    }


@register.inclusion_tag("contracts/ci_software_panel.html", takes_context=True)
def ci_software_panel(context, ci):
    user = context["request"].user
    if not is_workspace_user(user):
        return {"installations": [], "hidden": True}
    rows = list(selectors.installations_of_ci(ci)[: SOFTWARE_PANEL_LIMIT + 1])
    more = len(rows) > SOFTWARE_PANEL_LIMIT
    return {"installations": rows[:SOFTWARE_PANEL_LIMIT], "more": more}
