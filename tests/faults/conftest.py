"""One private PostgreSQL cluster and one private redis-server, migrated once, for the fault tests."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from .servers import PrivatePostgres, PrivateRedis, app_env, available, prepare_database


@dataclass
class Stack:
    postgres: PrivatePostgres
    redis: PrivateRedis
    env: dict
    token: str


@pytest.fixture(scope="session")
def stack():
    if not available():
        pytest.skip("needs initdb, pg_ctl and redis-server for private servers")
    postgres = PrivatePostgres().init().start()
    redis = PrivateRedis().start()
    try:
        postgres.create_database()
        env = app_env(postgres.url, redis.url)
        yield Stack(postgres, redis, env, prepare_database(env))
    finally:
        redis.stop()
        postgres.destroy()
