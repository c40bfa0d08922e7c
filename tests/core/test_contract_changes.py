import pytest

from changes.models import Change
from core.services import create_ticket
from tests.harness import TicketAPIContract


class TestChangeContract(TicketAPIContract):
    base_url = "/api/v1/changes/"
    update_payload = {"backout_plan": "Restore the previous firmware image"}

    @pytest.fixture
    def make_record(self, db):
        # change_create is for change writers; core's create_ticket gives a record opened by a plain requester,
        # whose scope (opened or watching) the contract checks.
        return lambda owner: create_ticket(
            Change, actor=owner, fields={"short_description": "Upgrade core switch"}
        )
