import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from core.exceptions import IllegalTransition
from core.models import Activity
from knowledge import services
from knowledge.models import Article


def test_create_numbers_from_sequence_and_starts_as_draft(agent, category):
    first = services.article_create(actor=agent, title="Reset a password", body="Steps", category="printing")
    second = services.article_create(actor=agent, title="Another", body="")
    assert first.number.startswith("KB") and len(first.number) == 9
    assert int(second.number[2:]) == int(first.number[2:]) + 1
    assert first.state == "draft" and first.category == category and first.author == agent


def test_create_refuses_bad_input_naming_the_field(agent):
    with pytest.raises(ValidationError) as error:
        services.article_create(actor=agent, title="  ", body="x")
    assert "title" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.article_create(actor=agent, title="t", body="x", category="nope")
    assert "category" in error.value.message_dict
    assert not Article.objects.exists()


def test_requesters_cannot_write(requester):
    with pytest.raises(PermissionDenied):
        services.article_create(actor=requester, title="t", body="b")


def test_workflow_review_then_publish_by_manager_only(agent, knowledge_manager):
    article = services.article_create(actor=agent, title="VPN", body="Use the client")
    article = services.article_transition(article, to="review", actor=agent)
    with pytest.raises(PermissionDenied):
        services.article_transition(article, to="published", actor=agent)
    article = services.article_transition(article, to="published", actor=knowledge_manager, note="ok")
    assert article.state == "published" and article.published_at is not None
    assert list(article.versions.values_list("number", "title")) == [(1, "VPN")]
    with pytest.raises(IllegalTransition) as error:
        services.article_transition(article, to="review", actor=knowledge_manager)
    assert error.value.allowed == ["retired"]
    moves = Activity.objects.filter(object_id=article.pk, kind="state_change").values_list("data", flat=True)
    assert [m["to"] for m in moves] == ["review", "published"]


def test_published_edit_makes_a_new_version_and_keeps_the_old(publish, knowledge_manager, agent):
    article = publish("Printer jam", "Open tray 2")
    with pytest.raises(PermissionDenied):
        services.article_update(article, actor=agent, changes={"body": "changed"})
    services.article_update(article, actor=knowledge_manager, changes={"body": "Open tray 3"})
    assert list(article.versions.order_by("number").values_list("body", flat=True)) == [
        "Open tray 2",
        "Open tray 3",
    ]
    # an edit that changes nothing writes nothing
    services.article_update(article, actor=knowledge_manager, changes={"body": "Open tray 3"})
    assert article.versions.count() == 2


def test_publish_now_for_known_error_source_only(agent, knowledge_manager):
    plain = services.article_create(actor=agent, title="Plain", body="x")
    with pytest.raises(PermissionDenied):
        services.article_publish_now(plain, actor=agent)
    assert services.article_publish_now(plain, actor=knowledge_manager).state == "published"


def test_votes_one_per_user_and_changeable(publish, requester, other_requester):
    article = publish("Wifi", "Join corp")
    services.article_vote(article, actor=requester, helpful=True)
    services.article_vote(article, actor=requester, helpful=True)
    article = services.article_vote(article, actor=other_requester, helpful=True)
    assert (article.helpful_count, article.not_helpful_count) == (2, 0)
    article = services.article_vote(article, actor=requester, helpful=False)
    assert (article.helpful_count, article.not_helpful_count) == (1, 1)


def test_view_count(publish):
    article = publish("Wifi", "Join corp")
    services.article_record_view(article)
    services.article_record_view(article)
    article.refresh_from_db()
    assert article.view_count == 2
