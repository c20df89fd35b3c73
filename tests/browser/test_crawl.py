"""Every page, for every role, in Chromium: no sideways scrolling at 320 and 390 px, and no
serious or critical violation found by axe-core (issue 17, requirement 9).

The pages are every GET page route of the app (as the route walk in tests/accounts/routewalk.py
builds them, with the path parameters of the domains' `route_samples.py` for Busan) that answer
the caller 200 with HTML. One browser, one context per role, one server for the module.

The server runs on its own SQLite database whatever database the suite uses, so this module runs
once per `make test`, on its SQLite pass (tests/browser/conftest.py deselects it on the
PostgreSQL pass).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from tests.actors import SYSTEM

# Read by tests/browser/conftest.py: the result does not depend on the suite's database.
DATABASE_INDEPENDENT = True

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = (390, 320)
ROLES = [None, "ministry_admin", "ministry_officer", "regional_official", "committee_member", "auditor"]
BLOCKING = ("serious", "critical")
# Template-level findings left to the pages' owners (issue 17), each named with its page and
# rule: the crawl fails on anything else, and on these everywhere else.
KNOWN: set[tuple[str, str]] = set()
# Pages allowed to be wider than a phone: none (the selection minutes, one document for the page
# and the PDF, wrap their cells on narrow screens).
KNOWN_WIDE: set[str] = set()

# Elements wider than the window that make the page scroll sideways: the outermost ones, leaving
# out what sits inside a box that scrolls or clips on its own (a wide table in .table-wrap).
OVERFLOW_JS = """
() => {
  const w = window.innerWidth, doc = document.documentElement;
  const culprits = [];
  if (doc.scrollWidth > w) {
    const clips = (e) => { for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) {
        const o = getComputedStyle(p).overflowX; if (o !== 'visible') return true; } return false; };
    const name = (e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
        (typeof e.className === 'string' && e.className.trim() ? '.' + e.className.trim().split(/\\s+/).join('.') : '');
    for (const e of document.body.querySelectorAll('*')) {
      const r = e.getBoundingClientRect();
      if (r.width === 0 || r.right <= w + 1 || clips(e)) continue;
      const parent = e.parentElement.getBoundingClientRect();
      if (e.parentElement !== document.body && parent.right > w + 1) continue;
      culprits.push(`${name(e)} (right ${Math.round(r.right)})`);
      if (culprits.length >= 4) break;
    }
  }
  return {scroll: doc.scrollWidth, inner: w, culprits};
}
"""

AXE_JS = """
async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help, count: v.nodes.length,
    nodes: v.nodes.slice(0, 3).map(n =>
      n.target.join(' ') + ' :: ' + (n.failureSummary || '').replace(/\\s+/g, ' ').slice(0, 160)),
  }));
}
"""


def _routewalk():
    name = "regionvisa_tests_routewalk"  # the name the other tests load it under
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).parents[1] / "accounts" / "routewalk.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def log_in(page, username: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("사용자 이름").fill(username)
    page.get_by_label("비밀번호").fill(password)
    page.get_by_role("button", name="로그인").click()
    page.wait_for_load_state()


def page_urls(site) -> list[str]:
    """One URL per GET page route, its path parameters from the domains' route samples (Busan)."""
    from regionvisa.accounts import service
    from regionvisa.app import create_app
    from regionvisa.db import session_scope

    rw = _routewalk()
    engine = site["engine"]
    with session_scope(engine=engine) as session:
        target = service.create_user(
            session=session,
            actor=SYSTEM,
            username="t.crawl-target",
            display_name="Crawl target",
            role="ministry_officer",
            region=None,
            password=site["accounts"]["ministry_admin"][1],
        )
        token, _ = service.create_token(session=session, actor=SYSTEM, user=target, name="crawl")
        builtin = {"kind": "people", "user_id": target.id, "token_id": token.id}
    samples = rw.collect_samples(engine, rw.OWN)
    world = rw.World(tokens={}, builtin={**builtin, **samples.shared}, samples={rw.OWN: samples}, leak_markers=[])
    return [url for _path, url in rw.page_urls(create_app(engine=engine), world)]


@pytest.fixture(scope="module")
def crawl(site):
    if not AXE.exists():
        pytest.fail(f"axe-core is not installed ({AXE.name} missing): run `npm ci` (`make test` does it)")
    return {"urls": page_urls(site), "report": {}}


def visit(context, page, url: str) -> bool:
    """Open `url` if it answers this caller 200 with HTML (downloads and refusals are not pages)."""
    probe = context.request.get(url, max_redirects=0)
    if probe.status != 200 or not probe.headers.get("content-type", "").startswith("text/html"):
        return False
    response = page.goto(url)
    return response is not None and response.status == 200


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r or "anonymous")
def test_every_page_fits_a_phone_and_passes_axe(browser, site, crawl, role):
    context = browser.new_context(
        base_url=site["url"], viewport={"width": WIDTHS[0], "height": 844}, locale="ko-KR", bypass_csp=True
    )
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        if role is not None:
            log_in(page, *site["accounts"][role])
        problems: list[str] = []
        visited = []
        for url in crawl["urls"]:
            if not visit(context, page, url):
                continue
            visited.append(url)
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": 844})
                fit = page.evaluate(OVERFLOW_JS)
                if fit["scroll"] > fit["inner"] and url not in KNOWN_WIDE:
                    problems.append(
                        f"{url} at {width}px scrolls sideways ({fit['scroll']} > {fit['inner']}): "
                        + ", ".join(fit["culprits"])
                    )
            page.set_viewport_size({"width": WIDTHS[0], "height": 844})
            page.add_script_tag(path=str(AXE))
            for v in page.evaluate(AXE_JS):
                if v["impact"] in BLOCKING and (url, v["id"]) not in KNOWN:
                    problems.append(f"{url}: axe {v['impact']} {v['id']} ({v['help']}, {v['count']}x): {v['nodes']}")
        crawl["report"][role or "anonymous"] = len(visited)
        print(f"{role or 'anonymous'}: {len(visited)} pages crawled")
        assert len(visited) >= (3 if role is None else 8), visited
        assert not problems, f"{role or 'anonymous'}: {len(problems)} problems\n" + "\n".join(problems)
    finally:
        context.close()


def test_the_checks_can_fail(browser):
    """A page wider than the phone, and an unlabelled field on white-on-white text, are found."""
    context = browser.new_context(viewport={"width": 320, "height": 600}, bypass_csp=True)
    page = context.new_page()
    try:
        page.set_content(
            '<html><body><main><table><tr><td style="white-space:nowrap">'
            + "wide " * 40
            + '</td></tr></table><p style="color:#bbb;background:#fff">faint grey text</p>'
            + '<input type="text"></main></body></html>'
        )
        fit = page.evaluate(OVERFLOW_JS)
        assert fit["scroll"] > fit["inner"] and fit["culprits"]
        page.add_script_tag(path=str(AXE))
        found = {v["id"] for v in page.evaluate(AXE_JS) if v["impact"] in BLOCKING}
        assert {"color-contrast", "label"} <= found, found
    finally:
        context.close()
