"""Demo incidents (idempotent: skipped when demo incidents already exist)."""

from cmdb.models import ConfigurationItem

from .models import Category, Incident
from .services import incident_create, incident_transition

CATEGORIES = [
    ("network", "Network"),
    ("hardware", "Hardware"),
    ("software", "Software"),
    ("access", "Access and accounts"),
    ("database", "Database"),
]


def load(*, users, groups) -> None:
    categories = {}
    for name, label in CATEGORIES:
        categories[name], _ = Category.objects.get_or_create(name=name, defaults={"label": label})
    if Incident.objects.filter(short_description__startswith="[demo]").exists():
        return
    alice, rita, sam = users["alice"], users["rita"], users["sam"]
    cis = list(ConfigurationItem.objects.order_by("pk")[:2])
    vpn = incident_create(
        actor=rita,
        short_description="[demo] VPN drops every 10 minutes",
        impact=2,
        urgency=1,
        category=categories["network"],
        assignment_group=groups["network"],
        configuration_items=cis[:1],
        description="Since this morning the VPN client disconnects every ten minutes.",
    )
    incident_transition(vpn, to="in_progress", actor=alice)
    incident_create(
        actor=sam,
        short_description="[demo] Cannot open the finance report",
        impact=3,
        urgency=2,
        category=categories["software"],
        assignment_group=groups["service-desk"],
    )
    printer = incident_create(
        actor=rita,
        short_description="[demo] Printer on floor 2 jams",
        impact=3,
        urgency=3,
        category=categories["hardware"],
        assignment_group=groups["service-desk"],
        assigned_to=alice,
    )
    incident_transition(printer, to="on_hold", actor=alice, fields={"hold_reason": "awaiting_vendor"})
