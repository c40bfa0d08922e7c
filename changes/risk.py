"""The short risk questionnaire: a few weighted yes/no questions give low, moderate or high.

Answers are `{"question key": true|false}`; unanswered questions count as "no". A change manager may
override the result with a reason (Change.risk_override / risk_override_reason).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError

from .choices import Risk

# (key, question, weight)
QUESTIONS: list[tuple[str, str, int]] = [
    ("production", "Does the change touch production systems?", 3),
    ("downtime", "Will users see downtime or degraded service during the change?", 3),
    ("no_backout", "Is backing out hard or untested?", 3),
    ("untested", "Has the change not been tested in a lower environment?", 2),
    ("many_services", "Does it affect more than one business service?", 2),
]
WEIGHTS = {key: weight for key, _text, weight in QUESTIONS}
MODERATE_FROM = 4  # score 0-3 low, 4-7 moderate, 8+ high
HIGH_FROM = 8


def validate_answers(answers) -> dict[str, bool]:
    if answers in (None, ""):
        return {}
    if not isinstance(answers, dict):
        raise ValidationError({"risk_answers": "Give the answers as an object of question → true/false."})
    unknown = sorted(set(answers) - set(WEIGHTS))
    if unknown:
        raise ValidationError(
            {"risk_answers": f"Unknown question(s): {', '.join(unknown)}. Known: {', '.join(WEIGHTS)}."}
        )
    bad = sorted(key for key, value in answers.items() if not isinstance(value, bool))
    if bad:
        raise ValidationError({"risk_answers": f"Answer with true or false: {', '.join(bad)}."})
    return dict(answers)


def score(answers: dict[str, bool]) -> int:
    return sum(WEIGHTS[key] for key, value in (answers or {}).items() if value and key in WEIGHTS)


def risk_for(answers: dict[str, bool]) -> str:
    points = score(answers)
    if points >= HIGH_FROM:
        return Risk.HIGH
    if points >= MODERATE_FROM:
        return Risk.MODERATE
    return Risk.LOW
