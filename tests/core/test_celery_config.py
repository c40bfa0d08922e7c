"""The Celery settings keep the promises the README makes of them (itsm/settings/base.py says why)."""

from django.conf import settings

from itsm.celery import app


def test_redelivery_settings_hold_together():
    conf = app.conf
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_soft_time_limit < conf.task_time_limit
    # A message is held at most eta horizon + hard limit; Redis must not redeliver it before that, and a
    # dead worker's messages must come back in minutes, not the old hour.
    visibility = conf.broker_transport_options["visibility_timeout"]
    assert conf.task_time_limit + settings.SLA_ETA_HORIZON < visibility <= 600
    # A stalled Redis must cost a publish about a second, never hang it.
    assert conf.broker_transport_options["socket_timeout"] <= 1
    assert conf.broker_transport_options["socket_connect_timeout"] <= 1
    assert conf.task_publish_retry is False
    assert settings.CACHES["default"]["OPTIONS"]["socket_timeout"] <= 0.5


def test_the_sla_sweep_finishes_well_inside_the_time_limits():
    from sla import escalations

    assert app.conf.task_soft_time_limit / 2 > escalations.SWEEP_BUDGET
    # A sweep must never be dropped for waiting behind a backlog (it is what clears the backlog).
    assert "expires" not in app.conf.beat_schedule["sla-sweep"].get("options", {})
