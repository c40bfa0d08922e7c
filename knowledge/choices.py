"""Choices for knowledge articles (SPEC §3 Knowledge)."""

from django.db import models


class ArticleState(models.TextChoices):
    DRAFT = "draft", "Draft"  # being written; visible to agents and knowledge managers only
    REVIEW = "review", "In review"  # waiting for a knowledge manager to publish or send back
    PUBLISHED = "published", "Published"  # live: searchable and, by audience, visible to requesters
    RETIRED = "retired", "Retired"  # withdrawn; kept for history, hidden from requesters and suggestions


class Audience(models.TextChoices):
    EVERYONE = "everyone", "Everyone"  # requesters see it in the portal once published
    AGENTS = "agents", "Agents only"  # internal: only workspace users ever see it
