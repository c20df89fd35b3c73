"""Message ids chosen at run time (roles, statuses, navigation), marked so that extraction finds
them and the catalogue test can demand a translation for each. Translated where they are shown,
through gettext (`web.i18n`); the core and the services only mark them."""

from __future__ import annotations


def N_(message: str) -> str:
    return message


def NP_(context: str, message: str) -> str:
    """A message id with a context, marked for extraction; translate with i18n.pgettext."""
    return message


# Reasons and notes the system writes itself (an application received, a case opened by a run):
# stored as their message id, so that the record keeps one wording and each page shows it in the
# reader's language (the `reason` filter of the templates). What people type is shown as typed.
SYSTEM_REASONS: set[str] = set()


def system_reason(message: str) -> str:
    """Mark `message` (an N_ message id) as a reason the system writes; returns it unchanged."""
    SYSTEM_REASONS.add(message)
    return message
