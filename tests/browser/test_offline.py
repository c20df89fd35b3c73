"""A machine with no Korean font and no internet: Hangul is still drawn, and the API docs work.

Chromium runs here with a fontconfig that knows only DejaVu (no Hangul glyphs), and every
request that leaves loopback is aborted, so the page can rely only on what the application
serves. Hangul is "drawn" when two different syllables render to different pixels: a missing
glyph is the same box whatever the character, which the control span (DejaVu only) shows.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from tests.browser.conftest import CHROMIUM, LAUNCH_ARGS

FONTS_CONF = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig>
  <dir>/usr/share/fonts/truetype/dejavu</dir>
  <cachedir>{cache}</cachedir>
</fontconfig>
"""


@pytest.fixture(scope="module")
def bare_browser(tmp_path_factory):
    """Chromium that sees DejaVu only (a machine without Korean fonts)."""
    from playwright.sync_api import sync_playwright

    folder = tmp_path_factory.mktemp("fontconfig")
    conf = folder / "fonts.conf"
    conf.write_text(FONTS_CONF.format(cache=folder / "cache"))
    assert Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf").exists(), "DejaVu fonts are part of Debian's base"
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS, env={"FONTCONFIG_FILE": str(conf)}
        )
        yield browser
        browser.close()


@pytest.fixture
def offline_page(bare_browser, site):
    context = bare_browser.new_context(base_url=site["url"], viewport={"width": 1280, "height": 900}, locale="ko-KR")
    outside: list[str] = []

    def only_loopback(route):
        if route.request.url.startswith(site["url"]):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_loopback)
    tab = context.new_page()
    tab.set_default_timeout(20_000)
    yield tab, outside
    context.close()


def _pixels(locator) -> bytes:
    return Image.open(io.BytesIO(locator.screenshot())).convert("L").tobytes()


PROBE = """
(() => {
  for (const [id, family, text] of [["probe-a", "%s", "가"], ["probe-b", "%s", "힣"]]) {
    const span = document.createElement("span");
    span.id = id; span.textContent = text;
    span.style.cssText = `font-family: ${family}; font-size: 48px; display: inline-block; padding: 4px;`
      + " background: #fff; color: #000";
    document.body.prepend(span);
  }
})()
"""


def _probe_differs(page, family: str) -> bool:
    page.evaluate("for (const id of ['probe-a', 'probe-b']) document.getElementById(id)?.remove()")
    page.evaluate(PROBE % (family, family))
    # Wait until every face the probe's text needs is loaded (the web font is fetched on first use).
    page.evaluate(
        "async (font) => { await document.fonts.load(font, '가힣'); await document.fonts.ready; }", f"48px {family}"
    )
    a, b = _pixels(page.locator("#probe-a")), _pixels(page.locator("#probe-b"))
    return a != b


def test_hangul_is_drawn_with_the_served_font_without_system_fonts(offline_page, shots):
    page, outside = offline_page
    page.goto("/")
    page.evaluate("async () => { await document.fonts.ready; }")
    # The control: with DejaVu alone both syllables are the same missing-glyph box.
    assert not _probe_differs(page, "'DejaVu Sans'"), "the probe cannot tell boxes from glyphs"
    # The page's own font stack draws them.
    body_font = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert _probe_differs(page, body_font.replace('"', "'")), "Hangul is drawn as boxes"
    loaded = page.evaluate(
        "[...document.fonts].filter(f => f.family.replace(/\"/g, '') === 'NanumGothic' && f.status === 'loaded').length"
    )
    assert loaded >= 1
    page.evaluate("for (const id of ['probe-a', 'probe-b']) document.getElementById(id)?.remove()")
    heading = page.get_by_role("heading", level=1)
    assert heading.inner_text() == "전국 현황"
    shots(page, "overview-ko-no-system-fonts")
    assert outside == []


def test_font_is_served_compressed_and_cached(site):
    import httpx

    response = httpx.get(f"{site['url']}/static/fonts/NanumGothic.woff")
    assert response.status_code == 200
    assert response.headers["content-type"] == "font/woff"
    assert "immutable" in response.headers["cache-control"]
    assert response.content[:4] == b"wOFF"
    assert len(response.content) < 3_000_000  # compressed (the TrueType file is 4.7 MB)
    assert httpx.get(f"{site['url']}/static/fonts/other.ttf").status_code == 404


@pytest.mark.parametrize(
    ("path", "operation"),
    [
        ("/api/v1/docs", ".opblock-summary"),
        ("/api/v1/redoc", "[data-section-id^='tag/'], [data-section-id^='operation/']"),
    ],
)
def test_api_docs_draw_the_operations_without_internet(offline_page, path, operation, shots):
    page, outside = offline_page
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    response = page.goto(path)
    assert response.status == 200
    page.wait_for_selector(operation, timeout=30_000)
    assert page.locator(operation).count() > 20
    if path.endswith("/docs"):  # the bilingual description draws its Hangul too
        family = page.evaluate(
            "getComputedStyle(document.querySelector('.swagger-ui .info .description p')).fontFamily"
        )
        assert _probe_differs(page, family.replace('"', "'")), "Hangul in the API docs is drawn as boxes"
        page.evaluate("for (const id of ['probe-a', 'probe-b']) document.getElementById(id)?.remove()")
    shots(page, "api-" + path.rsplit("/", 1)[-1])
    assert outside == [], f"requests left the machine: {outside[:3]}"
    # ReDoc's sidebar links its logo from its makers' site: the policy blocks that image, nothing else.
    assert not [e for e in errors if "Content Security Policy" in e and "img-src" not in e], errors
