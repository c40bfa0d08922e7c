"""Every read of vendors, contracts, software and licenses, scoped (SPEC §2, §8).

Workspace roles read it all; requesters see none of it: `require_reader` answers 404 for them, as the
rest of the suite does for what a user may not see.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Q, Sum
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


def _per_user_only(metrics: set[str]) -> bool:
    return bool(metrics) and metrics == {LicenseMetric.PER_USER}


def compliance(software_obj: Software) -> dict[str, int]:
    """{entitled, consumed, shortfall} of one title, in two queries.

    Entitled is the sum of its licenses' seats. Consumed counts the distinct CIs it is installed on; when
    every license of the title is per user, it counts people instead: the distinct owners of those CIs
    (a CI without an owner counts as one person). Shortfall is what is consumed beyond the entitlement.
    """
    rows = list(License.objects.filter(software=software_obj).values_list("metric", "quantity"))
    entitled = sum(quantity for _metric, quantity in rows)
    current = Installation.objects.filter(software=software_obj, ended_at__isnull=True)
    if _per_user_only({metric for metric, _q in rows}):
        owners = current.aggregate(
            people=Count("ci__owner", distinct=True),
            ownerless=Count("ci", distinct=True, filter=Q(ci__owner__isnull=True)),
        )
        consumed = owners["people"] + owners["ownerless"]
    else:
        consumed = current.aggregate(n=Count("ci", distinct=True))["n"]
    return {"entitled": entitled, "consumed": consumed, "shortfall": max(0, consumed - entitled)}


@dataclass
class ComplianceDetail:
    """The CIs (and people) behind each number of a title's compliance."""

    numbers: dict[str, int]
    licenses: list[License] = field(default_factory=list)
    installations: list[Installation] = field(default_factory=list)
    licensed_cis: list[ConfigurationItem] = field(default_factory=list)
    unlicensed: list[Installation] = field(default_factory=list)


def compliance_detail(software_obj: Software) -> ComplianceDetail:
    """Compliance with its evidence: the licenses, the CIs they are assigned to, the installations that
    consume seats, and those installations on CIs no license is assigned to (where the shortfall is)."""
    lics = list(
        License.objects.filter(software=software_obj)
        .select_related("contract")
        .prefetch_related("configuration_items", "users")
    )
    installs = list(current_installations(software_obj))
    assigned_cis = {ci.pk: ci for lic in lics for ci in lic.configuration_items.all()}
    assigned_users = {user.pk for lic in lics for user in lic.users.all()}
    unlicensed = [
        row
        for row in installs
        if row.ci_id not in assigned_cis
        and (row.ci.owner_id is None or row.ci.owner_id not in assigned_users)
    ]
    return ComplianceDetail(
        numbers=compliance(software_obj),
        licenses=lics,
        installations=installs,
        licensed_cis=sorted(assigned_cis.values(), key=lambda ci: ci.name),
        unlicensed=unlicensed,
    )


def compliance_report(*, only_short: bool = False) -> list[dict]:
    """Compliance of every title that is installed or licensed, in three grouped queries (per-user-only
    titles are counted one by one; they are few)."""
    entitled: dict[int, int] = defaultdict(int)
    metrics: dict[int, set[str]] = defaultdict(set)
    for software_id, metric, quantity in License.objects.values_list("software_id", "metric").annotate(
        seats=Sum("quantity")
    ):
        entitled[software_id] += quantity
        metrics[software_id].add(metric)
    consumed = dict(
        Installation.objects.filter(ended_at__isnull=True)
        .order_by()
        .values_list("software_id")
        .annotate(n=Count("ci_id", distinct=True))
        .values_list("software_id", "n")
    )
    ids = set(entitled) | set(consumed)
    titles = dict(Software.objects.filter(pk__in=ids).values_list("id", "name"))
    rows = []
    for software_id in ids:
        if _per_user_only(metrics[software_id]):
            numbers = compliance(Software(pk=software_id))
        else:
            used = consumed.get(software_id, 0)
            seats = entitled.get(software_id, 0)
            numbers = {"entitled": seats, "consumed": used, "shortfall": max(0, used - seats)}
        if only_short and not numbers["shortfall"]:
            continue
        rows.append({"software": software_id, "name": titles.get(software_id, ""), **numbers})
    rows.sort(key=lambda row: (-row["shortfall"], row["name"].casefold(), row["software"]))
    return rows


def installations_of_ci(ci: ConfigurationItem):
    return (
        Installation.objects.filter(ci=ci, ended_at__isnull=True)
        .select_related("software")
        .order_by("software__name")
    )
