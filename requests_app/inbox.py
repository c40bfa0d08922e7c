"""The approvals inbox shared by the portal and the workspace: pending approvals across kinds, and the
decision handler both pages post to (core.approvals.decide does the work and the checks)."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from core import approvals as core_approvals


def inbox(user, *, limit: int = 200) -> list:
    """The user's pending approvals (requests and changes alike), records loaded in one query per kind."""
    return list(
        core_approvals.pending_for(user)
        .prefetch_related("record", "record__opened_by")
        .order_by("requested_at", "id")[:limit]
    )


def decide_from_post(user, pk: int, data) -> tuple[object, str]:
    """Apply the posted decision; returns (approval, error message or ""). Someone else's approval is 404."""
    approval = core_approvals.get_for_approver(user, pk)
    decision = data.get("decision")
    if decision not in ("approve", "reject"):
        return approval, "Choose approve or reject."
    comment = (data.get("comment") or "").strip()
    if decision == "reject" and not comment:
        return approval, "Say why you reject it: the requester will read your comment."
    try:
        approval = core_approvals.decide(approval, actor=user, approve=decision == "approve", comment=comment)
    except ValidationError as error:
        return approval, " ".join(error.messages)
    return approval, ""
