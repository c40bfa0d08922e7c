"""The default cache backend: Django's Redis cache with one redis-py client per connection pool, behind a
circuit breaker.

Django's backend builds a new `redis.Redis` object for every cache call, and redis-py's constructor copies
its table of some 170 response callbacks each time: that cost more CPU than the round trip of the GET it
was made for (the configuration stamp every API request reads, core.config_cache). A `redis.Redis` object
is safe to share between threads (each command borrows a connection from the pool and returns it), so
each pool gets one, made on first use.

Every operation goes through `core.breaker.CACHE`: while Redis is failing, operations raise at once
instead of each waiting for the socket timeout. Callers already treat a cache error as a miss.
"""

from __future__ import annotations

import redis.exceptions
from django.core.cache.backends.redis import RedisCache, RedisCacheClient

from core.breaker import CACHE

UNAVAILABLE = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


def _guarded(name: str):
    method = getattr(RedisCacheClient, name)

    def call(self, *args, **kwargs):
        if not CACHE.available():
            raise redis.exceptions.ConnectionError("Redis cache skipped: it failed moments ago")
        try:
            result = method(self, *args, **kwargs)
        except UNAVAILABLE as exc:
            CACHE.failed(exc)
            raise
        CACHE.succeeded()
        return result

    call.__name__ = name
    return call


class SharedClientRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._client(connection_pool=self._get_connection_pool(write))
            self._clients[index] = client
        return client

    add = _guarded("add")
    get = _guarded("get")
    set = _guarded("set")
    touch = _guarded("touch")
    delete = _guarded("delete")
    get_many = _guarded("get_many")
    has_key = _guarded("has_key")
    incr = _guarded("incr")
    set_many = _guarded("set_many")
    delete_many = _guarded("delete_many")
    clear = _guarded("clear")


class SharedClientRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = SharedClientRedisCacheClient
