"""Contract notices (SPEC §8): the owner is told once when a contract's notice period starts, and again
on its end date if it was not renewed; an automatic renewal renews the contract on its end date instead.

"Once" is a unique ContractNotice row per (contract, stage, end date), inserted in the same transaction
as the timeline entry and with the mail sent on commit: two overlapping beats, or a worker killed and
retried, cannot send a notice twice (the loser's INSERT conflicts and it sends nothing). A renewal moves
end_date, so the new term has notices of its own.
"""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import DateField, Exists, ExpressionWrapper, F, OuterRef
from django.utils import timezone

from .choices import ContractEventKind, NoticeStage, Renewal
from .models import Contract, ContractEvent, ContractNotice
from .services import contract_renew

logger = logging.getLogger(__name__)

# How far back an end date still gets its "ended" notice (a beat that was down for a few days catches
# up; a contract entered long after it ended is not announced).
CATCH_UP_DAYS = 7


def _mail_on_commit(contract: Contract, subject: str, body: str) -> None:
    owner = contract.owner
    if owner is None or not owner.email:
        return
    recipient = owner.email

    def send() -> None:
        try:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [recipient])
        except Exception:
            logger.exception("Contract notice for %s failed", contract.number)

    transaction.on_commit(send)


def _claim(contract: Contract, stage: str) -> bool:
    """Insert the notice row; False when this term's notice of that stage was already sent."""
    try:
        with transaction.atomic():
            ContractNotice.objects.create(contract=contract, stage=stage, end_date=contract.end_date)
    except IntegrityError:
        return False
    return True


def _url(contract: Contract) -> str:
    return settings.SITE_URL.rstrip("/") + contract.get_absolute_url()


def send_notice(contract: Contract, *, today: datetime.date) -> bool:
    with transaction.atomic():
        if not _claim(contract, NoticeStage.NOTICE):
            return False
        days = (contract.end_date - today).days
        how = (
            "It renews automatically unless cancelled."
            if contract.renewal == Renewal.AUTO
            else "It lapses unless it is renewed."
        )
        message = (
            f"Notice period started: {contract.number} ends on {contract.end_date} (in {days} days). {how}"
        )
        ContractEvent.objects.create(
            contract=contract,
            kind=ContractEventKind.NOTICE,
            message=message,
            data={"end_date": str(contract.end_date), "to": getattr(contract.owner, "username", "")},
        )
        _mail_on_commit(
            contract,
            f"[Contract notice] {contract.number} {contract.name} ends on {contract.end_date}",
            f"{message}\nVendor: {contract.vendor.name}\n\n{_url(contract)}\n",
        )
    return True


def send_expired(contract: Contract, *, today: datetime.date) -> bool:
    """On the end date: an automatic contract renews for the same term length; a manual one that was not
    renewed is announced as ended."""
    with transaction.atomic():
        if not _claim(contract, NoticeStage.EXPIRED):
            return False
        if contract.renewal == Renewal.AUTO:
            term = contract.end_date - contract.start_date
            contract_renew(
                contract,
                actor=None,
                start_date=contract.end_date + datetime.timedelta(days=1),
                end_date=contract.end_date + datetime.timedelta(days=1) + term,
            )
            contract.refresh_from_db()
            subject = f"[Contract renewed] {contract.number} {contract.name} until {contract.end_date}"
            body = f"{contract.number} renewed automatically until {contract.end_date}.\n\n{_url(contract)}\n"
        else:
            message = f"{contract.number} ended on {contract.end_date} and was not renewed."
            ContractEvent.objects.create(
                contract=contract,
                kind=ContractEventKind.EXPIRED,
                message=message,
                data={"end_date": str(contract.end_date), "to": getattr(contract.owner, "username", "")},
            )
            subject = f"[Contract ended] {contract.number} {contract.name} ended on {contract.end_date}"
            body = f"{message}\nVendor: {contract.vendor.name}\n\n{_url(contract)}\n"
        _mail_on_commit(contract, subject, body)
    return True


def sweep(*, today: datetime.date | None = None) -> dict[str, int]:
    """Send every notice that is due today (the beat task runs this)."""
    today = today or timezone.localdate()
    base = Contract.objects.select_related("vendor", "owner").order_by("end_date", "pk")

    def unsent(stage: str):
        return ~Exists(
            ContractNotice.objects.filter(contract=OuterRef("pk"), stage=stage, end_date=OuterRef("end_date"))
        )

    # PostgreSQL's date - integer is a date: the first day of the notice period.
    notice_start = ExpressionWrapper(F("end_date") - F("notice_days"), output_field=DateField())
    in_notice = (
        base.alias(notice_start=notice_start)
        .filter(end_date__gt=today, notice_start__lte=today)
        .filter(unsent(NoticeStage.NOTICE))
    )
    ended = base.filter(
        end_date__lte=today, end_date__gte=today - datetime.timedelta(days=CATCH_UP_DAYS)
    ).filter(unsent(NoticeStage.EXPIRED))
    counts = {"notice": 0, "expired": 0}
    for contract in in_notice:
        counts["notice"] += send_notice(contract, today=today)
    for contract in ended:
        counts["expired"] += send_expired(contract, today=today)
    return counts
