import pytest

from requests_app.models import CatalogCategory, CatalogItem
from requests_app.services import request_create
from tests.harness import TicketAPIContract


class TestRequestContract(TicketAPIContract):
    base_url = "/api/v1/requests/"
    update_payload = {"description": "Needed for the new starter on Monday"}

    @pytest.fixture
    def make_record(self, db):
        category = CatalogCategory.objects.create(name="Hardware")
        item = CatalogItem.objects.create(name="Headset", category=category, approval="none")
        return lambda owner: request_create(actor=owner, catalog_item=item)
