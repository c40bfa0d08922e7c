"""Portal writes that belong to no ticket app: the satisfaction survey."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from core.choices import ActivityKind
from core.services import record_activity

from .models import SatisfactionSurvey


def survey_offered(record, user) -> bool:
    """A survey is offered to the ticket's requester once the work is done (resolved, fulfilled, closed)."""
    finished = record.state in record.workflow.done_states or record.state == "closed"
    requester_ids = {
        record.opened_by_id,
        getattr(record, "caller_id", None),
        getattr(record, "requested_for_id", None),
    }
    return finished and user.pk in requester_ids


def survey_for(record) -> SatisfactionSurvey | None:
    return SatisfactionSurvey.objects.filter(
        content_type=ContentType.objects.get_for_model(record), object_id=record.pk
    ).first()


@transaction.atomic
def survey_submit(record, *, actor, rating, comment: str = "") -> SatisfactionSurvey:
    """Record the requester's rating; refuses a second answer, a rating outside 1–5, or a ticket not done."""
    try:
        rating = int(rating)
    except (TypeError, ValueError):
        raise ValidationError({"rating": "Pick a rating from 1 to 5."}) from None
    if not 1 <= rating <= 5:
        raise ValidationError({"rating": "Pick a rating from 1 to 5."})
    if not survey_offered(record, actor):
        raise ValidationError({"rating": "This ticket cannot be rated (yet)."})
    comment = (comment or "").strip()[:5000]
    try:
        with transaction.atomic():
            survey = SatisfactionSurvey.objects.create(
                content_type=ContentType.objects.get_for_model(record),
                object_id=record.pk,
                record_number=record.number,
                rating=rating,
                comment=comment,
                respondent=actor,
            )
    except IntegrityError:
        raise ValidationError({"rating": "This ticket has already been rated."}) from None
    record_activity(
        record,
        kind=ActivityKind.SYSTEM,
        actor=actor,
        public=False,
        body=f"Satisfaction survey: {rating}/5" + (f" — {comment}" if comment else ""),
        data={"survey": survey.pk, "rating": rating},
    )
    return survey
