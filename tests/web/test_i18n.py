"""Every message id in code and templates has a Korean translation; English is the id itself."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir

from regionvisa.web import i18n

ROOT = Path(__file__).resolve().parents[2]
METHODS = [
    ("src/regionvisa/**.py", "python"),
    ("src/regionvisa/**/templates/**.html", "jinja2"),
]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}


def extracted_ids() -> dict[str, str]:
    found: dict[str, str] = {}
    options = {"src/regionvisa/**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    for filename, _lineno, message, _comments, _ctx in extract_from_dir(
        ROOT, METHODS, options_map=options, keywords=KEYWORDS
    ):
        ids = message if isinstance(message, tuple) else (message,)
        for msgid in ids:
            if msgid:
                found.setdefault(msgid, filename)
    return found


def test_every_message_has_a_korean_translation():
    catalog = i18n.catalog("ko")
    missing = {msgid: where for msgid, where in extracted_ids().items() if not catalog.get(msgid)}
    assert not missing, "untranslated message ids:\n" + "\n".join(f"{w}: {m!r}" for m, w in sorted(missing.items()))


def test_extraction_finds_template_and_code_messages():
    ids = extracted_ids()
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
