"""Every read of vendors, contracts, software and licenses, scoped (SPEC §2, §8).

Workspace roles read it all; requesters see none of it: `require_reader` answers 404 for them, as the
rest of the suite does for what a user may not see.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Count, Q
from django.http import Http404
from django.utils import timezone

from accounts.roles import is_workspace_user
from cmdb.models import ConfigurationItem

from .choices import LicenseMetric
from .models import Contract, ContractEvent, Installation, License, Software, Vendor


def require_reader(user) -> None:
    if not (user and user.is_authenticated and is_workspace_user(user)):
        raise Http404("No such page.")


def vendors(user):
    require_reader(user)
    return Vendor.objects.all()


def contracts(user):
    require_reader(user)
    return Contract.objects.select_related("vendor", "owner")


def get_contract(user, number: str) -> Contract:
    contract = contracts(user).filter(number=str(number).upper()).first()
    if contract is None:
        raise Http404("No such contract.")
    return contract


def expiring_within(queryset, days: int, *, today: datetime.date | None = None):
    """Contracts whose end falls within `days` days from today (ended ones excluded)."""
    today = today or timezone.localdate()
    return queryset.filter(end_date__gte=today, end_date__lte=today + datetime.timedelta(days=days))


def contract_history(contract: Contract):
    return ContractEvent.objects.filter(contract=contract).select_related("actor")


def software(user):
    require_reader(user)
    return Software.objects.all()


def licenses(user):
    require_reader(user)
    return License.objects.select_related("software", "contract")


def covering(contracts_of_cis, *, today: datetime.date | None = None) -> list[Contract]:
    """The contracts in force today among `contracts_of_cis` (prefetched per CI), once each, by end."""
    today = today or timezone.localdate()
    found: dict[int, Contract] = {}
    for contract in contracts_of_cis:
        if contract.start_date <= today <= contract.end_date:
            found.setdefault(contract.pk, contract)
    return sorted(found.values(), key=lambda c: (c.end_date, c.number))


def contracts_for_cis(ci_ids, *, today: datetime.date | None = None) -> list[Contract]:
    """The contracts in force today covering any of `ci_ids` (one query)."""
    today = today or timezone.localdate()
    return list(
        Contract.objects.filter(
            configuration_items__in=list(ci_ids), start_date__lte=today, end_date__gte=today
        )
        .select_related("vendor")
        .distinct()
        .order_by("end_date", "number")
    )


# --- installations and compliance ------------------------------------------------------------------------
def current_installations(software_obj: Software):
    return (
        Installation.objects.filter(software=software_obj, ended_at__isnull=True)
        .select_related("ci", "ci__ci_class", "ci__owner")
        .order_by("ci__name", "version")
    )


# One title's numbers, or every title's: entitled from its licenses (grouped: a few thousand rows at most),
# consumed from the kept Software.installed_cis (distinct CIs with a current installation, maintained by
# contracts.software), except for a title whose licenses are all per user, where the people are counted
# from its installations first (`_people`) and handed to the query as two arrays. No correlated subquery:
# the plan stays cheap enough that PostgreSQL does not JIT-compile it (which cost more than the query).
_NUMBERS = """
    SELECT s.id, s.name, s.publisher, t.entitled, t.consumed, GREATEST(t.consumed - t.entitled, 0) AS shortfall
    FROM contracts_software AS s
    LEFT JOIN (
        SELECT software_id, sum(quantity) AS seats FROM contracts_license GROUP BY software_id
    ) AS l ON l.software_id = s.id
    LEFT JOIN unnest(%(people_ids)s::bigint[], %(people)s::integer[]) AS p(software_id, people)
        ON p.software_id = s.id
    CROSS JOIN LATERAL (
        SELECT COALESCE(l.seats, 0)::integer AS entitled,
               COALESCE(p.people, s.installed_cis)::integer AS consumed
    ) AS t
"""


def _people(software_id: int | None = None) -> dict[str, list[int]]:
    """The people consuming each title whose licenses are all per user (or just `software_id`): the
    distinct owners of the CIs it is installed on, an ownerless CI counting as one person. Such titles are
    few; two small queries (one when there is none), as query parameters for `_NUMBERS`."""
    titles = (
        License.objects.order_by()
        .values("software_id")
        .annotate(others=Count("id", filter=~Q(metric=LicenseMetric.PER_USER)))
    )
    if software_id is not None:
        titles = titles.filter(software_id=software_id)
    ids = [row["software_id"] for row in titles if not row["others"]]
    counted = {}
    if ids:
        counted = dict(
            Installation.objects.filter(software_id__in=ids, ended_at__isnull=True)
            .order_by()
            .values_list("software_id")
            .annotate(
                n=Count("ci__owner", distinct=True)
                + Count("ci", distinct=True, filter=Q(ci__owner__isnull=True))
            )
            .values_list("software_id", "n")
        )
    return {"people_ids": ids, "people": [counted.get(pk, 0) for pk in ids]}


def _numbers_sql(where: list[str]) -> str:
    return _NUMBERS + (" WHERE " + " AND ".join(where) if where else "")


def compliance(software_obj: Software) -> dict[str, int]:
    """{entitled, consumed, shortfall} of one title (one query, two more for a per-user title).

    Entitled is the sum of its licenses' seats. Consumed counts the distinct CIs it is installed on; when
    every license of the title is per user, it counts people instead: the distinct owners of those CIs
    (a CI without an owner counts as one person). Shortfall is what is consumed beyond the entitlement.
    """
    with connection.cursor() as cursor:
        cursor.execute(_numbers_sql(["s.id = %(id)s"]), {**_people(software_obj.pk), "id": software_obj.pk})
        row = cursor.fetchone()
    if row is None:
        return {"entitled": 0, "consumed": 0, "shortfall": 0}
    return {"entitled": row[3], "consumed": row[4], "shortfall": row[5]}


class ComplianceReport:
    """The compliance of every installed or licensed title, largest shortfall first, as a sequence that
    pages in SQL: `count()` is one query and a slice another (LIMIT/OFFSET), so Django's Paginator and
    the API's pagination read one page of rows, never the whole catalog. Rows are
    `{"software", "name", "publisher", "entitled", "consumed", "shortfall"}`."""

    def __init__(self, *, only_short: bool = False, q: str = ""):
        where = ["(s.installed_cis > 0 OR l.software_id IS NOT NULL)"]
        self.filters: dict[str, object] = {}
        if only_short:
            where.append("t.consumed > t.entitled")
        if q:
            where.append("strpos(lower(s.name), lower(%(q)s)) > 0")
            self.filters["q"] = q
        self.sql = _numbers_sql(where)
        self._params: dict[str, object] | None = None
        self._count: int | None = None

    @property
    def params(self) -> dict[str, object]:
        if self._params is None:
            self._params = {**_people(), **self.filters}
        return self._params

    def count(self) -> int:
        if self._count is None:
            with connection.cursor() as cursor:
                # The SQL is built from this module's constants; values (q) are bound.
                cursor.execute(f"SELECT count(*) FROM ({self.sql}) AS report", self.params)  # noqa: S608
                self._count = cursor.fetchone()[0]
        return self._count

    def __len__(self) -> int:
        return self.count()

    def _rows(self, offset: int = 0, limit: int | None = None) -> list[dict]:
        sql = f"{self.sql} ORDER BY shortfall DESC, lower(s.name), s.id OFFSET %(offset)s"
        params = {**self.params, "offset": offset}
        if limit is not None:
            sql += " LIMIT %(limit)s"
            params["limit"] = limit
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            keys = ("software", "name", "publisher", "entitled", "consumed", "shortfall")
            return [dict(zip(keys, row, strict=True)) for row in cursor.fetchall()]

    def __getitem__(self, item):
        if isinstance(item, slice):
            if item.step not in (None, 1) or (item.start or 0) < 0 or (item.stop or 0) < 0:
                raise ValueError("The report takes plain forward slices.")
            start = item.start or 0
            limit = None if item.stop is None else max(item.stop - start, 0)
            return self._rows(start, limit)
        rows = self._rows(item, 1)
        if not rows:
            raise IndexError(item)
        return rows[0]

    def __iter__(self):
        return iter(self._rows())


DETAIL_ROWS = 200  # installations (and unlicensed ones) a title's page lists; the API pages through all


@dataclass
class ComplianceDetail:
    """The CIs (and people) behind each number of a title's compliance: the first DETAIL_ROWS
    installations and unlicensed installations by CI name, with their counts."""

    numbers: dict[str, int]
    licenses: list[License] = field(default_factory=list)
    installations: list[Installation] = field(default_factory=list)
    installation_count: int = 0
    licensed_cis: list[ConfigurationItem] = field(default_factory=list)
    unlicensed: list[Installation] = field(default_factory=list)
    unlicensed_count: int = 0


def compliance_detail(software_obj: Software) -> ComplianceDetail:
    """Compliance with its evidence: the licenses, the CIs they are assigned to, the installations that
    consume seats, and those installations on CIs no license is assigned to nor owned by a licensed user
    (where the shortfall is). A fixed number of queries, whatever the number of installations."""
    lics = list(
        License.objects.filter(software=software_obj)
        .select_related("contract")
        .prefetch_related("configuration_items", "users")
    )
    assigned_cis = {ci.pk: ci for lic in lics for ci in lic.configuration_items.all()}
    assigned_users = {user.pk for lic in lics for user in lic.users.all()}
    installs = current_installations(software_obj)
    unlicensed = installs.exclude(ci_id__in=list(assigned_cis)).exclude(ci__owner_id__in=list(assigned_users))
    return ComplianceDetail(
        numbers=compliance(software_obj),
        licenses=lics,
        installations=list(installs[:DETAIL_ROWS]),
        installation_count=installs.count(),
        licensed_cis=sorted(assigned_cis.values(), key=lambda ci: ci.name),
        unlicensed=list(unlicensed[:DETAIL_ROWS]),
        unlicensed_count=unlicensed.count(),
    )


def compliance_report(*, only_short: bool = False) -> list[dict]:
    """Every row of the report at once (the benchmark's "report over all titles", and small callers)."""
    return list(ComplianceReport(only_short=only_short))


def installations_of_ci(ci: ConfigurationItem):
    return (
        Installation.objects.filter(ci=ci, ended_at__isnull=True)
        .select_related("software")
        .order_by("software__name")
    )
