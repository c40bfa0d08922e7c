"""Time rules: evaluated by Celery beat (every 30 s), fired exactly once per record and condition period.

`evaluate(rule)` finds, in SQL, the records the conditions hold for now; closes the periods of records
they no longer hold for (so the rule fires again the next time they become true); and returns the
records due to fire (matching, with no open period). `fire(rule, ids)` then runs the rule on each, in
transactions of BATCH records: lock the record (skipping one a write holds; the next beat retries it), re-check
the conditions on the locked row, insert the period's TimeRuleMatch row under its unique constraint, and
run the actions. A second beat or a redelivered task hits the constraint and does nothing; a worker killed
mid-way rolls back row and actions together, and the next beat fires it again.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.utils import timezone

from . import conditions
from .engine import automation_user, record_stats, run_rule
from .kinds import KINDS
from .models import Rule, TimeRuleMatch, Trigger

# Records per transaction: a batch commits once (and a killed worker rolls back only its batch).
BATCH = 25

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


def fire(rule_id: int, ids: list[int]) -> int:
    """Run a time rule on each record not yet fired for its current period; returns how many fired.
    Records are handled in small batches, one transaction each (fewer commits to wait for); each record's
    rule still runs in its own savepoint, so one failing record spoils nothing for the others."""
    rule = Rule.objects.filter(pk=rule_id, active=True, trigger=Trigger.TIME).first()
    if rule is None:
        return 0
    tree = conditions.compile_tree(rule.applies_to, rule.conditions)
    model = KINDS[rule.applies_to].model
    content_type = ContentType.objects.get_for_model(model)
    actor = automation_user()
    fired = 0
    for start in range(0, len(ids), BATCH):
        with transaction.atomic():
            batch_fired = 0
            errors: dict[int, str] = {}
            for pk in ids[start : start + BATCH]:
                record = model.objects.select_for_update(skip_locked=True).filter(pk=pk).first()
                if record is None or record.state in model.workflow.final_states:
                    continue
                if not conditions.matches(tree, record, None, timezone.now()):
                    continue
                try:
                    with transaction.atomic():
                        TimeRuleMatch.objects.create(rule=rule, content_type=content_type, object_id=pk)
                except IntegrityError:
                    continue  # this period already fired (another beat, a retry)
                _record, error = run_rule(record, rule, actor=actor, level=1, stats=False)
                if error is not None:
                    errors[rule.pk] = error
                batch_fired += 1
            record_stats([rule.pk] if batch_fired else [], errors, times=batch_fired)
            _test_pause()
        fired += batch_fired
    return fired
