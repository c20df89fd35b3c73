"""One language per page (issue 17, requirement 4): every GET page route of every domain, for
anonymous callers and for each role, as served in Korean and in English.

The visible text of a page (its text outside <script> and <style>, and the attributes a reader
sees or hears: title, alt, placeholder, aria-label, and the value of a button) is split into
words. A Korean page must hold no Latin-script word outside ALLOWED_ON_KOREAN and the names the
test's own data gives (people, accounts, programmes, uploaded files); an English page must hold no
Hangul outside those names and the language switch. The pages and their path parameters are the
route walk's (tests/accounts/routewalk.py, the domains' route_samples.py for Busan), the list the
accessibility checks and the browser crawl share.

Identifiers are not shown, not even in a monospace cell: a field or rule of a programme is shown
by its label, a reason by its wording. The codes a reader uses as codes are allowed, each with
its reason below.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import text

from regionvisa.audit import names as audit_names

ROOT = Path(__file__).resolve().parents[2]

# Latin words a Korean page may show, and why.
ALLOWED_ON_KOREAN = {
    # visa programmes and tests that Korean uses by these names (the law and the ministry's forms do)
    "KIIP",
    "TOPIK",
    # file formats and kinds named on download links and upload fields
    "PDF",
    "XLSX",
    "CSV",
    "YAML",
    "JSON",
    "ZIP",
    "PNG",
    "JPEG",
    # the programming interface is called API in Korean administration too
    "API",
    # time zones, written after times
    "KST",
    "UTC",
    # the language switch names each language in its own language
    "English",
    # the markup language, named where a document is offered as a web page
    "HTML",
    # file sizes (12 B, 3 MB), written with the international unit symbols in Korean too
    "B",
    "KB",
    "MB",
}
# Visa types and subtypes (D-2, E-7, E-7-4, F-2-R): the codes the law gives them, the same in
# both languages.
VISA_CODE = re.compile(r"^[A-Z]-\d{1,2}(?:-\d{1,2})?(?:-[A-Z])?$")
# ISO 3166 alpha-3 nationality codes (VNM, CHN) where a table shows a nationality code column;
# person ids (P10000001) and record numbers that carry letters: codes a reader looks up.
CODE = re.compile(r"^(?:[A-Z]{3}|[A-Z]+\d+[A-Z\d]*|\d+[A-Z])$")
# Codes a reader compares or copies: a programme's version (v2, as the version lists write it), a
# digest or its first
# characters (a document's SHA-256, the audit chain's hashes: hexadecimal with at least one digit),
# and a system actor's name in a record (system:compliance, the actor as the audit log keeps it).
READER_CODE = re.compile(r"^(?:v\d+|(?=[0-9a-f]*\d)[0-9a-f]{6,}|(?:system|test):[a-z0-9:_.-]+)$")

# Findings the crawl makes that are not fixed yet, for every role that sees the page:
# (page template, words, why). The test fails on any other word, and on a known word that no
# longer occurs on its page (so the list only shrinks).
KNOWN: list[tuple[str, frozenset[str], str]] = []
# Pages whose text is a record shown as recorded, not checked word by word.
KNOWN_PAGES = {
    "/audit": "the log shows each entry as recorded: reasons in the words they were typed or written in "
    "(the services' English reasons among them), inputs and outputs as stored, timestamps in ISO form; "
    "translating it needs the services' reasons as message ids in the entries",
}
# The audit action names (applications.approve, auth.login …) and their older spellings: the codes
# the log is filtered by, shown beside what each records in the page's language.
AUDIT_ACTION_NAMES = set(audit_names.ACTIONS).union(*(audit_names.older_names(n) for n in audit_names.ACTIONS))

LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[_.\-/:@'][A-Za-z0-9]+)*")
HANGUL = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]+")
VISIBLE_ATTRIBUTES = ("title", "alt", "placeholder", "aria-label")
# Not page text: scripts and styles, an SVG's <metadata> (the drawing tool's name, never shown),
# and a <textarea>'s content, which is what the reader typed or is editing (a programme design in
# YAML, a proposal's narrative), kept as typed.
SKIPPED = {"script", "style", "template", "metadata", "textarea"}


def _routewalk():
    name = "regionvisa_tests_routewalk"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "tests" / "accounts" / "routewalk.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


class VisibleText(HTMLParser):
    """The text a reader sees or hears on a page, from the standard library's parser."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.skipping = 0
        self.pieces: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in SKIPPED:
            self.skipping += 1
            return
        values = dict(attrs)
        self.pieces.extend(values[a] for a in VISIBLE_ATTRIBUTES if values.get(a))
        if tag == "input" and values.get("type") in ("submit", "button", "reset") and values.get("value"):
            self.pieces.append(values["value"])

    def handle_endtag(self, tag):
        if tag in SKIPPED and self.skipping:
            self.skipping -= 1

    def handle_data(self, data):
        if not self.skipping and data.strip():
            self.pieces.append(data)


def visible_text(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    parser.close()
    return "\n".join(parser.pieces)


def names_in(engine) -> set[str]:
    """Words of what the test data names and types: people, accounts, programme ids, uploaded
    files, typed reasons."""
    queries = [
        "SELECT username, display_name FROM app_user",
        "SELECT name FROM api_token",
        "SELECT name FROM person",
        "SELECT applicant_name FROM application",
        "SELECT id FROM program",
        "SELECT filename FROM application_document",
        "SELECT filename FROM selection_attachment",
        "SELECT affiliation FROM committee_member",
        "SELECT name FROM job_file",
        # reasons and narratives people typed (here the samples' own), shown as typed
        "SELECT reason FROM quota_movement",
        "SELECT narrative FROM selection_proposal_version",
    ]
    words: set[str] = set()
    with engine.connect() as conn:
        for query in queries:
            for row in conn.execute(text(query)).all():
                for value in row:
                    if value:
                        words.update(LATIN_WORD.findall(str(value)))
                        words.update(HANGUL.findall(str(value)))
    return words


# An API token's public prefix (rvt_ and eight URL-safe characters: how a user tells their tokens
# apart), taken out before the text is split into words.
TOKEN_PREFIX = re.compile(r"\brvt_[A-Za-z0-9_-]{8}")


def latin_findings(page_text: str, names: set[str]) -> set[str]:
    found = set()
    for word in LATIN_WORD.findall(TOKEN_PREFIX.sub(" ", page_text)):
        if (
            word in ALLOWED_ON_KOREAN
            or word in names
            or word in AUDIT_ACTION_NAMES
            or any(p.match(word) for p in (VISA_CODE, CODE, READER_CODE))
        ):
            continue
        found.add(word)
    return found


def hangul_findings(page_text: str, names: set[str]) -> set[str]:
    return {word for word in HANGUL.findall(page_text) if word not in names and word != "한국어"}


def test_the_checks_find_what_they_must():
    html = (
        "<html><body><script>var x = 'hidden';</script><main><h1>신청 목록</h1>"
        "<p>사증 D-2, E-7-4, TOPIK 4급, PDF 내려받기</p><td>prior_illegal_stay</td>"
        '<p title="top of the ranked queue">대기</p><input type="submit" value="Save">'
        "<p>Input should be less than or equal to 100</p><code>^[A-Z]{3}$</code>"
        "<p>Walk Sample</p></main></body></html>"
    )
    words = latin_findings(visible_text(html), {"Walk", "Sample"})
    assert words == {
        "prior_illegal_stay",
        "top",
        "of",
        "the",
        "ranked",
        "queue",
        "Save",
        "Input",
        "should",
        "be",
        "less",
        "than",
        "or",
        "equal",
        "to",
        "A-Z",
    }, words
    assert "hidden" not in visible_text(html) and "var" not in visible_text(html)
    assert hangul_findings("<p>Applications 신청 한국어 부산</p>", {"부산"}) == {"신청"}
    assert latin_findings("bank_balance_krw topik-4 high_school degree", set()) == {
        "bank_balance_krw",
        "topik-4",
        "high_school",
        "degree",
    }


@pytest.fixture
def world(app, engine, role_users, make_user, records):
    return _routewalk().build_world(engine, role_users, make_user, records)


def test_every_page_speaks_one_language_for_every_role(app, client, engine, world):
    rw = _routewalk()
    callers = {"anonymous": {}} | {role: {"Authorization": f"Bearer {t}"} for role, t in world.tokens.items()}
    names = names_in(engine)
    found: dict[tuple[str, str, str], set[str]] = {}
    pages = 0
    for path, url in rw.page_urls(app, world):
        for caller, headers in callers.items():
            for lang in ("ko", "en"):
                sep = "&" if "?" in url else "?"
                response = client.get(f"{url}{sep}lang={lang}", headers=headers, follow_redirects=True)
                if not response.headers.get("content-type", "").startswith("text/html"):
                    continue
                pages += 1
                page_text = visible_text(response.text)
                words = latin_findings(page_text, names) if lang == "ko" else hangul_findings(page_text, names)
                for word in words:
                    found.setdefault((path, caller, lang), set()).add(word)
    assert pages >= 80
    known = {(path, word) for path, words, _why in KNOWN for word in words}
    new = {
        key: sorted(w for w in words if (key[0], w) not in known)
        for key, words in found.items()
        if key[0] not in KNOWN_PAGES
    }
    new = {key: words for key, words in new.items() if words}
    seen = {(path, w) for (path, _caller, _lang), words in found.items() for w in words}
    fixed = sorted(key for key in known if key not in seen)
    report = "\n".join(
        f"{path} as {caller} in {'Korean' if lang == 'ko' else 'English'}: {', '.join(words)}"
        for (path, caller, lang), words in sorted(new.items())
    )
    assert not new, f"words of the other language on {len(new)} pages:\n{report}"
    assert not fixed, f"fixed, remove from KNOWN: {fixed}"
    assert {path for path, _caller, _lang in found} >= set(KNOWN_PAGES), "a known page no longer has findings"


def test_a_refused_query_value_is_named_in_the_page_language(client, login, role_users):
    """A page's query parameter that the route refuses (version=abc) is worded in the page's
    language by the forms' messages, not by its id and Pydantic's English."""
    login(client, "t.admin")
    korean = client.get("/programs/busan-d2?version=abc&lang=ko")
    assert korean.status_code == 422
    text = visible_text(korean.text)
    assert "페이지 주소의 값" in text and "정수로 입력해 주세요" in text, text
    assert latin_findings(text, {"t.admin"}) == set(), latin_findings(text, {"t.admin"})
    english = visible_text(client.get("/programs/busan-d2?version=abc&lang=en").text)
    assert "a value in the page's address must be a whole number" in english, english
    assert not hangul_findings(english, set())
