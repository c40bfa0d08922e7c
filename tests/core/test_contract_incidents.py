import pytest

from incidents.services import incident_create
from tests.harness import TicketAPIContract


class TestIncidentContract(TicketAPIContract):
    base_url = "/api/v1/incidents/"
    update_payload = {"description": "More detail from the caller", "urgency": 1}

    @pytest.fixture
    def make_record(self):
        return lambda owner: incident_create(actor=owner, short_description="Printer offline")
