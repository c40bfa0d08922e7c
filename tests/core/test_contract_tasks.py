import pytest

from requests_app.models import CatalogCategory, CatalogItem, CatalogTaskTemplate
from requests_app.services import request_create
from tests.harness import TicketAPIContract


class TestTaskContract(TicketAPIContract):
    """A task is spawned by ordering an item without approval; its requester follows it through the request."""

    base_url = "/api/v1/tasks/"
    update_payload = {"description": "Headset is in the cupboard"}

    @pytest.fixture
    def make_record(self, service_desk):
        item = CatalogItem.objects.create(
            name="Headset", category=CatalogCategory.objects.create(name="Hardware"), approval="none"
        )
        CatalogTaskTemplate.objects.create(
            item=item, short_description="Hand over", assignment_group=service_desk
        )
        return lambda owner: request_create(actor=owner, catalog_item=item).tasks.get()
