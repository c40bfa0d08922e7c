"""Demo problems (idempotent: skipped when demo problems already exist)."""

from cmdb.models import ConfigurationItem
from incidents.models import Incident

from .models import Problem
from .services import link_incidents, problem_create, problem_transition


def load(*, users, groups) -> None:
    if Problem.objects.filter(short_description__startswith="[demo]").exists():
        return
    alice = users["alice"]
    vpn_cis = list(ConfigurationItem.objects.filter(name="sw-core-01")[:1])
    known = problem_create(
        actor=alice,
        short_description="[demo] VPN sessions drop every 10 minutes",
        description="Several users lose their VPN session at a fixed interval.",
        priority=2,
        assignment_group=groups["network"],
        root_cause="The core switch's session table ages out idle IPsec flows after 600 seconds.",
        workaround="Enable the client's keep-alive (Settings → Connection → Keep-alive every 60 s).",
        known_error=True,
        configuration_items=vpn_cis,
    )
    for to in ("assess", "root_cause_analysis"):
        known = problem_transition(known, to=to, actor=alice)
    vpn_incidents = list(Incident.objects.filter(short_description__startswith="[demo] VPN"))
    if vpn_incidents:
        link_incidents(known, vpn_incidents, actor=alice)
    problem_create(
        actor=alice,
        short_description="[demo] Finance report times out at month end",
        priority=3,
        assignment_group=groups["database"],
    )
