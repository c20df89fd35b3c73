"""Message ids chosen at run time (navigation, roles, statuses), marked here so that
extraction finds them and the catalogue test can demand a translation for each."""

from __future__ import annotations


def N_(message: str) -> str:
    return message


def NP_(context: str, message: str) -> str:
    """A message id with a context, marked for extraction; translate with i18n.pgettext."""
    return message


STATUS_LABELS = (N_("other"), N_("illegal"))
NAV_LABELS = (N_("Overview"),)
