"""Every message id in code and templates has a Korean translation; English is the id itself."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir

from regionvisa.web import i18n

ROOT = Path(__file__).resolve().parents[2]
METHODS = [
    ("src/regionvisa/**.py", "python"),
    ("src/regionvisa/**/templates/**.html", "jinja2"),
]
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "N_": None,
    "pgettext": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
    "NP_": ((1, "c"), 2),
}


def extracted_ids() -> dict[tuple[str, str | None], str]:
    """(message id, context) -> the file it was first found in."""
    found: dict[tuple[str, str | None], str] = {}
    options = {"src/regionvisa/**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    for filename, _lineno, message, _comments, context in extract_from_dir(
        ROOT, METHODS, options_map=options, keywords=KEYWORDS
    ):
        ids = message if isinstance(message, tuple) else (message,)
        for msgid in ids:
            if msgid:
                found.setdefault((msgid, context), filename)
    return found


def test_every_message_has_a_korean_translation():
    catalog = i18n.catalog("ko")
    missing = {key: where for key, where in extracted_ids().items() if not catalog.get(key[0], context=key[1])}
    assert not missing, "untranslated message ids:\n" + "\n".join(
        f"{w}: {m!r}" + (f" (msgctxt {c!r})" if c else "") for (m, c), w in sorted(missing.items(), key=str)
    )


def test_extraction_finds_template_and_code_messages():
    ids = {msgid for msgid, _context in extracted_ids()}
    assert "National overview" in ids  # template
    assert "illegal" in ids  # N_ marker in code


def test_language_switch_translates():
    token = i18n.current_language.set("ko")
    try:
        assert i18n.gettext("National overview") == "전국 현황"
    finally:
        i18n.current_language.reset(token)
    token = i18n.current_language.set("en")
    try:
        assert i18n.gettext("National overview") == "National overview"
    finally:
        i18n.current_language.reset(token)


# Words that stay as they are in both languages: acronyms, units and codes (UTC, PDF, B, D-2),
# and each language's own name in the language switch.
UNTRANSLATED = re.compile(r"^(?:[A-Z][A-Z0-9-]{0,7}|v|English|한국어)$")


def hard_coded_text(source: str) -> list[str]:
    """Words in a template's literal text (outside {{ }} and {% %}) or in its user-visible
    attributes: these would not be translated."""
    from regionvisa.web.templating import environment

    pieces = []
    for _line, kind, value in environment().lex(source):
        pieces.append(value if kind == "data" else "\x00")
    text = re.sub(r"\x00+", "\x00", "".join(pieces))
    text = re.sub(r"<(style|script)\b.*?</\1>|<!--.*?-->", " ", text, flags=re.S | re.I)
    found = []
    for attribute in re.findall(r'\b(?:aria-label|alt|title|placeholder)="([^"]*)"', text):
        found += [w for w in attribute.replace("\x00", " ").split() if re.search(r"[A-Za-z가-힣]", w)]
    text = re.sub(r"<[^>]*>|&\w+;|&#\d+;|\x00", " ", text)
    found += [w for w in text.split() if re.search(r"[A-Za-z가-힣]", w)]
    return [w.strip(".,:;()[]") for w in found if not UNTRANSLATED.match(w.strip(".,:;()[]"))]


def test_templates_hard_code_no_user_visible_text():
    problems = {}
    for path in sorted(ROOT.glob("src/regionvisa/**/templates/**/*.html")):
        words = hard_coded_text(path.read_text(encoding="utf-8"))
        if words:
            problems[str(path.relative_to(ROOT))] = words[:6]
    assert not problems, "text outside _(…) in templates:\n" + "\n".join(f"{p}: {w}" for p, w in problems.items())


def test_the_hard_coded_text_check_finds_literals():
    assert hard_coded_text('<p>{{ _("Fine") }} · {{ n }}% UTC</p><!-- a comment --><style>p {}</style>') == []
    assert hard_coded_text('<input type="text" value="{{ v }}" name="x">') == []
    assert hard_coded_text("<h1>Users</h1>") == ["Users"]
    assert hard_coded_text('<a aria-label="Close" href="#">{{ _("x") }}</a>') == ["Close"]
    assert hard_coded_text("<p>사용자</p>") == ["사용자"]


def test_no_message_is_translated_two_ways():
    """Two catalogues translating the same English text differently would make the wording
    depend on load order; the shell's core.po wins, and this test names the clash."""
    from babel.messages.pofile import read_po

    seen: dict[tuple, tuple[str, str]] = {}
    clashes = []
    for path in i18n.po_files("ko"):
        with path.open("rb") as fh:
            for message in read_po(fh, locale="ko"):
                if not (message.id and message.string):
                    continue
                first = seen.setdefault((message.id, message.context), (message.string, path.name))
                if first[0] != message.string:
                    clashes.append(f"{message.id!r}: {first[1]} {first[0]!r} vs {path.name} {message.string!r}")
    assert not clashes, (
        "translated differently (use the same words, or pgettext(context, text) and msgctxt):\n" + "\n".join(clashes)
    )
    token = i18n.current_language.set("ko")
    try:
        assert i18n.gettext("Region") == "시·도"  # core.po's wording
    finally:
        i18n.current_language.reset(token)


def test_contexts_tell_the_same_english_word_apart(tmp_path, monkeypatch):
    folder = tmp_path / "ko" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "core.po").write_text('msgid "Region"\nmsgstr "시·도"\n', encoding="utf-8")
    (folder / "programs.po").write_text(
        'msgid "Region"\nmsgstr "지역"\n\nmsgctxt "programme status"\nmsgid "submitted"\nmsgstr "승인 요청됨"\n',
        encoding="utf-8",
    )
    (folder / "applications.po").write_text(
        'msgctxt "application status"\nmsgid "submitted"\nmsgstr "접수"\n', encoding="utf-8"
    )
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    i18n.translations.cache_clear()
    token = i18n.current_language.set("ko")
    try:
        assert i18n.gettext("Region") == "시·도"  # core.po first, whatever the names of the others
        assert i18n.pgettext("programme status", "submitted") == "승인 요청됨"
        assert i18n.pgettext("application status", "submitted") == "접수"
        from regionvisa.web.templating import environment

        template = environment().from_string('{{ pgettext("application status", "submitted") }}')
        assert template.render() == "접수"
    finally:
        i18n.current_language.reset(token)
        i18n.translations.cache_clear()
