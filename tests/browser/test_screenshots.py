"""Screenshots of the main pages in Korean and English, at desktop (1280 px) and phone (390 px)
width, for review and for CI to keep: test-artifacts/screenshots/<page>-<lang>-<width>.png."""

from __future__ import annotations

import pytest
from tests.browser.signin import log_in

# Read by tests/browser/conftest.py: the server has its own SQLite database.
DATABASE_INDEPENDENT = True

MAIN_PAGES = {
    "home": "/",
    "region-busan": "/regions/26",
    "applications": "/applications",
    "compliance": "/compliance",
    "evaluation": "/evaluation",
    "evaluation-region-busan": "/evaluation/regions/26",
    "selection": "/selection",
    "quotas": "/quotas",
}
WIDTHS = {"desktop": 1280, "mobile": 390}


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_screenshots_of_the_main_pages(browser, site, artifacts_dir, lang):
    folder = artifacts_dir / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(base_url=site["url"], viewport={"width": 1280, "height": 900}, locale="ko-KR")
    page = context.new_page()
    page.set_default_timeout(30_000)
    written = []
    try:
        log_in(page, *site["accounts"]["ministry_officer"])
        for name, path in MAIN_PAGES.items():
            response = page.goto(f"{path}?lang={lang}")
            assert response is not None and response.status == 200, (path, response and response.status)
            assert page.locator("html").get_attribute("lang") == lang
            for label, width in WIDTHS.items():
                page.set_viewport_size({"width": width, "height": 900})
                target = folder / f"{name}-{lang}-{label}-{width}.png"
                page.screenshot(path=str(target), full_page=True)
                assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
                written.append(target)
    finally:
        context.close()
    assert len(written) == len(MAIN_PAGES) * len(WIDTHS)
