"""Bulk load realistic incidents (and CIs) for benchmarks: `generate_load_data --incidents 1000000 --cis 100000`.

Additive, never destructive: every run adds new rows (numbers come from the INC sequence through
core.numbering.next_numbers, CI names carry a run tag), and reuses the `load-*` groups, agents and callers
it created before. Rows go in with PostgreSQL COPY in batches, which is what makes a million rows take
minutes rather than hours; services are bypassed on purpose, so these rows have no timeline, no SLA timers
and send no events (they are for measuring reads and list pages, not for demos).

Spread: ~72% closed, 8% resolved, 4% canceled, 7% new, 6% in progress, 3% on hold; priorities from an
impact/urgency mix where P1 is rare; opened over the last two years; 20 groups of 10 agents; ~30% of
incidents link one CI when CIs exist.
"""

from __future__ import annotations

import random
import time
from datetime import timedelta

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import AssignmentGroup
from accounts.roles import AGENT, ensure_role_groups
from core.numbering import next_numbers
from incidents.choices import PRIORITY_MATRIX
from incidents.demo import CATEGORIES
from incidents.models import Category

STATES = [
    ("closed", 72),
    ("resolved", 8),
    ("canceled", 4),
    ("new", 7),
    ("in_progress", 6),
    ("on_hold", 3),
]
IMPACT_URGENCY = [((3, 3), 30), ((3, 2), 20), ((2, 3), 15), ((2, 2), 15), ((3, 1), 5), ((1, 3), 5), ((2, 1), 5), ((1, 2), 3), ((1, 1), 2)]  # fmt: skip
HOLD_REASONS = ["awaiting_caller", "awaiting_change", "awaiting_problem", "awaiting_vendor"]
RESOLUTION_CODES = ["solved", "solved", "solved", "workaround", "duplicate", "not_reproducible", "user_error"]
SUBJECTS = [
    "VPN drops every few minutes",
    "Cannot log in to the mail client",
    "Printer on floor {n} jams",
    "Laptop will not boot after update",
    "Finance report times out",
    "Database {n} replication lag alert",
    "Website returns 502 for some users",
    "Password reset link does not arrive",
    "Disk almost full on server {n}",
    "Slow network in building {n}",
    "Wi-Fi keeps disconnecting in meeting room {n}",
    "Payroll application shows an error",
]
CI_CLASSES = ["business_service", "application", "database", "server", "virtual_machine", "network_device", "storage"]  # fmt: skip
BATCH = 50_000


def weighted(pairs):
    values, weights = zip(*pairs, strict=True)
    return values, weights


class Command(BaseCommand):
    help = "Bulk-load realistic incidents and CIs (additive) for benchmarks."

    def add_arguments(self, parser):
        parser.add_argument("--incidents", type=int, default=10_000)
        parser.add_argument("--cis", type=int, default=0)
        parser.add_argument("--groups", type=int, default=20)
        parser.add_argument("--agents-per-group", type=int, default=10)
        parser.add_argument("--callers", type=int, default=500)
        parser.add_argument("--seed", type=int, default=None, help="Random seed (repeatable spreads)")

    def handle(self, *args, **options):
        if options["incidents"] < 0 or options["cis"] < 0:
            raise CommandError("--incidents and --cis must be zero or more.")
        rng = random.Random(options["seed"])  # noqa: S311 — load data, not security
        started = time.monotonic()
        groups = self.ensure_groups(options["groups"], options["agents_per_group"])
        callers = self.ensure_callers(options["callers"])
        categories = self.ensure_categories()
        ci_ids = self.load_cis(options["cis"], groups, rng) if options["cis"] else []
        if not ci_ids and apps.is_installed("cmdb"):
            ci_ids = list(
                apps.get_model("cmdb", "ConfigurationItem").objects.values_list("pk", flat=True)[:100_000]
            )
        created = self.load_incidents(options["incidents"], groups, callers, categories, ci_ids, rng)
        # VACUUM sets the visibility map, which is what lets counts run index-only (a bulk COPY leaves it
        # empty until autovacuum passes, and autovacuum may be off on a benchmark box). VACUUM cannot run
        # inside a transaction (a test's atomic block): plain ANALYZE then.
        analyze = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
        with connection.cursor() as cursor:
            cursor.execute(f"{analyze} incidents_incident")
            cursor.execute(f"{analyze} incidents_incident_configuration_items")
        self.stdout.write(
            self.style.SUCCESS(
                f"Added {created} incidents and {options['cis']} CIs in {time.monotonic() - started:.1f}s."
            )
        )

    # --- reference data (reused across runs) -----------------------------------------------------------
    def ensure_groups(self, count: int, per_group: int) -> list[tuple[int, list[int]]]:
        User = get_user_model()
        ensure_role_groups()  # a flushed database (transactional tests, benchmarks) lost the migration's
        agent_role = Group.objects.get(name=AGENT)
        password = make_password(None)
        result = []
        for g in range(count):
            group, _ = AssignmentGroup.objects.get_or_create(name=f"load-group-{g:02d}")
            names = [f"load-agent-{g:02d}-{a:02d}" for a in range(per_group)]
            existing = set(User.objects.filter(username__in=names).values_list("username", flat=True))
            User.objects.bulk_create(
                [
                    User(username=n, password=password, email=f"{n}@example.com")
                    for n in names
                    if n not in existing
                ]
            )
            members = list(User.objects.filter(username__in=names))
            group.members.add(*members)
            agent_role.user_set.add(*members)
            result.append((group.pk, [m.pk for m in members]))
        return result

    def ensure_callers(self, count: int) -> list[int]:
        User = get_user_model()
        names = [f"load-caller-{i:04d}" for i in range(count)]
        existing = set(User.objects.filter(username__in=names).values_list("username", flat=True))
        password = make_password(None)
        User.objects.bulk_create(
            [
                User(username=n, password=password, email=f"{n}@example.com")
                for n in names
                if n not in existing
            ]
        )
        return list(User.objects.filter(username__in=names).values_list("pk", flat=True))

    def ensure_categories(self) -> list[int]:
        for name, label in CATEGORIES:
            Category.objects.get_or_create(name=name, defaults={"label": label})
        return list(Category.objects.filter(active=True).values_list("pk", flat=True))

    # --- CIs -------------------------------------------------------------------------------------------
    def load_cis(self, count: int, groups, rng) -> list[int]:
        if not apps.is_installed("cmdb"):
            self.stdout.write("cmdb is not installed: no CIs created.")
            return []
        CIClass = apps.get_model("cmdb", "CIClass")
        classes = dict(CIClass.objects.filter(name__in=CI_CLASSES).values_list("name", "pk"))
        if not classes:
            self.stdout.write("No default CI classes exist: no CIs created.")
            return []
        tag = timezone.now().strftime("%Y%m%d%H%M%S")
        now = timezone.now()
        class_names = list(classes)
        weights = [2 if c in ("business_service", "application") else 10 for c in class_names]
        with transaction.atomic(), connection.cursor() as cursor:
            raw = cursor.cursor
            cursor.execute("SELECT COALESCE(MAX(id), 0) FROM cmdb_configurationitem")
            first_id = cursor.fetchone()[0]
            columns = "name, status, environment, serial_number, attributes, description, created_at, updated_at, ci_class_id, support_group_id"  # noqa: E501
            with raw.copy(f"COPY cmdb_configurationitem ({columns}) FROM STDIN") as copy:
                for i in range(count):
                    ci_class = rng.choices(class_names, weights)[0]
                    copy.write_row(
                        (
                            f"load-{ci_class}-{tag}-{i:06d}",
                            rng.choices(["in_service", "maintenance", "planned", "retired"], [85, 5, 5, 5])[
                                0
                            ],
                            rng.choices(["production", "staging", "test", "development"], [60, 15, 15, 10])[
                                0
                            ],
                            "",
                            "{}",
                            "",
                            now,
                            now,
                            classes[ci_class],
                            rng.choice(groups)[0],
                        )
                    )
            cursor.execute("SELECT id FROM cmdb_configurationitem WHERE id > %s ORDER BY id", [first_id])
            ids = [row[0] for row in cursor.fetchall()]
        self.stdout.write(f"  {len(ids)} CIs")
        return ids

    # --- incidents -------------------------------------------------------------------------------------
    def load_incidents(self, count, groups, callers, categories, ci_ids, rng) -> int:
        states, state_weights = weighted(STATES)
        matrix, matrix_weights = weighted(IMPACT_URGENCY)
        now = timezone.now()
        two_years = 2 * 365 * 24 * 3600
        opener_pool = [pk for _, members in groups for pk in members]
        columns = (
            "number, short_description, description, state, priority, opened_at, updated_at, version, impact, "
            "urgency, major, hold_reason, resolution_code, resolution_notes, resolved_at, closed_at, "
            "assigned_to_id, assignment_group_id, caller_id, category_id, opened_by_id"
        )
        done = 0
        while done < count:
            size = min(BATCH, count - done)
            numbers = next_numbers("INC", size)
            links: list[tuple[str, int]] = []
            with transaction.atomic(), connection.cursor() as cursor:
                with cursor.cursor.copy(f"COPY incidents_incident ({columns}) FROM STDIN") as copy:
                    for number in numbers:
                        state = rng.choices(states, state_weights)[0]
                        impact, urgency = rng.choices(matrix, matrix_weights)[0]
                        priority = PRIORITY_MATRIX[impact][urgency]
                        # Open incidents are recent; closed ones spread over two years.
                        age = rng.random() * (two_years if state in ("closed", "canceled") else 30 * 86400)
                        opened = now - timedelta(seconds=age)
                        group_id, members = rng.choice(groups)
                        assigned = None if state == "new" and rng.random() < 0.6 else rng.choice(members)
                        resolved_at = closed_at = None
                        code = notes = ""
                        if state in ("resolved", "closed"):
                            resolved_at = opened + timedelta(seconds=min(age, rng.random() * 5 * 86400))
                            code, notes = rng.choice(RESOLUTION_CODES), "Fixed and confirmed with the caller."
                        if state == "closed":
                            closed_at = resolved_at + timedelta(days=7)
                        subject = rng.choice(SUBJECTS).format(n=rng.randint(1, 40))
                        copy.write_row(
                            (
                                number,
                                subject,
                                f"{subject}. Reported by phone.",
                                state,
                                priority,
                                opened,
                                closed_at or resolved_at or opened,
                                1,
                                impact,
                                urgency,
                                priority == 1 and rng.random() < 0.2,
                                rng.choice(HOLD_REASONS) if state == "on_hold" else "",
                                code,
                                notes,
                                resolved_at,
                                closed_at,
                                assigned,
                                group_id,
                                rng.choice(callers),
                                rng.choice(categories),
                                rng.choice(opener_pool),
                            )
                        )
                        if ci_ids and rng.random() < 0.3:
                            links.append((number, rng.choice(ci_ids)))
                if links:
                    cursor.execute(
                        "SELECT number, id FROM incidents_incident WHERE number = ANY(%s)",
                        [[n for n, _ in links]],
                    )
                    ids = dict(cursor.fetchall())
                    with cursor.cursor.copy(
                        "COPY incidents_incident_configuration_items (incident_id, configurationitem_id) FROM STDIN"
                    ) as copy:
                        for number, ci in links:
                            copy.write_row((ids[number], ci))
            done += size
            self.stdout.write(f"  {done}/{count} incidents")
        return done
