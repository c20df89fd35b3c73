"""Labels chosen at run time (member roles, phases, conflict sources), marked for extraction."""

from __future__ import annotations

from regionvisa.core.text import N_

ROLE_LABELS = {"chair": N_("Chair"), "official": N_("Official"), "expert": N_("Expert")}
PHASE_LABELS = {
    "before": N_("Not yet open"),
    "submission": N_("Taking proposals"),
    "scoring": N_("Committee scoring"),
    "scoring_closed": N_("Scoring closed"),
    "decided": N_("Decided and published"),
}
SOURCE_LABELS = {"affiliation": N_("affiliation (automatic)"), "declared": N_("declared by the member")}
