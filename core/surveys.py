"""The satisfaction survey report's figures, over every kind a requester can rate.

The surveys themselves are the portal's (portal.models.SatisfactionSurvey, written by the requester's
survey page); core reads them through the model the portal provides (core.extensions), since core
imports nothing from the apps built on it.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Avg, Count, Q

from .extensions import provided


def survey_results(*, latest: int = 20) -> dict[str, Any]:
    """`summary` (count, average), `bars` (answers per rating, 5 to 1, with their share), `by_kind`
    (answers, average and ratings of 1-2 per record kind) and the `latest` answers with a comment."""
    surveys = provided("survey_model").objects.all()
    summary = surveys.aggregate(count=Count("id"), average=Avg("rating"))
    distribution = {
        row["rating"]: row["n"] for row in surveys.values("rating").annotate(n=Count("id")).order_by("rating")
    }
    bars = [
        {
            "rating": r,
            "count": distribution.get(r, 0),
            "percent": round(100 * distribution.get(r, 0) / (summary["count"] or 1)),
        }
        for r in range(5, 0, -1)
    ]
    by_kind = (
        surveys.values("content_type__model")
        .annotate(n=Count("id"), average=Avg("rating"), low=Count("id", filter=Q(rating__lte=2)))
        .order_by("content_type__model")
    )
    return {
        "summary": summary,
        "bars": bars,
        "by_kind": by_kind,
        "latest": surveys.select_related("respondent").exclude(comment="")[:latest],
    }
