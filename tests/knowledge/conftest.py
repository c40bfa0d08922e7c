import pytest

from knowledge import services
from knowledge.models import Category


@pytest.fixture
def knowledge_manager(make_user):
    return make_user("kate", roles=["knowledge_manager"])


@pytest.fixture
def category(db):
    return Category.objects.create(name="printing", label="Printing")


@pytest.fixture
def publish(knowledge_manager):
    """Create and publish an article in one call (as the knowledge manager)."""

    def _publish(title: str, body: str = "", **kwargs):
        article = services.article_create(actor=knowledge_manager, title=title, body=body, **kwargs)
        return services.article_transition(article, to="published", actor=knowledge_manager)

    return _publish
