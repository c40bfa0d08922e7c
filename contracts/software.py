"""Software installations from the CMDB import (SPEC §8): normalised titles and versions, the GLPI
inventory reader, and the reconciliation of a CI's installations with what an import reports.

cmdb.importer calls in here twice, and only here: `inventory_payload` turns a GLPI agent inventory (one
computer, or a list of them) into the importer's `{"cis": [...]}` with each computer's `softwares` as a
`software` list; `SoftwareBatch` collects every imported CI row that carries a `software` list and, once
per window of rows, reconciles them in a few queries: new installations are created, those no longer
reported are ended (`ended_at`), unchanged ones cost nothing. Every change is a CI history row (source
"import"), so the CI page says when a package came and went.

Each title keeps the number of distinct CIs it is installed on (`Software.installed_cis`, what the
compliance report reads): moved here, in the transaction that starts or ends installations, under one
advisory lock that every writer of installations takes (`lock_usage`); `usage_drift` recounts them, and
`fix_usage_drift` corrects them (`manage.py check_software_usage`, the daily beat task).
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from cmdb.models import CIChange

from .models import Installation, Software

_SPACES = re.compile(r"\s+")
_PUBLISHER_SUFFIX = re.compile(
    r"[\s,]+(inc\.?|incorporated|corp\.?|corporation|ltd\.?|limited|llc|gmbh|s\.?a\.?|co\.?)$", re.I
)
_TRAILING_ZERO = re.compile(r"^(\d+\.\d+(?:\.\d+)*?)(?:\.0+)+$")


def normalize_text(value: Any) -> str:
    return _SPACES.sub(" ", str(value or "")).strip()


def normalize_version(value: Any) -> str:
    """`v1.2.0 ` and `1.2` are the same version: whitespace, a leading "v" and trailing ".0" parts
    beyond major.minor go."""
    text = normalize_text(value)
    if len(text) > 1 and text[0] in "vV" and text[1].isdigit():
        text = text[1:]
    match = _TRAILING_ZERO.match(text)
    if match:
        text = match.group(1)
    return text[:100]


def normalize_publisher(value: Any) -> str:
    text = normalize_text(value).rstrip(".,")
    previous = None
    while previous != text:
        previous, text = text, _PUBLISHER_SUFFIX.sub("", text).strip()
    return text


def software_key(name: Any, publisher: Any) -> str:
    """The catalog's identity of a title: case-folded name and publisher without legal suffixes, so
    "Mozilla Firefox"/"Mozilla Corporation" and "mozilla firefox"/"Mozilla" are one title."""
    return f"{normalize_text(name).casefold()}|{normalize_publisher(publisher).casefold()}"[:420]


# --- GLPI agent inventories ------------------------------------------------------------------------------
def _is_inventory(item: Any) -> bool:
    return (
        isinstance(item, dict)
        and isinstance(item.get("content"), dict)
        and bool({"hardware", "bios", "softwares"} & set(item["content"]))
    )


def inventory_payload(payload: Any) -> Any:
    """A GLPI agent inventory (or a list of them) as `{"cis": [...]}`; any other payload unchanged."""
    if _is_inventory(payload):
        return {"cis": [inventory_row(payload)]}
    if isinstance(payload, list) and payload and all(_is_inventory(item) for item in payload):
        return {"cis": [inventory_row(item) for item in payload]}
    return payload


def inventory_row(inventory: dict) -> dict[str, Any]:
    """One computer of a GLPI inventory as an importer row: name, serial, a few attributes, software."""
    content = inventory["content"]
    hardware = content.get("hardware") if isinstance(content.get("hardware"), dict) else {}
    bios = content.get("bios") if isinstance(content.get("bios"), dict) else {}
    system = content.get("operatingsystem") if isinstance(content.get("operatingsystem"), dict) else {}
    row: dict[str, Any] = {
        "name": normalize_text(hardware.get("name") or inventory.get("deviceid")),
        "ci_class": "server",
    }
    serial = normalize_text(bios.get("ssn"))
    if serial:
        row["serial_number"] = serial
    attributes: dict[str, Any] = {}
    os_name = normalize_text(system.get("full_name") or system.get("name"))
    if os_name:
        attributes["os"] = os_name
    if isinstance(hardware.get("memory"), int | float) and hardware["memory"] > 0:
        attributes["memory_gb"] = round(hardware["memory"] / 1024, 1)
    manufacturer = normalize_text(bios.get("smanufacturer") or bios.get("mmanufacturer"))
    if manufacturer:
        attributes["manufacturer"] = manufacturer
    row["attributes"] = attributes
    if "softwares" in content:
        row["software"] = content["softwares"]
    return row


# --- reconciliation --------------------------------------------------------------------------------------
def parse_entries(raw: Any) -> tuple[set[tuple[str, str, str, str]], list[str]]:
    """The (key, name, publisher, version) a row reports, and a reason per entry that cannot be read."""
    if isinstance(raw, str):  # a CSV cell: names separated by ";"
        raw = [part for part in raw.split(";") if part.strip()]
    if not isinstance(raw, list):
        return set(), ["software: must be a list of {name, version, publisher}."]
    found: set[tuple[str, str, str, str]] = set()
    errors = []
    for position, entry in enumerate(raw, start=1):
        if isinstance(entry, str):
            entry = {"name": entry}
        if not isinstance(entry, dict):
            errors.append(f"software[{position}]: must be an object with a name.")
            continue
        name = normalize_text(entry.get("name"))[:200]
        if not name:
            errors.append(f"software[{position}]: name: required.")
            continue
        publisher = normalize_text(entry.get("publisher"))[:200]
        found.add((software_key(name, publisher), name, publisher, normalize_version(entry.get("version"))))
    return found, errors


def resolve_titles(entries: set[tuple[str, str, str]]) -> dict[str, int]:
    """Software ids by key for (key, name, publisher) entries, adding the missing titles in one INSERT."""
    keys = {key for key, _name, _publisher in entries}
    ids: dict[str, int] = {}
    for start in range(0, len(keys), 5000):
        chunk = sorted(keys)[start : start + 5000]
        ids.update(Software.objects.filter(key__in=chunk).values_list("key", "id"))
    missing = {key: (name, publisher) for key, name, publisher in entries if key not in ids}
    if missing:
        Software.objects.bulk_create(
            [Software(key=key, name=name, publisher=publisher) for key, (name, publisher) in missing.items()],
            ignore_conflicts=True,
        )
        ids.update(Software.objects.filter(key__in=list(missing)).values_list("key", "id"))
    return ids


class SoftwareBatch:
    """The CI rows of one import window that carry a `software` list, reconciled together by `flush`."""

    def __init__(self, *, actor, source: str):
        self.actor, self.source = actor, source
        self.pending: list[tuple[int, str, Any, Any]] = []  # (row, section, CI object, raw list)
        self.counts = {"installed": 0, "ended": 0, "unchanged": 0}

    def add(self, number: int, section: str, ci, raw: Any) -> None:
        self.pending.append((number, section, ci, raw))

    def flush(self, report) -> None:
        pending, self.pending = self.pending, []
        rows = [(number, section, ci, raw) for number, section, ci, raw in pending if ci.pk is not None]
        if not rows:
            return
        wanted: dict[int, set[tuple[str, str]]] = {}
        names: dict[int, str] = {}
        titles: set[tuple[str, str, str]] = set()
        for number, _section, ci, raw in rows:
            entries, errors = parse_entries(raw)
            for reason in errors:
                report.add(number, "software", "failed", ci=ci.pk, reason=reason)
            wanted.setdefault(ci.pk, set()).update((key, version) for key, _n, _p, version in entries)
            names[ci.pk] = ci.name
            titles.update((key, name, publisher) for key, name, publisher, _v in entries)
        with transaction.atomic():
            ids = resolve_titles(titles)
            self._apply(wanted, names, ids)

    def _apply(self, wanted: dict[int, set[tuple[str, str]]], names: dict[int, str], ids: dict[str, int]):
        desired = {ci_id: {(ids[key], version) for key, version in pairs} for ci_id, pairs in wanted.items()}
        current = _current(list(desired))
        changed = [ci_id for ci_id, pairs in desired.items() if pairs != set(current.get(ci_id, {}))]
        self.counts["unchanged"] += sum(
            len(desired[ci_id] & set(current.get(ci_id, {}))) for ci_id in desired if ci_id not in changed
        )
        if not changed:
            return  # an unchanged re-import stops here: no lock, no write
        # Installations will change: serialise with the other writers of installations (and of the
        # titles' counts), then read these CIs' installations again, now that nobody else can move them.
        lock_usage()
        current = _current(changed)
        now = timezone.now()
        new: list[Installation] = []
        ended: list[int] = []
        changes: list[tuple[int, str, int, str]] = []  # (CI, installed | uninstalled, software, version)
        deltas: dict[int, int] = defaultdict(int)  # software id -> change of its installed_cis
        for ci_id in changed:
            want, have = desired[ci_id], current.get(ci_id, {})
            for software_id, version in sorted(want - set(have)):
                new.append(
                    Installation(ci_id=ci_id, software_id=software_id, version=version, installed_at=now)
                )
                changes.append((ci_id, "installed", software_id, version))
            for pair in sorted(set(have) - want):
                ended.append(have[pair])
                changes.append((ci_id, "uninstalled", *pair))
            self.counts["unchanged"] += len(want & set(have))
            before = {software_id for software_id, _version in have}
            after = {software_id for software_id, _version in want}
            for software_id in after - before:
                deltas[software_id] += 1
            for software_id in before - after:
                deltas[software_id] -= 1
        if not changes:
            return
        labels = dict(
            Software.objects.filter(pk__in={change[2] for change in changes}).values_list("id", "name")
        )
        actor = self.actor if getattr(self.actor, "pk", None) else None
        history = []
        for ci_id, action, software_id, version in changes:
            # Shown as is in the CI's history ("Zabbix Agent 7.0"), like other fields' values.
            value = f"{labels.get(software_id, software_id)} {version}".strip()
            history.append(
                CIChange(
                    ci_id=ci_id,
                    ci_name=names[ci_id],
                    actor=actor,
                    actor_name=getattr(self.actor, "username", "") or "",
                    action=action,
                    field="software",
                    old_value=value if action == "uninstalled" else None,
                    new_value=value if action == "installed" else None,
                    source=self.source,
                    changed_at=now,
                )
            )
        if new:
            Installation.objects.bulk_create(new, batch_size=5000)
        if ended:
            Installation.objects.filter(pk__in=ended).update(ended_at=now)
        add_usage(deltas)
        CIChange.objects.bulk_create(history, batch_size=5000)
        self.counts["installed"] += len(new)
        self.counts["ended"] += len(ended)


def _current(ci_ids: list[int]) -> dict[int, dict[tuple[int, str], int]]:
    """The current installations of these CIs: {CI: {(software, version): installation id}}."""
    current: dict[int, dict[tuple[int, str], int]] = defaultdict(dict)
    for pk, ci_id, software_id, version in Installation.objects.filter(
        ci_id__in=ci_ids, ended_at__isnull=True
    ).values_list("id", "ci_id", "software_id", "version"):
        current[ci_id][(software_id, version)] = pk
    return current


# --- the titles' kept counts (Software.installed_cis) ----------------------------------------------------
# Every writer of installations takes this transaction-level advisory lock before it reads what it will
# change, so two imports cannot both count the same CI, and counts are updated in one order: no deadlock.
_USAGE_LOCK = 0x1C0_23_5F7


def lock_usage() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_USAGE_LOCK])


def add_usage(deltas: dict[int, int]) -> None:
    """Move the titles' `installed_cis` by `deltas` ({software id: +n / -n}), in one UPDATE; call it
    under `lock_usage()`, in the transaction that starts or ends the installations."""
    pairs = sorted((software_id, delta) for software_id, delta in deltas.items() if delta)
    if not pairs:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE contracts_software AS s SET installed_cis = GREATEST(s.installed_cis + d.delta, 0)
            FROM unnest(%s::bigint[], %s::integer[]) AS d(id, delta)
            WHERE s.id = d.id
            """,
            [[software_id for software_id, _d in pairs], [delta for _s, delta in pairs]],
        )


def forget_ci(ci_id: int) -> None:
    """Before a CI is deleted (its installations go with it): its titles count one CI less."""
    lock_usage()
    titles = set(
        Installation.objects.filter(ci_id=ci_id, ended_at__isnull=True).values_list("software_id", flat=True)
    )
    add_usage({software_id: -1 for software_id in titles})


_RECOUNT = """
    SELECT s.id, s.installed_cis, COALESCE(c.n, 0)
    FROM contracts_software AS s
    LEFT JOIN (
        SELECT software_id, count(DISTINCT ci_id) AS n
        FROM contracts_installation WHERE ended_at IS NULL GROUP BY software_id
    ) AS c ON c.software_id = s.id
    WHERE s.installed_cis <> COALESCE(c.n, 0)
    ORDER BY s.id
"""


def usage_drift() -> list[tuple[int, int, int]]:
    """The reconciliation check: (software id, kept count, recounted) of every title whose kept
    `installed_cis` differs from a count of its current installations. Empty when all is well. It is the
    grouped count the kept numbers spare the report (about a second at 2,000,000 installations)."""
    with connection.cursor() as cursor:
        cursor.execute(_RECOUNT)
        return [tuple(row) for row in cursor.fetchall()]


@transaction.atomic
def fix_usage_drift() -> list[tuple[int, int, int]]:
    """Set every drifted count to the recount (under the writers' lock); returns what was wrong."""
    lock_usage()
    drift = usage_drift()
    add_usage({software_id: counted - kept for software_id, kept, counted in drift})
    return drift
