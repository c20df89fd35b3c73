"""Message ids chosen at run time (roles, statuses, navigation), marked so that extraction finds
them and the catalogue test can demand a translation for each. Translated where they are shown,
through gettext (`web.i18n`); the core and the services only mark them."""

from __future__ import annotations


def N_(message: str) -> str:
    return message


def NP_(context: str, message: str) -> str:
    """A message id with a context, marked for extraction; translate with i18n.pgettext."""
    return message
