import pytest

from core.services import create_ticket
from problems.models import Problem
from tests.harness import TicketAPIContract


class TestProblemContract(TicketAPIContract):
    base_url = "/api/v1/problems/"
    update_payload = {"root_cause": "Expired certificate", "workaround": "Reconnect"}

    @pytest.fixture
    def make_record(self, db):
        # problem_create is agent-only; core's create_ticket gives a record opened by a plain requester,
        # whose scope (opened or watching) the contract checks.
        return lambda owner: create_ticket(
            Problem, actor=owner, fields={"short_description": "VPN drops hourly"}
        )
