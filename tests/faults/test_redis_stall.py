"""Redis SIGSTOPped for 20 s under load (a private redis-server, never the machine's): creates stay fast
(p99 under 2 s) and all succeed, /health/ answers within a second naming Redis as slow, and afterwards
every acknowledged create is in the database and every mail it caused is sent (none lost)."""

from __future__ import annotations

import statistics
import threading
import time

import httpx
import pytest

from .servers import CeleryWorker, WebServer, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("serial")]

STALL_SECONDS = 20


def test_redis_stalled_under_load_keeps_creates_fast_and_loses_no_write_or_mail(stack, tmp_path):
    web = WebServer(stack.env, workers=2).start(tmp_path / "web.log")
    worker = CeleryWorker(stack.env, tmp_path).start()
    results: list[tuple] = []  # (tag, status, seconds, during_stall)
    stalled = threading.Event()
    stop = threading.Event()

    def client(n: int) -> None:
        headers = {"Authorization": f"Token {stack.token}"}
        with httpx.Client(base_url=web.base, headers=headers, timeout=30) as http:
            i = 0
            while not stop.is_set():
                tag = f"redis-stall {n}-{i}"
                i += 1
                during = stalled.is_set()
                started = time.monotonic()
                try:
                    r = http.post(
                        "/api/v1/incidents/", json={"short_description": tag, "assignment_group": "desk"}
                    )
                    status = r.status_code
                except httpx.TransportError:
                    status = None
                results.append((tag, status, time.monotonic() - started, during or stalled.is_set()))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(4)]
    try:
        for thread in threads:
            thread.start()
        time.sleep(5)
        stack.redis.pause()
        stalled.set()
        time.sleep(3)
        started = time.monotonic()
        health = httpx.get(f"{web.base}/health/", timeout=10)
        health_seconds = time.monotonic() - started
        health_view_seconds = float(health.headers["Server-Timing"].split("dur=")[1]) / 1000
        time.sleep(STALL_SECONDS - 3)
        stack.redis.resume()
        stalled.clear()
        time.sleep(5)
        stop.set()
        for thread in threads:
            thread.join(40)
        resumed = time.monotonic()
        acknowledged = [r[0] for r in results if r[1] == 201]

        def mails_pending() -> int:
            return stack.postgres.query(
                "SELECT count(*) FROM integrations_outboundemail WHERE status = 'pending'"
            )[0][0]

        drained = wait_for(lambda: mails_pending() == 0, timeout=60, interval=0.5)
        drain_seconds = time.monotonic() - resumed
    finally:
        stop.set()
        stack.redis.resume()
        worker.kill()
        web.stop()

    assert {r[1] for r in results} == {201}, sorted({str(r[1]) for r in results})
    during = sorted(r[2] for r in results if r[3])
    assert len(during) > 20, "too few requests during the stall to judge"
    p99 = during[min(len(during) - 1, int(len(during) * 0.99))]
    print(  # noqa: T201 - the README quotes these
        f"{len(results)} creates, {len(during)} during the stall: p50 {statistics.median(during):.3f} s, "
        f"p99 {p99:.3f} s, max {during[-1]:.3f} s; mails drained {drain_seconds:.1f} s after the load"
    )
    # The view answers within 1 s (its deadline is 0.8 s, core.views.HEALTH_DEADLINE_SECONDS); the rest
    # of the round trip is waiting for a free gunicorn worker behind the four clients.
    assert health.status_code == 200 and health.json()["redis"] == "slow"
    assert health_view_seconds < 1.0, health_view_seconds
    assert health_seconds < 2.0, health_seconds
    assert p99 < 2.0
    landed = stack.postgres.query(
        "SELECT count(*) FROM incidents_incident WHERE short_description = ANY(%s)", (acknowledged,)
    )[0][0]
    assert landed == len(acknowledged)
    assert drained, "mails still pending a minute after Redis came back"
    mails = stack.postgres.query(
        "SELECT count(*), count(*) FILTER (WHERE status = 'sent') FROM integrations_outboundemail e "
        "JOIN incidents_incident i ON i.number = e.ticket_number WHERE i.short_description = ANY(%s)",
        (acknowledged,),
    )[0]
    assert mails[0] >= len(acknowledged) and mails[0] == mails[1]
