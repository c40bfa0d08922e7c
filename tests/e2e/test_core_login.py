"""A real browser signs in as an agent and as a requester and lands on the right home page."""

import pytest

pytestmark = pytest.mark.browser


def test_agent_lands_on_workspace_and_requester_on_portal(page, login, make_user, service_desk):
    agent = make_user("agentbrowser", roles=["agent"], groups=[service_desk])
    requester = make_user("requesterbrowser")

    login(page, agent)
    assert page.url.endswith("/workspace/")
    assert page.get_by_test_id("my-work").is_visible()

    page.context.clear_cookies()
    login(page, requester)
    assert "/portal/" in page.url
    assert page.get_by_test_id("portal-open-tickets").is_visible()


def test_wrong_password_shows_an_error_and_stays_on_login(page, login, make_user):
    user = make_user("someone")
    login(page, user, password="wrong")
    assert "/accounts/login/" in page.url
    assert page.locator(".alert-danger, .invalid-feedback, .errorlist").first.is_visible()
