"""PostgreSQL restarted under load (a private cluster, never the machine's): every failed request is a JSON
503 with Retry-After, a page is a styled 503, none is a 500 or a traceback (DEBUG is on), and every
acknowledged (201) create is in the database afterwards."""

from __future__ import annotations

import re
import threading
import time

import httpx
import pytest

from .servers import WebServer

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("serial")]


def signed_in(base: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=15)
    page = client.get("/accounts/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    response = client.post(
        "/accounts/login/",
        data={"username": "faultagent", "password": "fault-pass-1", "csrfmiddlewaretoken": token},
        headers={"Referer": base + "/accounts/login/"},
    )
    assert response.status_code == 302, response.text[:500]
    return client


def test_postgres_restart_under_load_answers_json_503s_and_loses_no_acknowledged_write(stack, tmp_path):
    web = WebServer(stack.env, workers=2).start(tmp_path / "web.log")
    browser = signed_in(web.base)
    results: list[tuple] = []
    stop = threading.Event()

    def client(n: int) -> None:
        headers = {"Authorization": f"Token {stack.token}"}
        with httpx.Client(base_url=web.base, headers=headers, timeout=20) as http:
            i = 0
            while not stop.is_set():
                tag = f"pg-restart {n}-{i}"
                i += 1
                try:
                    r = http.post(
                        "/api/v1/incidents/", json={"short_description": tag, "assignment_group": "desk"}
                    )
                except httpx.TransportError as exc:
                    results.append((tag, None, "", None, repr(exc)))
                    continue
                results.append(
                    (
                        tag,
                        r.status_code,
                        r.headers.get("content-type", ""),
                        r.headers.get("retry-after"),
                        r.text,
                    )
                )

    threads = [threading.Thread(target=client, args=(n,)) for n in range(4)]
    try:
        for thread in threads:
            thread.start()
        time.sleep(3)
        stack.postgres.stop("fast")  # terminates every open connection, then refuses new ones
        time.sleep(1)
        page = browser.get("/incidents/")
        api_list = httpx.get(
            f"{web.base}/api/v1/incidents/", headers={"Authorization": f"Token {stack.token}"}, timeout=10
        )
        health = httpx.get(f"{web.base}/health/", timeout=10)
        time.sleep(2)
        stack.postgres.start()
        time.sleep(4)
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)
        web.stop()

    assert page.status_code == 503 and page.headers["content-type"].startswith("text/html")
    assert "Temporarily unavailable" in page.text and "tabler.min.css" in page.text
    assert "Traceback" not in page.text and page.headers["retry-after"] == "5"
    assert api_list.status_code == 503 and api_list.json()["retry_after"] == 5
    assert health.status_code == 503 and health.json()["database"] == "down"

    statuses = {status for _, status, *_ in results}
    assert statuses <= {201, 503}, {s: next(r[4][:300] for r in results if r[1] == s) for s in statuses}
    failed = [r for r in results if r[1] == 503]
    acknowledged = [r[0] for r in results if r[1] == 201]
    assert failed, "the restart caused no failure: the test did not test anything"
    assert len(acknowledged) > 20
    for _, _, content_type, retry_after, body in failed:
        assert content_type == "application/json" and retry_after == "5", body[:300]
        assert "Traceback" not in body
        payload = httpx.Response(200, content=body).json()
        assert set(payload) == {"detail", "retry_after"} and payload["retry_after"] == 5
    landed = {
        row[0]
        for row in stack.postgres.query(
            "SELECT short_description FROM incidents_incident WHERE short_description = ANY(%s)",
            (acknowledged,),
        )
    }
    assert landed == set(acknowledged)
    print(f"{len(acknowledged)} creates acknowledged and landed, {len(failed)} answered 503")  # noqa: T201
