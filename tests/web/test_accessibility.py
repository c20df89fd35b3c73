"""Accessibility of every page, as served: every GET page route of every domain, for anonymous
callers and for each role, in Korean and in English.

Each page must have the language attribute, exactly one h1 and no skipped heading levels, a
skip link as the first thing to focus that leads to the main content, a label for every form
control, a name for every link and button, alt text for images, unique ids, and no positive
tabindex (so focus follows the reading order). Colour contrast and real keyboard focus are
checked in Chromium (tests/browser/test_accessibility.py).
"""

from __future__ import annotations

import importlib.util
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
UNLABELLED_INPUTS = {"hidden", "submit", "button", "reset", "image"}
FOCUSABLE = {"a", "button", "input", "select", "textarea"}


def _routewalk():
    name = "regionvisa_tests_routewalk"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "tests" / "accounts" / "routewalk.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


class Node:
    def __init__(self, tag: str, attrs: dict, parent: Node | None):
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[Node | str] = []

    def text(self) -> str:
        return " ".join(c if isinstance(c, str) else c.text() for c in self.children).strip()

    def iter(self):
        yield self
        for child in self.children:
            if isinstance(child, Node):
                yield from child.iter()

    def ancestors(self):
        node = self.parent
        while node is not None:
            yield node
            node = node.parent


class Tree(HTMLParser):
    """A small DOM from the standard library's parser (enough for these checks)."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {}, None)
        self.current = self.root
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: (v if v is not None else "") for k, v in attrs}, self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_startendtag(self, tag, attrs):
        self.current.children.append(Node(tag, {k: (v or "") for k, v in attrs}, self.current))

    def handle_endtag(self, tag):
        node = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data):
        if data.strip():
            self.current.children.append(data.strip())


def accessible_name(node: Node, by_id: dict) -> str:
    if node.attrs.get("aria-label", "").strip():
        return node.attrs["aria-label"]
    if node.attrs.get("aria-labelledby"):
        return " ".join(by_id[i].text() for i in node.attrs["aria-labelledby"].split() if i in by_id)
    parts = [node.text()]
    parts += [n.attrs.get("alt", "") for n in node.iter() if n.tag == "img"]
    parts += [n.attrs.get("aria-label", "") for n in node.iter() if n.tag == "svg"]
    if node.tag == "input":
        parts.append(node.attrs.get("value", ""))
    return " ".join(p for p in parts if p).strip()


def page_problems(html: str, lang: str) -> list[str]:
    tree = Tree(html)
    nodes = list(tree.root.iter())
    problems: list[str] = []
    html_tag = next((n for n in nodes if n.tag == "html"), None)
    if html_tag is None or html_tag.attrs.get("lang") != lang:
        problems.append(f"<html lang> is {html_tag.attrs.get('lang') if html_tag else None!r}, not {lang!r}")
    by_id: dict[str, Node] = {}
    for node in nodes:
        if "id" in node.attrs:
            if node.attrs["id"] in by_id:
                problems.append(f"id {node.attrs['id']!r} is used twice")
            by_id[node.attrs["id"]] = node
    headings = [n for n in nodes if len(n.tag) == 2 and n.tag[0] == "h" and n.tag[1].isdigit()]
    h1 = [h for h in headings if h.tag == "h1"]
    if len(h1) != 1 or not h1[0].text():
        problems.append(f"{len(h1)} h1 elements (one, with text, is required)")
    previous = 0
    for heading in headings:
        level = int(heading.tag[1])
        if level > previous + 1:
            problems.append(f"heading level skipped: <{heading.tag}> {heading.text()[:40]!r} after h{previous}")
        previous = level
    focusable = [
        n
        for n in nodes
        if (n.tag in FOCUSABLE and not (n.tag == "input" and n.attrs.get("type") == "hidden"))
        and not (n.tag == "a" and "href" not in n.attrs)
    ]
    first = focusable[0] if focusable else None
    if first is None or "skip-link" not in first.attrs.get("class", "").split() or first.attrs.get("href") != "#main":
        problems.append("the first focusable element is not the skip link to #main")
    main = by_id.get("main")
    if main is None or main.tag != "main":
        problems.append("no <main id='main'> for the skip link")
    labels_for = {n.attrs.get("for") for n in nodes if n.tag == "label"}
    for node in nodes:
        described = f"<{node.tag} {' '.join(f'{k}={v!r}' for k, v in list(node.attrs.items())[:3])}>"
        if node.tag in ("input", "select", "textarea"):
            if node.tag == "input" and node.attrs.get("type", "text") in UNLABELLED_INPUTS:
                if node.attrs.get("type") in ("submit", "button", "reset") and not accessible_name(node, by_id):
                    problems.append(f"{described}: a button without a name")
                continue
            labelled = (
                node.attrs.get("id") in labels_for
                or any(a.tag == "label" for a in node.ancestors())
                or node.attrs.get("aria-label", "").strip()
                or any(i in by_id for i in node.attrs.get("aria-labelledby", "").split())
            )
            if not labelled:
                problems.append(f"{described}: a form control without a label")
        elif node.tag in ("button", "a") and (node.tag == "button" or "href" in node.attrs):
            if not accessible_name(node, by_id):
                problems.append(f"{described}: a {node.tag} without a name")
        elif node.tag == "img" and "alt" not in node.attrs:
            problems.append(f"{described}: an image without alt text")
        elif node.tag == "svg" and node.attrs.get("role") == "img" and not accessible_name(node, by_id):
            problems.append(f"{described}: an image (svg) without a name")
        if node.attrs.get("tabindex", "0").lstrip("-").isdigit() and int(node.attrs.get("tabindex", "0")) > 0:
            problems.append(f"{described}: positive tabindex breaks the focus order")
    return problems


def test_the_checks_catch_what_they_must():
    good = (
        '<html lang="ko"><body><a class="skip-link" href="#main">skip</a><main id="main"><h1>T</h1>'
        '<form><label for="a">A</label><input id="a"><label>B <select><option>x</option></select></label>'
        '<input type="hidden" name="csrf_token"><button>Go</button></form></main></body></html>'
    )
    assert page_problems(good, "ko") == []
    bad = (
        '<html><body><a href="/">home</a><main><h1>T</h1><h1>U</h1><h3>V</h3>'
        '<input id="x"><input id="x" aria-label="y"><button></button><img src="a.png">'
        '<span tabindex="2">z</span></main></body></html>'
    )
    found = "\n".join(page_problems(bad, "ko"))
    for expected in (
        "<html lang>",
        "2 h1 elements",
        "heading level skipped",
        "not the skip link",
        "no <main",
        "used twice",
        "without a label",
        "a button without a name",
        "without alt",
        "positive tabindex",
    ):
        assert expected in found, expected


@pytest.fixture
def world(app, engine, role_users, make_user, records):
    return _routewalk().build_world(engine, role_users, make_user, records)


def served_pages(app, client, world):
    """(where, lang, html) of every GET page route, for anonymous callers and each role, in both
    languages; path parameters come from the route walk's samples (Busan's objects)."""
    rw = _routewalk()
    callers = {"anonymous": {}} | {role: {"Authorization": f"Bearer {t}"} for role, t in world.tokens.items()}
    for path, url in rw.page_urls(app, world):
        for caller, headers in callers.items():
            for lang in ("ko", "en"):
                sep = "&" if "?" in url else "?"
                response = client.get(f"{url}{sep}lang={lang}", headers=headers, follow_redirects=True)
                if response.headers.get("content-type", "").startswith("text/html"):
                    yield f"{caller} {path} ({response.status_code})", lang, response.text


def test_every_page_is_accessible_for_every_role_in_both_languages(app, client, world):
    problems: dict[str, set[str]] = {}
    pages = 0
    for where, lang, html in served_pages(app, client, world):
        pages += 1
        for problem in page_problems(html, lang):
            problems.setdefault(where.split(" ", 1)[1], set()).add(f"{where.split()[0]}/{lang}: {problem}")
    assert pages >= 40
    report = "\n".join(f"{path}:\n  " + "\n  ".join(sorted(items)[:8]) for path, items in problems.items())
    assert not problems, "accessibility problems:\n" + report


def form_problems(html: str) -> list[str]:
    """POST forms without the CSRF field, and GET forms that would leak it into URLs."""
    found = []
    for form in (n for n in Tree(html).root.iter() if n.tag == "form"):
        method = form.attrs.get("method", "get").lower()
        fields = [n for n in form.iter() if n.tag == "input" and n.attrs.get("name") == "csrf_token"]
        action = form.attrs.get("action", "")
        if method == "post" and not (len(fields) == 1 and fields[0].attrs.get("type") == "hidden"):
            found.append(f"POST form {action!r} without one hidden csrf_token field")
        if method == "get" and fields:
            found.append(f"GET form {action!r} carries the CSRF token into the URL")
    return found


def test_every_form_that_changes_state_carries_the_csrf_token(app, client, world):
    problems = set()
    forms = 0
    for where, _lang, html in served_pages(app, client, world):
        forms += html.count("<form")
        problems.update(f"{where.split(' ', 1)[1]}: {p}" for p in form_problems(html))
    assert forms >= 20
    assert not problems, "\n".join(sorted(problems))


def test_the_form_check_catches_a_missing_token():
    assert form_problems('<form method="post"><input type="hidden" name="csrf_token" value="x"></form>') == []
    assert form_problems('<form method="post" action="/x"><button>Go</button></form>') == [
        "POST form '/x' without one hidden csrf_token field"
    ]
    assert form_problems('<form><input type="hidden" name="csrf_token" value="x"></form>') != []
