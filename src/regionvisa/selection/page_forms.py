"""The selection pages' forms as the pattern of `web.forms` shows them when refused.

Each refused form comes back with an error summary whose items link to the fields, the message
beside each field named by its label in the page's language, and every typed value kept. This
module reads the scoring and decision forms and turns the refusals of the round, proposal,
scoring and decision forms into `forms.FormErrors`; the page module only renders.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence

from pydantic import ValidationError

from regionvisa.core.errors import DomainError
from regionvisa.selection.schemas import DecisionIn, QuotaAdjustment, ScoreIn, ScoresIn
from regionvisa.web import forms, i18n
from regionvisa.web.labels import N_

DESIGN_SLOTS = 3

# The round page's forms: each form's element id (a refusal about no field links to it) and the
# ids of its fields.
MEMBER_FORM = "member-form"
MEMBER_IDS = {
    "username": "member-username",
    "role": "member-role",
    "affiliation": "member-affiliation",
    "affiliation_region": "member-region",
}
MEMBER_LABELS = {
    "username": N_("User name (a committee-member account)"),
    "role": N_("Role"),
    "affiliation": N_("Affiliation"),
    "affiliation_region": N_("Affiliated with a region (declared as a conflict automatically)"),
}
REASON_LABELS = {"reason": N_("Reason")}
CLOSE_WINDOW_FORM, CLOSE_WINDOW_IDS = "close-window-form", {"reason": "close-reason"}
REOPEN_FORM, REOPEN_IDS = "reopen-form", {"reason": "reopen-reason"}
CLOSE_SCORING_FORM = "close-scoring-form"

# The declaration of conflicts on the member's scoring page.
DECLARE_FORM = "declare-form"
DECLARE_IDS = {"regions": "conflict-regions", "reason": "conflict-reason"}
DECLARE_LABELS = {
    "regions": {"ko": "이해충돌이 있는 지역", "en": "Regions with a conflict of interest"},
    "reason": N_("Reason"),
}

PROPOSAL_FORM = "proposal-form"
SCORE_FORM = "score-form"
DECISION_FORM = "decision-form"


def _lang() -> str:
    return i18n.pick_language(i18n.current_language.get())


def refused(exc: ValidationError | DomainError, *, labels, ids=None, form_id: str) -> forms.FormErrors:
    """`forms.errors_from` (401/403/404 raised again), each message naming its field's label (the
    schema's messages already do)."""
    found = forms.errors_from(exc, labels=labels, ids=ids, form_id=form_id, lang=_lang())
    return found if isinstance(exc, ValidationError) else forms.labelled(found)


# --------------------------------------------------------------------------- the proposal form


def proposal_labels() -> dict:
    labels: dict = {
        "narrative": N_("Plan narrative"),
        "attachments": N_("Attachments"),
        "designs": {"ko": "설계 1: 프로그램 설계(YAML)", "en": "Design 1: programme design (YAML)"},
    }
    for i in range(1, DESIGN_SLOTS + 1):
        labels[f"saved_{i}"] = {
            "ko": f"설계 {i}: 이 지역의 프로그램 설계",
            "en": f"Design {i}: one of this region's programme designs",
        }
        labels[f"design_{i}"] = {"ko": f"설계 {i}: 프로그램 설계(YAML)", "en": f"Design {i}: programme design (YAML)"}
        labels[f"quota_{i}"] = {"ko": f"설계 {i}: 요청 정원", "en": f"Design {i}: requested quota"}
    return labels


PROPOSAL_IDS = {"designs": "design_1"}


def _error(name: str, message_of, labels: Mapping, ids: Mapping | None = None) -> forms.FormError:
    label = forms.label_text(labels.get(name), name, _lang())
    return forms.FormError(field=name, id=(ids or {}).get(name, name), label=label, message=message_of(label))


def _said(name: str, labels: Mapping, *, ko: str, en: str, ids: Mapping | None = None) -> forms.FormError:
    """An error the page words itself, after the field's label."""
    lang = _lang()
    return _error(name, lambda label: f"{label}: {ko if lang == 'ko' else en}", labels, ids)


def _slot_field(slots: Sequence[int], index: int, prefix: str) -> str:
    """The form field of the `index`-th submitted design (0-based): slots left empty are skipped."""
    slot = slots[index] if 0 <= index < len(slots) else 1
    return f"{prefix}_{slot}"


def proposal_schema_errors(exc: ValidationError, slots: Sequence[int]) -> forms.FormErrors:
    """The schema's refusals of a proposal, each beside its slot's field."""
    lang, labels = _lang(), proposal_labels()
    items = []
    for err in exc.errors(include_url=False):
        loc = [str(p) for p in err.get("loc", ())]
        if loc[:1] == ["designs"] and len(loc) >= 2 and loc[1].isdigit():
            prefix = "quota" if "requested_quota" in loc else "design"
            name = _slot_field(slots, int(loc[1]), prefix)
        elif loc[:1] == ["designs"]:
            name = "design_1"
        else:
            name = loc[0] if loc and loc[0] in labels else "narrative"
        items.append(_error(name, lambda label, err=err: forms.pydantic_message(err, label, lang), labels))
    return forms.FormErrors(items=items, status=422)


DETAIL = re.compile(r"^design\[(\d+)\]")


def proposal_detail_errors(details: Sequence[str], slots: Sequence[int]) -> forms.FormErrors:
    """One summary item per guardrail line (`design[1]:obligation_months: …`), beside its slot's YAML."""
    labels = proposal_labels()
    items = []
    for line in details:
        found = DETAIL.match(line)
        name = _slot_field(slots, int(found.group(1)) - 1, "design") if found else "design_1"
        items.append(_error(name, lambda label, line=line: f"{label}: {line}", labels))
    return forms.FormErrors(items=items, status=422)


# --------------------------------------------------------------------------- the scoring form


def score_labels(rubric: Sequence[Mapping]) -> dict:
    labels: dict = {"scores": N_("My scores")}
    for c in rubric:
        name = c.get("label") or {}
        ko, en = name.get("ko") or c["id"], name.get("en") or c["id"]
        labels[f"score_{c['id']}"] = {"ko": f"{ko} 점수", "en": f"Score for {en}"}
        labels[f"comment_{c['id']}"] = {"ko": f"{ko}에 대한 의견", "en": f"Comment on {en}"}
    return labels


def score_ids(rubric: Sequence[Mapping]) -> dict:
    return {"scores": f"score_{rubric[0]['id']}"} if rubric else {"scores": SCORE_FORM}


def parse_scores(values: Mapping[str, str], rubric: Sequence[Mapping]) -> tuple[ScoresIn | None, forms.FormErrors]:
    """The member's scores, or every refused cell beside it (an empty score, a score that is not a
    whole number 0–100, an empty comment)."""
    lang, labels = _lang(), score_labels(rubric)
    items: list[forms.FormError] = []
    scores = {}
    for c in rubric:
        cid = c["id"]
        score_name, comment_name = f"score_{cid}", f"comment_{cid}"
        raw = (values.get(score_name) or "").strip()
        if not raw or not raw.lstrip("-").isdigit():
            if raw:
                ko, en = "0~100 정수로 입력해 주세요", "must be a whole number from 0 to 100"
                items.append(_said(score_name, labels, ko=ko, en=en))
            else:
                items.append(_said(score_name, labels, ko="점수를 입력해 주세요", en="enter a score"))
            raw = "0"
        try:
            scores[cid] = ScoreIn(score=int(raw), comment=values.get(comment_name) or "")
        except ValidationError as exc:
            for err in exc.errors(include_url=False):
                name = score_name if "score" in err.get("loc", ()) else comment_name
                if any(e.field == name for e in items):
                    continue
                items.append(_error(name, lambda label, err=err: forms.pydantic_message(err, label, lang), labels))
    if items:
        return None, forms.FormErrors(items=items, status=422)
    return ScoresIn(scores=scores), forms.NO_ERRORS


# --------------------------------------------------------------------------- the chair's decision


def decision_labels(values: Mapping[str, str]) -> dict:
    labels: dict = {"meeting_on": N_("Meeting date"), "adjustments": N_("Confirmed quotas")}
    for key in values:
        if key.startswith("quota__"):
            pid = key.removeprefix("quota__")
            quota = {"ko": f"{pid} 확정 정원", "en": f"Confirmed quota for {pid}"}
            reason = {"ko": f"{pid} 정원 변경 사유", "en": f"Reason for changing the quota of {pid}"}
            labels[key] = labels[f"adjustments.{pid}.quota"] = quota
            labels[f"reason__{pid}"] = labels[f"adjustments.{pid}.reason"] = reason
    return labels


def decision_ids(values: Mapping[str, str]) -> dict:
    ids = {"meeting_on": "meeting-on", "adjustments": "decision-table"}
    for key in values:
        if key.startswith("quota__"):
            pid = key.removeprefix("quota__")
            ids[f"adjustments.{pid}.quota"] = key
            ids[f"adjustments.{pid}.reason"] = f"reason__{pid}"
    return ids


def parse_decision(values: Mapping[str, str]) -> tuple[DecisionIn | None, forms.FormErrors]:
    """The chair's decision: each changed quota with its reason and the meeting date, or every
    refused field beside it."""
    labels = decision_labels(values)
    ids = decision_ids(values)
    items: list[forms.FormError] = []
    adjustments = {}
    for key, raw in values.items():
        if not key.startswith("quota__"):
            continue
        pid = key.removeprefix("quota__")
        raw, original = raw.strip(), (values.get(f"recommended__{pid}") or "").strip()
        if not raw or raw == original:
            continue
        if not raw.isdigit():
            items.append(_said(key, labels, ko="0 이상의 정수로 입력해 주세요", en="must be a whole number, 0 or more"))
            continue
        adjustments[pid] = QuotaAdjustment(quota=int(raw), reason=values.get(f"reason__{pid}") or "")
    meeting = (values.get("meeting_on") or "").strip()
    meeting_on = None
    if meeting:
        try:
            meeting_on = dt.date.fromisoformat(meeting)
        except ValueError:
            ko, en = "날짜(YYYY-MM-DD)로 입력해 주세요", "must be a date (YYYY-MM-DD)"
            items.append(_said("meeting_on", labels, ko=ko, en=en, ids=ids))
    if items:
        return None, forms.FormErrors(items=items, status=422)
    return DecisionIn(adjustments=adjustments, meeting_on=meeting_on), forms.NO_ERRORS
