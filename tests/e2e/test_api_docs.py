"""The API docs render offline, under the suite's CSP: Swagger UI and ReDoc come from our static files."""

import pytest

pytestmark = pytest.mark.browser


def _watch(page, base_url: str) -> list[str]:
    """Record CSP violations and requests that leave the server (a CDN would)."""
    problems: list[str] = []
    page.on(
        "console", lambda msg: problems.append(msg.text) if "Content Security Policy" in msg.text else None
    )
    page.on(
        "request",
        lambda req: None if req.url.startswith((base_url, "blob:", "data:")) else problems.append(req.url),
    )
    return problems


def test_swagger_ui_lists_the_operations(page, live_server):
    problems = _watch(page, live_server.url)
    response = page.goto("/api/v1/docs/")
    script_src = response.headers["content-security-policy"].split("script-src")[1].split(";")[0]
    assert "unsafe-inline" not in script_src
    # The schema is generated per request: seconds on a busy machine.
    page.wait_for_selector(".opblock-summary-path", timeout=120_000)
    paths = [p.replace("\u200b", "") for p in page.locator(".opblock-summary-path").all_text_contents()]
    assert "/api/v1/auth/tokens/" in paths, paths[:20]
    # Swagger UI renders the later tags as the page scrolls, and only those in view (a virtual list): a step
    # under the viewport's height (900) so that no tag is scrolled past between two looks.
    for _ in range(300):
        if page.locator(".opblock-tag", has_text="incidents").count():
            break
        page.mouse.wheel(0, 800)
        page.wait_for_timeout(300)
    assert page.locator(".opblock-tag", has_text="incidents").count() >= 1
    page.locator(".opblock-summary-path").first.click()
    page.wait_for_selector(".opblock-body")
    assert problems == []


def test_redoc_renders_the_operations(page, live_server):
    problems = _watch(page, live_server.url)
    page.goto("/api/v1/redoc/")
    page.wait_for_selector("[data-section-id^='tag/']", timeout=120_000)
    assert page.locator("[data-section-id='tag/auth']").count() == 1
    assert page.locator("[data-section-id^='tag/auth/operation/']").count() >= 4
    # The bundle's sidebar logo is an image on cdn.redoc.ly: the CSP blocks it (no request leaves) and
    # ReDoc hides it; anything else would be a real violation.
    assert [p for p in problems if "cdn.redoc.ly/redoc/logo-mini.svg" not in p] == []
