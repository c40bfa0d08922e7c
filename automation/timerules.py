"""Time rules: evaluated by Celery beat (every 30 s), fired exactly once per record and condition period.

`evaluate(rule)` finds, in SQL, the records the conditions hold for now (one query, the open periods
excluded through the ledger's partial unique index); closes the periods of records they no longer hold for
(one UPDATE, so the rule fires again the next time they become true); and returns the records due to fire.
`fire(rule, ids)` then works set-based, one transaction per batch of up to BATCH records:

1. lock the batch's records that are still open and still match, in one SELECT ... FOR UPDATE SKIP LOCKED
   with the conditions in its WHERE (a record a write holds is skipped; the next beat retries it);
2. claim them in one INSERT INTO the TimeRuleMatch ledger ... ON CONFLICT DO NOTHING RETURNING: the partial
   unique constraint on (rule, record) while the period is open answers only the records no other beat,
   retry or redelivered task has fired, so "never twice" is the database's promise, not the code's;
3. run the actions on the claimed records: set-based when all of them allow it (automation.bulk: one
   UPDATE and one timeline INSERT per action and batch, then each record's event), else record by record
   through the services, each in a savepoint so one failing record spoils nothing for the others.

Ledger rows and actions commit together: a worker killed mid-batch rolls back both, and the redelivered
task or the next beat fires the batch again.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.utils import timezone

from . import bulk, conditions
from .engine import acting_as_rule, automation_user, record_stats, run_rule
from .kinds import KINDS
from .models import Rule, TimeRuleMatch, Trigger

# Records per transaction: a batch commits once (and a killed worker rolls back only its batch). Set-based
# batches are cheap per record, so they are larger than those fired record by record.
BATCH = 25
BULK_BATCH = 500

logger = logging.getLogger(__name__)

# Test-only hook (tests/automation/test_celery_worker.py): while this file exists, a firing stops after
# its actions, before committing, so the test can SIGKILL the worker mid-firing.
PAUSE_FILE_ENV = "AUTOMATION_TEST_FIRE_PAUSE_FILE"


def _test_pause() -> None:
    path = os.environ.get(PAUSE_FILE_ENV)
    if not path or not Path(path).exists():
        return
    Path(path + ".reached").touch()
    deadline = time.monotonic() + 60
    while Path(path).exists() and time.monotonic() < deadline:
        time.sleep(0.1)


def candidates(rule: Rule, tree: conditions.Tree, now):
    """Records of the rule's kind its conditions hold for now (closed and canceled ones excluded)."""
    model = KINDS[rule.applies_to].model
    return model.objects.exclude(state__in=model.workflow.final_states).filter(conditions.to_q(tree, now))


def evaluate(rule: Rule, now=None) -> list[int]:
    """Close ended periods and return the ids of records due to fire."""
    now = now or timezone.now()
    tree = conditions.compile_tree(rule.applies_to, rule.conditions)
    model = KINDS[rule.applies_to].model
    content_type = ContentType.objects.get_for_model(model)
    matching = candidates(rule, tree, now).values("pk")
    open_periods = TimeRuleMatch.objects.filter(rule=rule, content_type=content_type, ended_at__isnull=True)
    open_periods.exclude(object_id__in=matching).update(ended_at=now)
    return list(
        candidates(rule, tree, now)
        .exclude(pk__in=open_periods.values("object_id"))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def lock_due(rule: Rule, tree: conditions.Tree, ids: list[int]) -> list[int]:
    """Lock the records of `ids` that are still open and still match, skipping those a write holds."""
    return list(
        candidates(rule, tree, timezone.now())
        .filter(pk__in=ids)
        .select_for_update(skip_locked=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


CLAIM_SQL = """
    INSERT INTO automation_timerulematch (rule_id, content_type_id, object_id, fired_at, ended_at)
    SELECT %s, %s, due.id, %s, NULL FROM unnest(%s::bigint[]) AS due(id)
    ON CONFLICT (rule_id, content_type_id, object_id) WHERE ended_at IS NULL DO NOTHING
    RETURNING object_id
"""


def claim(rule: Rule, content_type: ContentType, ids: list[int]) -> list[int]:
    """Insert the ledger rows of a new period for `ids`; returns the ids that had no open period."""
    if not ids:
        return []
    with connection.cursor() as cursor:
        cursor.execute(CLAIM_SQL, [rule.pk, content_type.pk, timezone.now(), ids])
        return sorted(row[0] for row in cursor.fetchall())


def fire(rule_id: int, ids: list[int]) -> int:
    """Run a time rule on each record of `ids` not yet fired for its current period; returns how many
    fired. See the module docstring for the three steps of each batch."""
    rule = Rule.objects.filter(pk=rule_id, active=True, trigger=Trigger.TIME).first()
    if rule is None:
        return 0
    tree = conditions.compile_tree(rule.applies_to, rule.conditions)
    model = KINDS[rule.applies_to].model
    content_type = ContentType.objects.get_for_model(model)
    set_based = bulk.supports(rule)
    size = BULK_BATCH if set_based else BATCH
    actor = automation_user()
    fired = 0
    for start in range(0, len(ids), size):
        with transaction.atomic():
            claimed = claim(rule, content_type, lock_due(rule, tree, ids[start : start + size]))
            errors: dict[int, str] = {}
            done = False
            if set_based and claimed:
                try:
                    with transaction.atomic(), acting_as_rule(rule, level=1):
                        bulk.apply(rule, claimed, actor=actor)
                    done = True
                except Exception as exc:  # noqa: BLE001 - run it record by record, which records each failure
                    logger.info("time rule %s: set-based firing failed (%s); record by record", rule.pk, exc)
            if not done:
                for record in model.objects.filter(pk__in=claimed).order_by("pk"):
                    _record, error = run_rule(record, rule, actor=actor, level=1, stats=False)
                    if error is not None:
                        errors[rule.pk] = error
            record_stats([rule.pk] if claimed else [], errors, times=len(claimed))
            _test_pause()
        fired += len(claimed)
    return fired
