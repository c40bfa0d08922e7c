"""Satisfaction surveys: one rating (1–5) and comment per resolved incident or fulfilled request."""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from core.limits import TEXT_MAX_LENGTH


class SatisfactionSurvey(models.Model):
    """The requester's verdict on a finished ticket; the number is frozen so reports need no join."""

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.BigIntegerField()
    record = GenericForeignKey("content_type", "object_id")
    record_number = models.CharField(max_length=16)
    rating = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(5)])
    comment = models.TextField(blank=True, max_length=TEXT_MAX_LENGTH)
    respondent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["content_type", "object_id"], name="survey_one_per_record"),
            models.CheckConstraint(
                condition=models.Q(rating__gte=1, rating__lte=5), name="survey_rating_1_5"
            ),
        ]
        indexes = [models.Index(fields=["content_type", "created_at"], name="survey_kind_idx")]

    def __str__(self) -> str:
        return f"{self.record_number}: {self.rating}/5"
