"""The committee's minutes, in Korean and English, as HTML and PDF, built from the stored decisions.

They are generated from what the decision stored (scores, recusals, aggregates, the chair's
quota adjustments), so printing them again later gives the same minutes.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup
from sqlalchemy.orm import Session

from regionvisa.core.actor import Actor
from regionvisa.core.errors import Conflict, Invalid
from regionvisa.reports import fonts
from regionvisa.reports.locale import language, region_name
from regionvisa.selection import committee, rounds, service
from regionvisa.selection.labels import ROLE_LABELS, SOURCE_LABELS
from regionvisa.selection.subjects import read_scope
from regionvisa.web.templating import environment

FORMATS = ("html", "pdf")
ROLE_ORDER = {"chair": 0, "official": 1, "expert": 2}


def context(*, session: Session, round_id: int, lang: str, region: str | None = None) -> dict[str, Any]:
    """`region` set: the minutes as that region may read them, without the members' scores of the
    other regions' proposals (the decisions, aggregates and quotas are published to every region)."""
    rnd = rounds.get_round(session=session, round_id=round_id)
    if rnd.status != "decided":
        raise Conflict(
            code="not_decided", ko="결정이 확정된 뒤에 회의록을 만들 수 있습니다", en="minutes exist once decided"
        )
    names = committee.member_names(session=session, round_id=rnd.id)
    rubric = [
        {"id": c["id"], "label": c["label"][lang], "weight": c["weight"], "description": c["description"][lang]}
        for c in rnd.rubric
    ]
    decided = service.decisions(session=session, round_id=rnd.id)
    member_rows = _member_rows(session, rnd.id, decided, names)
    recusals = [
        {
            "member": names.get(c.member_id, ""),
            "region": region_name(c.region, lang),
            "source": c.source,
            "reason": c.reason,
        }
        for c in committee.conflicts(session=session, round_id=rnd.id)
    ]
    proposal_rows = [_proposal_row(p, d, rubric, names, lang, region=region) for p, d in decided]
    chair = next((m["name"] for m in member_rows if m["role"] == "chair"), "")
    return {
        "lang": lang,
        "round": rnd,
        "title": rnd.title_ko if lang == "ko" else rnd.title_en,
        "meeting_on": rnd.meeting_on.isoformat() if rnd.meeting_on else "",
        "decided_at": rounds.local_time(rnd.decided_at),
        "chair": chair,
        "members": member_rows,
        "recusals": recusals,
        "rubric": rubric,
        "proposals": proposal_rows,
        "adjustments": [a for p, d in decided for a in _adjustments(p, d, lang)],
        "selected": sum(1 for p in proposal_rows if p["selected"]),
        "applied": len(proposal_rows),
        "total_quota": sum(q["confirmed"] for p in proposal_rows for q in p["quotas"]),
        "quorum": rnd.quorum,
        "threshold": rnd.threshold,
        "trim": rnd.trim,
        "role_labels": ROLE_LABELS,
        "source_labels": SOURCE_LABELS,
    }


def _member_rows(session: Session, round_id: int, decided: list, names: dict[int, str]) -> list[dict]:
    """The committee in the order of the minutes (chair, officials, experts), with how many proposals each scored."""
    scored_by: dict[int, int] = {}
    for _p, d in decided:
        for mid in d.summary.get("scorers", []):
            scored_by[mid] = scored_by.get(mid, 0) + 1
    members = sorted(committee.members(session=session, round_id=round_id), key=lambda m: (ROLE_ORDER[m.role], m.id))
    return [
        {
            "id": m.id,
            "name": names.get(m.id, ""),
            "role": m.role,
            "affiliation": m.affiliation,
            "scored": scored_by.get(m.id, 0),
            "present": scored_by.get(m.id, 0) > 0 or m.role == "chair",
        }
        for m in members
    ]


def _proposal_row(p, d, rubric: list[dict], names: dict[int, str], lang: str, *, region: str | None) -> dict:
    """One proposal's decision as stored; the members' scores only when the reader may see them."""
    summary = d.summary
    matrix = summary.get("matrix", {})
    totals = summary.get("member_totals", {})
    trimmed = {str(t) for t in summary.get("trimmed", [])}
    rows = [
        {
            "member": names.get(int(mid), ""),
            "scores": [scores.get(c["id"]) for c in rubric],
            "total": totals.get(mid),
            "trimmed": mid in trimmed,
        }
        for mid, scores in sorted(matrix.items(), key=lambda kv: int(kv[0]))
        if region is None or region == p.region
    ]
    return {
        "region": p.region,
        "name": region_name(p.region, lang),
        "selected": d.selected,
        "rank": d.rank,
        "aggregate": d.aggregate,
        "eligible": summary.get("eligible"),
        "scorers": len(summary.get("scorers", [])),
        "quorum_required": summary.get("quorum_required"),
        "recused": [names.get(mid, "") for mid in summary.get("recused", [])],
        "rows": rows,
        "means": [summary.get("criterion_means", {}).get(c["id"]) for c in rubric],
        "quotas": [{**q, "title": q["title"][lang]} for q in d.quotas],
    }


def _adjustments(p, d, lang: str) -> list[dict]:
    """The chair's quota changes to one proposal, each with its reason."""
    return [
        {
            "region": region_name(p.region, lang),
            "program_id": q["program_id"],
            "recommended": q["recommended"],
            "confirmed": q["confirmed"],
            "reason": q["reason"],
        }
        for q in d.quotas
        if q.get("reason")
    ]


def render_html(ctx: dict[str, Any], *, for_pdf: bool = False) -> str:

    with language(ctx["lang"]):
        return (
            environment()
            .get_template("selection_minutes.html")
            .render(
                {
                    **ctx,
                    "font_face": Markup(fonts.font_face_css()) if for_pdf else Markup(""),
                    "font_stack": Markup(fonts.CSS_STACK),
                }
            )
        )


def render_pdf(ctx: dict[str, Any]) -> bytes:
    from weasyprint import HTML
    from weasyprint.text.fonts import FontConfiguration

    return HTML(string=render_html(ctx, for_pdf=True)).write_pdf(font_config=FontConfiguration())


def render(*, session: Session, round_id: int, actor: Actor, lang: str = "ko", fmt: str = "html") -> bytes:
    """The minutes as `actor` may read them: a regional official's copy is their region's
    (`context(region=...)`), everyone else's the whole."""
    region = read_scope(actor)
    if lang not in ("ko", "en"):
        raise Invalid(
            code="invalid", ko="언어는 ko 또는 en입니다", en=f"lang must be ko or en, got {lang!r}", field="lang"
        )
    if fmt not in FORMATS:
        raise Invalid(
            code="invalid",
            ko="형식은 html 또는 pdf입니다",
            en=f"format must be html or pdf, got {fmt!r}",
            field="format",
        )
    ctx = context(session=session, round_id=round_id, lang=lang, region=region)
    if fmt == "pdf":
        return render_pdf(ctx)
    return render_html(ctx).encode("utf-8")
