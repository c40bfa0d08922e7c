"""Fault scenario: 4 clients create incidents for 60 s against gunicorn + a Celery worker (with beat) on a
PRIVATE PostgreSQL and a PRIVATE redis-server (tests/faults/servers.py; the machine's servers are never
touched). At +20 s the worker is SIGKILLed (its whole process group) and restarted at +35 s; at +45 s
Redis is SIGSTOPped for 10 s. Every incident gets one SLA timer (20 s, a 50% warning and the breach, both
notifying the group), so stages fall due throughout the faults.

Reconciliation after the load, once everything has drained (or FAULT_DRAIN_LIMIT seconds passed):
acknowledged (201) creates missing from the database, SLA stages missing or run twice (ledger and
timeline), confirmation mails lost, left pending or sent twice; p99 of creates in each window; time from
the end of the load until every stage has run and every mail has been sent. Appends a line to
bench/results/faults.json. Run: `pytest bench/faults.py -s -p no:xdist -o python_files=*.py`.
"""

from __future__ import annotations

import os
import statistics
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(ROOT))

from results import write  # noqa: E402

from tests.faults.servers import (  # noqa: E402
    CeleryWorker,
    PrivatePostgres,
    PrivateRedis,
    WebServer,
    app_env,
    available,
    manage,
    prepare_database,
    wait_for,
)

CLIENTS = 4
DURATION = 60.0
KILL_AT, RESTART_AT = 20.0, 35.0
STALL_AT, STALL_SECONDS = 45.0, 10.0
DRAIN_LIMIT = float(os.environ.get("FAULT_DRAIN_LIMIT", "600"))
# FAULT_BENCH_BASELINE=1 runs the same load with no fault injected: what the worker's throughput alone
# does to lateness and drain time, to compare with.
BASELINE = os.environ.get("FAULT_BENCH_BASELINE") == "1"

DEFINITION = """
from sla.models import SLADefinition
SLADefinition.objects.create(
    name="Twenty seconds", applies_to="incident", target="resolution", duration=20,
    warning_thresholds=[50],
    escalations=[{"at": 50, "action": "notify_group"}, {"at": 100, "action": "notify_group"}],
)
"""


def p99(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 3)


@pytest.mark.skipif(not available(), reason="needs initdb, pg_ctl and redis-server")
def test_fault_scenario(tmp_path):
    postgres = PrivatePostgres().init().start()
    redis_server = PrivateRedis().start()
    web = worker = None
    try:
        postgres.create_database()
        env = app_env(postgres.url, redis_server.url, DEBUG="false", ALLOWED_HOSTS="127.0.0.1,localhost")
        token = prepare_database(env)
        manage(env, "shell", script=DEFINITION)
        web = WebServer(env, workers=2).start(tmp_path / "web.log")
        worker = CeleryWorker(env, tmp_path, concurrency=2).start()
        time.sleep(5)  # the worker connects

        results: list[tuple[str, int | None, float, float]] = []  # tag, status, started (s), seconds
        stop = threading.Event()
        t0 = time.monotonic()

        def client(n: int) -> None:
            headers = {"Authorization": f"Token {token}"}
            with httpx.Client(base_url=web.base, headers=headers, timeout=30) as http:
                i = 0
                while not stop.is_set():
                    tag = f"fault {n}-{i}"
                    i += 1
                    started = time.monotonic()
                    try:
                        status = http.post(
                            "/api/v1/incidents/", json={"short_description": tag, "assignment_group": "desk"}
                        ).status_code
                    except httpx.TransportError:
                        status = None
                    results.append((tag, status, started - t0, time.monotonic() - started))

        threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
        for thread in threads:
            thread.start()

        def at(offset: float) -> None:
            time.sleep(max(0.0, t0 + offset - time.monotonic()))

        if not BASELINE:
            at(KILL_AT)
            worker.kill()
            at(RESTART_AT)
            worker.start()
            at(STALL_AT)
            redis_server.pause()
            at(STALL_AT + STALL_SECONDS)
            redis_server.resume()
        at(DURATION)
        stop.set()
        for thread in threads:
            thread.join(60)
        load_end = time.monotonic()

        acknowledged = [r[0] for r in results if r[1] == 201]

        def counts() -> dict:
            row = postgres.query(
                """
                SELECT
                  (SELECT count(*) FROM incidents_incident WHERE short_description = ANY(%(tags)s)),
                  (SELECT count(*) FROM sla_timer),
                  (SELECT count(*) FROM sla_escalation),
                  (SELECT count(*) FROM integrations_outboundemail WHERE status = 'pending'),
                  (SELECT count(*) FROM integrations_outboundemail WHERE status = 'sent'),
                  (SELECT count(*) FROM integrations_outboundemail WHERE status = 'failed')
                """,
                {"tags": acknowledged},
            )[0]
            return dict(zip(("landed", "timers", "stages", "mail_pending", "mail_sent", "mail_failed"), row))

        def drained() -> bool:
            c = counts()
            return c["stages"] >= 2 * c["timers"] and c["mail_pending"] == 0

        done = wait_for(drained, timeout=DRAIN_LIMIT, interval=1)
        drain_seconds = round(time.monotonic() - load_end, 1)
        final = counts()
        timeline_dupes = postgres.query(
            """
            SELECT count(*) FROM (
              SELECT data->>'timer', data->>'stage' FROM core_activity
              WHERE kind = 'sla' AND data ? 'stage' GROUP BY 1, 2 HAVING count(*) > 1
            ) d
            """
        )[0][0]
        timeline_stages = postgres.query(
            "SELECT count(*) FROM core_activity WHERE kind = 'sla' AND data ? 'stage'"
        )[0][0]
        mail_dupes = postgres.query(
            "SELECT count(*) FROM (SELECT ticket_number, recipient, subject FROM integrations_outboundemail "
            "GROUP BY 1, 2, 3 HAVING count(*) > 1) d"
        )[0][0]
        late = postgres.query(
            "SELECT count(*), max((data->>'late_seconds')::float) FROM core_activity "
            "WHERE kind = 'sla' AND (data->>'late_seconds')::float >= 10"
        )[0]

        def window(lo: float, hi: float) -> list[float]:
            return [r[3] for r in results if lo <= r[2] < hi and r[1] is not None]

        line = {
            "benchmark": "fault scenario (baseline, no faults)" if BASELINE else "fault scenario",
            "clients": CLIENTS,
            "seconds": DURATION,
            "requests": len(results),
            "acknowledged": len(acknowledged),
            "non_2xx": len([r for r in results if r[1] != 201]),
            "statuses": sorted({str(r[1]) for r in results}),
            "writes_lost": len(acknowledged) - final["landed"],
            "timers": final["timers"],
            "stages_expected": 2 * final["timers"],
            "stages_run": final["stages"],
            "stages_missed": max(0, 2 * final["timers"] - final["stages"]),
            "stages_duplicated": timeline_dupes + max(0, timeline_stages - final["stages"]),
            "stages_late_10s": late[0],
            "max_lateness_s": round(late[1] or 0, 1),
            "mails_sent": final["mail_sent"],
            "mails_pending": final["mail_pending"],
            "mails_failed": final["mail_failed"],
            "mails_duplicated": mail_dupes,
            "p50_s": round(statistics.median([r[3] for r in results]), 3),
            "p99_before_faults_s": p99(window(0, KILL_AT)),
            "p99_worker_down_s": p99(window(KILL_AT, RESTART_AT)),
            "p99_redis_stopped_s": p99(window(STALL_AT, STALL_AT + STALL_SECONDS)),
            "p99_after_s": p99(window(STALL_AT + STALL_SECONDS, DURATION)),
            "drained": bool(done),
            "drain_s": drain_seconds,
        }
        write("faults", line)
        print(line)  # noqa: T201
        assert line["writes_lost"] == 0
        assert line["stages_missed"] == 0 and line["stages_duplicated"] == 0
        assert line["mails_duplicated"] == 0 and line["mails_pending"] == 0
    finally:
        if worker is not None:
            worker.kill()
        if web is not None:
            web.stop()
        redis_server.stop()
        postgres.destroy()
