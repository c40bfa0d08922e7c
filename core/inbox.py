"""The approvals inbox, shared by the workspace and the portal: the user's pending approvals across every
kind that asks for them (requests, changes), and the decision both pages post (core.approvals.decide does
the work and the checks; what a decision means for the record is the kind's registered handler)."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from . import approvals


def inbox(user, *, limit: int = 200) -> list:
    """The user's pending approvals (requests and changes alike), records loaded in one query per kind."""
    return list(
        approvals.pending_for(user)
        .prefetch_related("record", "record__opened_by")
        .order_by("requested_at", "id")[:limit]
    )


def decide_from_post(user, pk: int, data) -> tuple[object, str]:
    """Apply the posted decision; returns (approval, error message or ""). Someone else's approval is 404."""
    approval = approvals.get_for_approver(user, pk)
    decision = data.get("decision")
    if decision not in ("approve", "reject"):
        return approval, "Choose approve or reject."
    comment = (data.get("comment") or "").strip()
    if decision == "reject" and not comment:
        return approval, "Say why you reject it: the requester will read your comment."
    try:
        approval = approvals.decide(approval, actor=user, approve=decision == "approve", comment=comment)
    except ValidationError as error:
        return approval, " ".join(error.messages)
    return approval, ""
