"""The notice is sent exactly once by beat, through a real Celery worker with its embedded beat (the SLA
tests' machinery: no eager mode, the test database, a private Redis db)."""

from __future__ import annotations

import time

import pytest

from contracts.models import ContractEvent, ContractNotice
from tests.sla.test_celery_worker import flush_broker, publish_to, wait_for, workers  # noqa: F401

pytestmark = [
    pytest.mark.celery_worker,
    pytest.mark.xdist_group("serial"),
    pytest.mark.django_db(transaction=True),
]


def test_beat_sends_the_notice_exactly_once(make_contract, workers, flush_broker, publish_to):  # noqa: F811
    publish_to(flush_broker)
    contract = make_contract(days_left=20, notice_days=30)
    workers(flush_broker, CONTRACT_NOTICE_SWEEP_SECONDS="1")
    notices = ContractEvent.objects.filter(contract=contract, kind="notice")
    assert wait_for(notices.exists, timeout=60), "beat never sent the notice"
    # Several more sweeps run (one a second) and send nothing more.
    time.sleep(4)
    assert notices.count() == 1
    assert ContractNotice.objects.filter(contract=contract, stage="notice").count() == 1
    assert notices.get().data["to"] == "cora"
