"""What core shows of the apps built on it, provided by those apps: core imports none of them.

An app above core (sla, cmdb...) calls `provide(name, value)` from its `AppConfig.ready()`; core reads
it with `provided(name)` when it needs it (a ticket's SLA timers on a list row or in the API, the CIs a
user may pick). Asking for something nobody provided is a configuration error, said loudly.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured

_provided: dict[str, Any] = {}


def provide(name: str, value: Any) -> None:
    _provided[name] = value


def provided(name: str) -> Any:
    try:
        return _provided[name]
    except KeyError:
        raise ImproperlyConfigured(
            f"Nothing provides {name!r} to core; the app that does registers it in its AppConfig.ready()."
        ) from None
