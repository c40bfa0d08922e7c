"""The profile page for API tokens: create one (the key is shown once), use it, revoke it."""

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.browser


def test_a_requester_creates_uses_and_revokes_a_token(page, login, make_user):
    user = make_user("tokenuser")
    login(page, user)
    page.goto("/portal/")
    page.get_by_label("Open user menu").click()
    page.get_by_role("link", name="API tokens").click()
    page.wait_for_url("**/accounts/tokens/")
    page.fill("input[name=name]", "backup script")
    page.get_by_text("Read only", exact=True).click()
    page.select_option("select[name=expires_in_days]", "30")
    page.get_by_role("button", name="Create token").click()
    key = page.get_by_test_id("new-token-key").inner_text().strip()
    assert key.startswith("itsm_pat_")
    row = page.get_by_test_id("tokens").locator("tr", has_text="backup script")
    assert "Read only" in row.inner_text() and "Never used" in row.inner_text()
    page.screenshot(path="/tmp/i20_tokens_page.png", full_page=True)

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/v1/incidents/").status_code == 200

    page.goto("/accounts/tokens/")  # the key is not shown again
    assert page.get_by_test_id("new-token-key").count() == 0
    row = page.get_by_test_id("tokens").locator("tr", has_text="backup script")
    assert "ago" in row.inner_text()
    row.get_by_role("button", name="Revoke").click()
    page.wait_for_load_state("networkidle")
    assert "revoked" in page.content()
    assert api.get("/api/v1/incidents/").status_code == 401
