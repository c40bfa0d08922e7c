"""Contract notices (SPEC §8): once when the notice period starts, again on the end date if the contract
was not renewed; a renewal starts a new term with its own notices; an automatic contract renews itself."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail

from contracts.models import ContractEvent, ContractNotice
from contracts.notices import sweep
from contracts.services import contract_renew

pytestmark = pytest.mark.django_db(transaction=True)


def kinds(contract) -> list[str]:
    return list(ContractEvent.objects.filter(contract=contract).order_by("id").values_list("kind", flat=True))


def test_notice_once_when_the_notice_period_starts_then_on_the_end_date(make_contract, today):
    contract = make_contract(days_left=31, notice_days=30)
    assert sweep(today=today) == {"notice": 0, "expired": 0}  # the period starts tomorrow
    tomorrow = today + datetime.timedelta(days=1)
    assert sweep(today=tomorrow) == {"notice": 1, "expired": 0}
    assert sweep(today=tomorrow) == {"notice": 0, "expired": 0}
    assert sweep(today=tomorrow + datetime.timedelta(days=5)) == {"notice": 0, "expired": 0}
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["cora@example.com"]
    assert contract.number in mail.outbox[0].subject
    assert kinds(contract) == ["created", "notice"]
    end = contract.end_date
    assert sweep(today=end) == {"notice": 0, "expired": 1}
    assert sweep(today=end + datetime.timedelta(days=1)) == {"notice": 0, "expired": 0}
    assert len(mail.outbox) == 2 and "ended" in mail.outbox[1].subject
    assert kinds(contract) == ["created", "notice", "expired"]


def test_a_renewed_contract_gets_no_end_notice_and_a_new_term(make_contract, cmdb_manager, today):
    contract = make_contract(days_left=10, notice_days=30)
    assert sweep(today=today)["notice"] == 1
    contract_renew(contract, actor=cmdb_manager, end_date=today + datetime.timedelta(days=375))
    assert sweep(today=today + datetime.timedelta(days=10)) == {"notice": 0, "expired": 0}
    # The new term's notice period starts 30 days before its end.
    assert sweep(today=today + datetime.timedelta(days=345))["notice"] == 1
    assert kinds(contract) == ["created", "notice", "renewed", "notice"]
    assert ContractNotice.objects.filter(contract=contract).count() == 2


def test_an_automatic_contract_renews_itself_on_its_end_date(make_contract, today):
    contract = make_contract(
        days_left=0, notice_days=0, renewal="auto", start_date=today - datetime.timedelta(days=364)
    )
    assert sweep(today=today) == {"notice": 0, "expired": 1}
    contract.refresh_from_db()
    assert contract.start_date == today + datetime.timedelta(days=1)
    assert contract.end_date == today + datetime.timedelta(days=365)
    assert kinds(contract) == ["created", "renewed"]
    assert "renewed" in mail.outbox[0].subject


def test_long_ended_contracts_are_not_announced(make_contract, today):
    make_contract(days_left=-30, start_date=today - datetime.timedelta(days=400))
    assert sweep(today=today) == {"notice": 0, "expired": 0}
