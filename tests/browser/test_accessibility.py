"""Colour contrast and keyboard focus as Chromium renders them (WCAG 2.1 AA: 4.5:1 for text,
3:1 for large text), on the pages of every role; the structural checks (labels, headings,
skip link, lang) run on every page without a browser in tests/web/test_accessibility.py."""

from __future__ import annotations

import itertools

import pytest
from tests.browser.signin import log_in

# Every visible text node: its colour composited over the backgrounds behind it. SVG text is
# compared with the fill of the tile it sits on.
CONTRAST_JS = """
() => {
  const parse = (c) => {
    const m = c.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(parseFloat);
    return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1};
  };
  const over = (top, bottom) => ({
    r: top.r * top.a + bottom.r * (1 - top.a), g: top.g * top.a + bottom.g * (1 - top.a),
    b: top.b * top.a + bottom.b * (1 - top.a), a: 1});
  const lum = (c) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
  };
  const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
  const background = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c.a > 0) { layers.push(c); if (c.a >= 1) break; }
    }
    let out = {r: 255, g: 255, b: 255, a: 1};
    for (let i = layers.length - 1; i >= 0; i--) out = over(layers[i], out);
    return out;
  };
  const bad = [];
  let checked = 0;
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const text = node.textContent.trim();
    const el = node.parentElement;
    if (!text || !el || el.closest('svg, title, desc, script, style')) continue;
    const st = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    if (st.visibility === 'hidden' || st.display === 'none' || box.width <= 1 || box.height <= 1) continue;
    if (box.right < 0 || box.bottom < 0) continue;  // moved off screen (the skip link until focused)
    const bg = background(el);
    const fg = over(parse(st.color), bg);
    const size = parseFloat(st.fontSize), bold = parseInt(st.fontWeight, 10) >= 700;
    const need = (size >= 24 || (bold && size >= 18.66)) ? 3 : 4.5;
    const r = ratio(fg, bg);
    checked++;
    if (r < need) {
      bad.push(`${text.slice(0, 40)}: ${r.toFixed(2)} < ${need} (${st.color} on ${bg.r},${bg.g},${bg.b})`);
    }
  }
  for (const tile of document.querySelectorAll('svg g.tile')) {
    const rect = tile.querySelector('rect');
    for (const t of tile.querySelectorAll('text')) {
      const fg = parse(getComputedStyle(t).fill), bg = parse(getComputedStyle(rect).fill);
      const need = parseFloat(getComputedStyle(t).fontSize) >= 18.66 ? 3 : 4.5;
      checked++;
      if (ratio(fg, bg) < need) bad.push(`tile ${tile.dataset.region} ${t.textContent}: ${ratio(fg, bg).toFixed(2)}`);
    }
  }
  return {checked, bad};
}
"""

PAGES = {
    None: ["/", "/?lang=en", "/login", "/login?lang=ko"],
    "ministry_admin": ["/admin/users", "/account", "/regions/11"],
    "regional_official": ["/regions/26", "/regions/11", "/account"],
    "auditor": ["/audit", "/audit/verify"],
}


def contrast(page) -> dict:
    return page.evaluate(CONTRAST_JS)


@pytest.mark.parametrize("role", list(PAGES))
def test_text_contrast_meets_wcag_aa(page, site, shots, role):
    if role is not None:
        log_in(page, *site["accounts"][role])
    for path in PAGES[role]:
        page.goto(path)
        result = contrast(page)
        assert result["checked"] > 10, path
        assert result["bad"] == [], f"{role or 'anonymous'} {path}: " + "; ".join(result["bad"][:10])


def test_keyboard_focus_is_visible_and_follows_the_page(page, site, shots):
    log_in(page, *site["accounts"]["ministry_admin"])
    page.goto("/admin/users")
    seen = []
    for _ in range(40):
        page.keyboard.press("Tab")
        info = page.evaluate(
            """() => { const e = document.activeElement, s = getComputedStyle(e), r = e.getBoundingClientRect();
                 return {tag: e.tagName, id: e.id, top: r.top + window.scrollY, left: r.left,
                         outline: s.outlineStyle, width: parseFloat(s.outlineWidth)}; }"""
        )
        if info["tag"] == "BODY":
            break
        assert info["outline"] != "none" and info["width"] >= 2, f"focus is not visible on {info}"
        seen.append(info)
    assert seen[0]["tag"] == "A"  # the skip link first
    # inside the main content, focus moves down the page (forms read top to bottom)
    main_top = page.evaluate("document.getElementById('main').getBoundingClientRect().top + window.scrollY")
    tops = [s["top"] for s in seen if s["top"] >= main_top]
    assert len(tops) >= 5
    assert all(b >= a - 40 for a, b in itertools.pairwise(tops)), tops
    shots(page, "focus-admin-users")


def test_the_contrast_check_finds_faint_text(page):
    page.set_content(
        '<body style="background:#fff"><p style="color:#999">faint grey on white</p>'
        '<p style="color:#111">dark enough</p><p style="color:#fff;background:#0b3d91">white on brand</p></body>'
    )
    result = contrast(page)
    assert result["checked"] == 3
    assert [b.split(":")[0] for b in result["bad"]] == ["faint grey on white"]
