"""Demo changes, a standard change template and a blackout window (idempotent)."""

from datetime import timedelta

from django.utils import timezone

from cmdb.models import ConfigurationItem

from .conflicts import detect_conflicts
from .models import BlackoutWindow, Change, ChangeTemplate
from .services import change_create, change_transition


def load(*, users, groups) -> None:
    template, _ = ChangeTemplate.objects.get_or_create(
        name="Restart the shop web app",
        defaults={
            "short_description": "Rolling restart of the shop web app",
            "implementation_plan": "Drain one node at a time from the load balancer, restart, re-add.",
            "backout_plan": "Re-add the node without restarting.",
            "test_plan": "Check https://shop.example.com answers 200 after each node.",
            "risk": "low",
            "assignment_group": groups.get("service-desk"),
        },
    )
    if Change.objects.filter(short_description__startswith="[demo]").exists():
        return
    carol, dave, erin = users["carol"], users["dave"], users["erin"]
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    cis = {
        ci.name: ci
        for ci in ConfigurationItem.objects.filter(name__in=["srv-db-01", "shopdb", "Shop web app"])
    }
    BlackoutWindow.objects.get_or_create(
        name="[demo] Month-end close",
        defaults={
            "start": now + timedelta(days=20),
            "end": now + timedelta(days=22),
            "reason": "Finance close",
        },
    )
    patch = change_create(
        actor=carol,
        short_description="[demo] Patch srv-db-01 kernel",
        planned_start=now + timedelta(days=3),
        planned_end=now + timedelta(days=3, hours=2),
        implementation_plan="Fail over shopdb, patch, reboot, fail back.",
        backout_plan="Boot the previous kernel from GRUB.",
        test_plan="Check shopdb replication lag and the shop's health page.",
        risk_answers={"production": True, "downtime": False, "untested": False},
        cab_approvers=[dave, erin],
        assignment_group=groups.get("database"),
        configuration_items=[cis["srv-db-01"]] if "srv-db-01" in cis else [],
    )
    change_transition(patch, to="assess", actor=carol)
    change_transition(patch, to="authorize", actor=carol)
    restart = change_create(
        actor=carol,
        template=template,
        planned_start=now + timedelta(days=1),
        planned_end=now + timedelta(days=1, hours=1),
        configuration_items=[cis["Shop web app"]] if "Shop web app" in cis else [],
    )
    # The demo incidents may sit on the shop's CIs: schedule with a recorded override, as a manager would.
    override = {"override_conflicts": True, "override_reason": "Routine restart; the incident is unrelated."}
    change_transition(
        restart, to="scheduled", actor=carol, fields=override if detect_conflicts(restart) else {}
    )
