"""Core Celery tasks."""

import time

import redis
from celery import shared_task
from django.conf import settings

from .views import WORKER_HEARTBEAT_KEY


@shared_task(name="core.worker_heartbeat", ignore_result=True)
def worker_heartbeat() -> None:
    """Beat runs this every 30 s; /health/ reports the worker stale when the stamp is older than 2 min."""
    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
    client.set(WORKER_HEARTBEAT_KEY, str(time.time()), ex=3600)
