"""The default cache backend: Django's Redis cache with one redis-py client per connection pool.

Django's backend builds a new `redis.Redis` object for every cache call, and redis-py's constructor copies
its table of some 170 response callbacks each time: that cost more CPU than the round trip of the GET it
was made for (the configuration stamp every API request reads, core.config_cache). A `redis.Redis` object
is safe to share between threads (each command borrows a connection from the pool and returns it), so
each pool gets one, made on first use.
"""

from __future__ import annotations

from django.core.cache.backends.redis import RedisCache, RedisCacheClient


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


class SharedClientRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = SharedClientRedisCacheClient
