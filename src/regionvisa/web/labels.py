"""Message ids chosen at run time (navigation, roles, statuses), marked here so that
extraction finds them and the catalogue test can demand a translation for each."""

from __future__ import annotations

from regionvisa.core.text import N_, NP_

__all__ = ["NAV_LABELS", "NP_", "N_", "STATUS_LABELS"]


STATUS_LABELS = (N_("other"), N_("illegal"), N_("pending"))
NAV_LABELS = (N_("Overview"),)
