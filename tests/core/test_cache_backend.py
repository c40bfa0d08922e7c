"""The default cache backend (core.perf.redis_cache): one redis-py client per pool, shared by every call and thread."""

from __future__ import annotations

import threading

from django.core.cache import caches

from core.perf.redis_cache import SharedClientRedisCache


def test_the_configured_cache_reuses_one_client_per_pool():
    backend = caches["default"]
    assert isinstance(backend, SharedClientRedisCache)
    client = backend._cache  # Django's client wrapper, which hands out redis-py clients
    assert client.get_client("a") is client.get_client("b")
    assert client.get_client("a", write=True) is client.get_client("b", write=True)


def test_one_backend_serves_concurrent_threads():
    # Django gives each thread its own backend; a backend handed to threads must still work.
    backend = caches["default"]
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        counter = f"cache-backend-test:count:{n}"
        try:
            backend.set(counter, 0, 30)
            for i in range(50):
                key = f"cache-backend-test:{n}:{i}"
                backend.set(key, (n, i), 30)
                assert backend.get(key) == (n, i)
                backend.incr(counter)
        except BaseException as exc:  # re-raised below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert [backend.get(f"cache-backend-test:count:{n}") for n in range(8)] == [50] * 8
    backend.delete_many([f"cache-backend-test:count:{n}" for n in range(8)])
