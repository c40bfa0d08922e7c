"""The test suite: fast password hashing, media in a temporary folder, real PostgreSQL and Redis."""

import tempfile

from .base import *  # noqa: F403
from .base import env

DEBUG = False
SECRET_KEY = "test-only-not-secret-" + "x" * 40
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MEDIA_ROOT = tempfile.mkdtemp(prefix="itsm-test-media-")
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
DATABASES["default"]["TEST"] = {"NAME": env("TEST_DATABASE_NAME", default=None)}  # noqa: F405
# Unit tests run Celery tasks in process; tests marked celery_worker start a real worker against Redis.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
CELERY_TASK_EAGER_PROPAGATES = True
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {"login": "1000/min"}  # noqa: F405
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
# Each xdist worker gets its own cache namespace in the shared Redis.
CACHES["default"]["KEY_PREFIX"] = "itsm-test-" + env("PYTEST_XDIST_WORKER", default="main")  # noqa: F405
