"""Korean by default, English on request, from Babel message catalogues.

English text is the message id; Korean comes from the .po files, which are compiled in memory
at start-up, so the repository holds only text and no build step is needed. The language of the
current request lives in a context variable that the Jinja2 gettext callables read.
"""

from __future__ import annotations

import io
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = ("ko", "en")
DEFAULT_LANGUAGE = "ko"

current_language: ContextVar[str] = ContextVar("current_language", default=DEFAULT_LANGUAGE)


def po_files(lang: str) -> list[Path]:
    """core.po first, then each domain's file by name: the first translation of a message wins,
    so the shell's wording cannot be changed by a domain that translates the same text again."""
    files = sorted((LOCALE_DIR / lang / "LC_MESSAGES").glob("*.po"))
    return sorted(files, key=lambda p: (p.name != "core.po", p.name))


def catalog(lang: str) -> Catalog:
    """Every .po file of the language merged: each domain keeps its own file (core.po, accounts.po, …)."""
    merged = Catalog(locale=lang)
    for po_path in po_files(lang):
        with po_path.open("rb") as fh:
            for message in read_po(fh, locale=lang):
                if message.id and message.string and merged.get(message.id, context=message.context) is None:
                    merged.add(message.id, message.string, context=message.context)
    return merged


@lru_cache
def translations(lang: str) -> NullTranslations:
    merged = catalog(lang)
    if not len(merged):
        return NullTranslations()
    buf = io.BytesIO()
    write_mo(buf, merged)
    buf.seek(0)
    return Translations(buf)


def gettext(message: str, **variables) -> str:
    text = translations(current_language.get()).gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables) -> str:
    text = translations(current_language.get()).ngettext(singular, plural, n)
    variables.setdefault("num", n)
    return text % variables


def pgettext(context: str, message: str, **variables) -> str:
    """A message whose translation depends on where it is used (the same English word for two
    things): `pgettext("programme status", "submitted")`, `msgctxt` in the .po file."""
    text = translations(current_language.get()).pgettext(context, message)
    return text % variables if variables else text


def npgettext(context: str, singular: str, plural: str, n: int, **variables) -> str:
    text = translations(current_language.get()).npgettext(context, singular, plural, n)
    variables.setdefault("num", n)
    return text % variables


def translate(lang: str, message: str, *, context: str | None = None) -> str:
    """`message` in `lang` whatever the current request's language: for the services that word a
    message in both languages at once (a refusal carries ko and en)."""
    found = translations(pick_language(lang))
    return found.pgettext(context, message) if context else found.gettext(message)


def pick_language(requested: str | None) -> str:
    return requested if requested in LANGUAGES else DEFAULT_LANGUAGE


def local(text: dict[str, str] | None, lang: str | None = None) -> str:
    """Pick the ko/en member of a bilingual text held as data (labels, messages)."""
    if not text:
        return ""
    lang = lang or current_language.get()
    return text.get(lang) or text.get(DEFAULT_LANGUAGE) or next(iter(text.values()))
