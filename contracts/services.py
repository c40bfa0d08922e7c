"""Every write to vendors, contracts and licenses (SPEC §8). Keyword-only, with an explicit actor.

Validation errors are Django ValidationErrors naming the field (the API answers them as 400). Each
contract write leaves a ContractEvent in the contract's history; mail goes out on commit.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from .choices import ContractEventKind, LicenseMetric
from .models import Contract, ContractEvent, License, Software, Vendor
from .software import software_key

VENDOR_FIELDS = ("name", "website", "support_email", "support_phone", "notes")
CONTRACT_FIELDS = (
    "name",
    "vendor",
    "type",
    "start_date",
    "end_date",
    "cost",
    "currency",
    "renewal",
    "notice_days",
    "owner",
    "description",
)
LICENSE_FIELDS = ("software", "metric", "quantity", "contract")


def _actor_name(actor) -> str:
    return getattr(actor, "username", "") or ""


def _validate(obj, *, exclude: tuple[str, ...] = ()) -> None:
    obj.full_clean(exclude=list(exclude), validate_constraints=False)


# --- vendors ---------------------------------------------------------------------------------------------
@transaction.atomic
def vendor_save(*, actor, fields: dict[str, Any], vendor: Vendor | None = None) -> Vendor:
    """Create a vendor, or update `vendor` with `fields` (names unique, case-insensitively)."""
    vendor = vendor or Vendor()
    for name, value in fields.items():
        if name in VENDOR_FIELDS:
            setattr(vendor, name, value)
    name = (vendor.name or "").strip()
    if not name:
        raise ValidationError({"name": "This field is required."})
    vendor.name = name
    clash = Vendor.objects.filter(name__iexact=name).exclude(pk=vendor.pk).exists()
    if clash:
        raise ValidationError({"name": f"A vendor named {name!r} already exists."})
    _validate(vendor, exclude=("name",))
    vendor.save()
    return vendor


# --- contracts -------------------------------------------------------------------------------------------
def _check_dates(start: datetime.date | None, end: datetime.date | None) -> None:
    if start and end and end < start:
        raise ValidationError({"end_date": f"The end date ({end}) is before the start date ({start})."})


def _record(contract: Contract, kind: str, *, actor, message: str, data: dict | None = None) -> ContractEvent:
    return ContractEvent.objects.create(
        contract=contract,
        kind=kind,
        actor=actor if getattr(actor, "pk", None) else None,
        actor_name=_actor_name(actor),
        message=message,
        data=data or {},
    )


def _plain(value: Any) -> Any:
    if isinstance(value, datetime.date | Decimal):
        return str(value)
    return getattr(value, "pk", value)


@transaction.atomic
def contract_create(*, actor, fields: dict[str, Any], configuration_items=None) -> Contract:
    """Open a contract (its number comes from the CTR sequence in the INSERT) and write "created"."""
    contract = Contract(**{k: v for k, v in fields.items() if k in CONTRACT_FIELDS})
    _check_dates(contract.start_date, contract.end_date)
    _validate(contract, exclude=("number",))
    contract.currency = (contract.currency or "").upper()
    contract.save()
    contract.refresh_from_db(fields=["number"])
    if configuration_items:
        contract.configuration_items.set(configuration_items)
    _record(
        contract,
        ContractEventKind.CREATED,
        actor=actor,
        message=f"Contract opened, {contract.start_date} to {contract.end_date}.",
        data={"configuration_items": sorted(ci.pk for ci in configuration_items or [])},
    )
    return contract


@transaction.atomic
def contract_update(
    contract: Contract, *, actor, changes: dict[str, Any], configuration_items=None
) -> Contract:
    """Change a contract's fields (and covered CIs when given); each changed field is in the history."""
    contract = Contract.objects.select_for_update().get(pk=contract.pk)
    diffs = {}
    for name, value in changes.items():
        if name not in CONTRACT_FIELDS:
            continue
        old = getattr(contract, name)
        if name == "currency" and isinstance(value, str):
            value = value.upper()
        if old != value:
            diffs[name] = [_plain(old), _plain(value)]
            setattr(contract, name, value)
    _check_dates(contract.start_date, contract.end_date)
    _validate(contract, exclude=("number",))
    contract.save()
    if configuration_items is not None:
        before = set(contract.configuration_items.values_list("pk", flat=True))
        after = {ci.pk for ci in configuration_items}
        if before != after:
            contract.configuration_items.set(configuration_items)
            diffs["configuration_items"] = [sorted(before), sorted(after)]
    if diffs:
        _record(
            contract,
            ContractEventKind.UPDATED,
            actor=actor,
            message="Changed " + ", ".join(sorted(diffs)) + ".",
            data=diffs,
        )
    return contract


@transaction.atomic
def contract_renew(
    contract: Contract, *, actor, end_date: datetime.date, start_date: datetime.date | None = None
) -> Contract:
    """Renew a contract for a new term: the dates move forward (the new end after the current one) and
    the renewal is in its history; the next term gets its own notices."""
    contract = Contract.objects.select_for_update().get(pk=contract.pk)
    if not isinstance(end_date, datetime.date):
        raise ValidationError({"end_date": "A date is required."})
    if end_date <= contract.end_date:
        raise ValidationError(
            {"end_date": f"A renewal must end after the current end date ({contract.end_date})."}
        )
    new_start = start_date or contract.start_date
    _check_dates(new_start, end_date)
    old = (contract.start_date, contract.end_date)
    contract.start_date, contract.end_date = new_start, end_date
    contract.save(update_fields=["start_date", "end_date", "updated_at"])
    _record(
        contract,
        ContractEventKind.RENEWED,
        actor=actor,
        message=f"Renewed until {end_date} (was {old[1]}).",
        data={"start_date": [str(old[0]), str(new_start)], "end_date": [str(old[1]), str(end_date)]},
    )
    return contract


# --- software and licenses -------------------------------------------------------------------------------
@transaction.atomic
def software_save(*, actor, fields: dict[str, Any], software: Software | None = None) -> Software:
    """Add a title to the catalog (or rename one); (name, publisher) is unique once normalised."""
    software = software or Software()
    for name in ("name", "publisher"):
        if name in fields:
            setattr(software, name, (fields[name] or "").strip())
    if not software.name:
        raise ValidationError({"name": "This field is required."})
    software.key = software_key(software.name, software.publisher)
    if Software.objects.filter(key=software.key).exclude(pk=software.pk).exists():
        raise ValidationError(
            {"name": f"{software.name!r} by {software.publisher!r} is already in the catalog."}
        )
    _validate(software, exclude=("key",))
    software.save()
    return software


@transaction.atomic
def license_save(
    *, actor, fields: dict[str, Any], configuration_items=None, users=None, license: License | None = None
) -> License:
    """Create or change a license; quantity is a whole number ≥ 0, metric per_device or per_user."""
    license = license or License()
    for name, value in fields.items():
        if name in LICENSE_FIELDS:
            setattr(license, name, value)
    if license.metric not in LicenseMetric.values:
        raise ValidationError({"metric": f"Use one of {', '.join(LicenseMetric.values)}."})
    if license.quantity is None or int(license.quantity) < 0:
        raise ValidationError({"quantity": "Must be 0 or more."})
    _validate(license)
    license.save()
    if configuration_items is not None:
        license.configuration_items.set(configuration_items)
    if users is not None:
        license.users.set(users)
    return license
