"""Domain errors raised by services; the API and the pages turn them into 400/409/412 with a clear message."""

from django.core.exceptions import ValidationError


class IllegalTransition(ValidationError):
    """A state move the workflow does not allow; carries the moves that are allowed from here."""

    def __init__(self, current: str, requested: str, allowed: list[str]):
        self.current = current
        self.requested = requested
        self.allowed = allowed
        allowed_text = ", ".join(allowed) if allowed else "none (this state is final)"
        super().__init__(
            {"to": f"Cannot move from {current!r} to {requested!r}. Allowed moves: {allowed_text}."}
        )


class StaleVersion(Exception):
    """The record changed since the caller read it (If-Match did not match): HTTP 412."""

    def __init__(self, current_version: int):
        self.current_version = current_version
        super().__init__(
            f"The record was changed by someone else (now version {current_version}); "
            "reload it and apply your change again."
        )


class Conflict(Exception):
    """A write that would leave the suite in a state nobody can recover from (the last admin removed): HTTP 409."""
