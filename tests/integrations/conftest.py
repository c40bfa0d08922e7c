from pathlib import Path

import pytest
from django.contrib.contenttypes.models import ContentType

from core.choices import ActivityKind
from core.models import Activity

MAILS = Path(__file__).parent / "mails"


@pytest.fixture
def mail_bytes():
    def _read(name: str) -> bytes:
        return (MAILS / name).read_bytes()

    return _read


def comments(ticket) -> list[tuple[str, bool, str]]:
    """A ticket's comments as (author, public, body), oldest first."""
    return list(
        Activity.objects.filter(
            content_type=ContentType.objects.get_for_model(ticket),
            object_id=ticket.pk,
            kind=ActivityKind.COMMENT,
        ).values_list("actor__username", "public", "body")
    )
