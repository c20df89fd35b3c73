"""Reform simulation: one applicant pool screened under two programme versions and compared,
with the projected quota fill under each (read from the quota ledger when a session is given)."""

from __future__ import annotations

import datetime as dt

import polars as pl
from sqlalchemy.orm import Session

from regionvisa.core.errors import NotFound
from regionvisa.programs.service import Resolved
from regionvisa.quotas.service import LedgerView, ledger_for
from regionvisa.rules import OUTCOMES, ParseResult, criterion_column, screen
from regionvisa.rules.text import display_value

BREAKDOWNS = {"nationality": "nationality", "occupation": "occupation_code", "education": "education_level"}
_CHANGES = ("newly_eligible", "newly_ineligible", "unchanged")


def quota_position(*, session: Session | None, program: Resolved, on: dt.date) -> dict:
    """Capacity and places already taken: the quota ledger when there is one, else the design's quota."""
    capacity, committed, source = program.loaded.spec.quota, 0, "design"
    counts: dict = {}
    if session is not None:
        try:
            ledger = ledger_for(session=session, program_id=program.id, on=on)
        except NotFound:
            ledger = None
        if ledger is not None:
            view = LedgerView.of(ledger)  # the one definition of reserved and used, as on /quotas
            capacity, committed, source = ledger.capacity, view.reserved + view.used, "ledger"
            counts = {"reserved": view.reserved, "used": view.used, "ledger_id": ledger.id}
    return {"capacity": capacity, "committed": committed, "source": source, **counts}


def _fill(position: dict, eligible: int) -> dict:
    capacity, committed = position["capacity"], position["committed"]
    places = min(capacity, committed + eligible)
    return {
        **position,
        "eligible": eligible,
        "projected_places": places,
        "projected_fill_rate": round(places / capacity, 4) if capacity else None,
        "oversubscribed_by": max(0, committed + eligible - capacity),
    }


def _changed_parameters(baseline: Resolved, reform: Resolved, on: dt.date) -> list[dict]:
    a, b = baseline.rules.resolve_parameters(on), reform.rules.resolve_parameters(on)
    out = []
    for name in sorted(set(a) | set(b)):
        va = a.get(name)[0] if a.get(name) else None
        vb = b.get(name)[0] if b.get(name) else None
        if va != vb:
            out.append({"name": name, "baseline": display_value(va), "reform": display_value(vb)})
    return out


def simulate(
    *, session: Session | None, baseline: Resolved, reform: Resolved, parsed: ParseResult, on: dt.date
) -> dict:
    """Screen one applicant pool under two versions and compare, like an OpenFisca reform over applicants.

    Counts newly eligible / newly ineligible / unchanged (overall and by nationality, occupation and
    education), the criteria whose results flipped for the applicants who changed, the parameters that
    differ, and the projected quota fill under each version.
    """
    frame = parsed.frame
    if "applicant_id" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, pl.String).alias("applicant_id"))
    base = screen(baseline.checked, frame, on=on)
    new = screen(reform.checked, frame, on=on)
    group_cols = [
        (frame[col].cast(pl.String) if col in frame.columns else pl.Series(col, [None] * frame.height, pl.String))
        .fill_null("(missing)")
        .alias(name)
        for name, col in BREAKDOWNS.items()
    ]
    was = base["outcome"].cast(pl.String).alias("baseline")
    now = new["outcome"].cast(pl.String).alias("reform")
    table = pl.DataFrame([was, now, *group_cols]).with_columns(
        pl.when((pl.col("baseline") != "eligible") & (pl.col("reform") == "eligible"))
        .then(pl.lit("newly_eligible"))
        .when((pl.col("baseline") == "eligible") & (pl.col("reform") != "eligible"))
        .then(pl.lit("newly_ineligible"))
        .otherwise(pl.lit("unchanged"))
        .alias("change")
    )
    flags = [(pl.col("change") == c).sum().alias(c) for c in _CHANGES]
    counts = table.select(flags).row(0, named=True)
    breakdowns = {
        name: table.group_by(name).agg(pl.len().alias("applicants"), *flags).sort(name).to_dicts()
        for name in BREAKDOWNS
    }
    transitions = table.group_by("baseline", "reform").len("applicants").sort("baseline", "reform").to_dicts()
    # Which criteria caused the changes: results that flipped for the applicants who changed outcome.
    labels = {c.id: c.label for c in baseline.rules.criteria} | {c.id: c.label for c in reform.rules.criteria}
    ids = [c.id for c in baseline.rules.criteria]
    ids += [c.id for c in reform.rules.criteria if c.id not in ids]
    up = table["change"] == "newly_eligible"
    down = table["change"] == "newly_ineligible"
    causes = []
    for cid in ids:
        col = criterion_column(cid)
        before = base[col].fill_null(False) if col in base.columns else pl.Series([True] * frame.height)
        after = new[col].fill_null(False) if col in new.columns else pl.Series([True] * frame.height)
        relaxed = int((up & ~before & after).sum())
        tightened = int((down & before & ~after).sum())
        status = "added" if col not in base.columns else "removed" if col not in new.columns else "kept"
        if relaxed or tightened or status != "kept":
            causes.append(
                {
                    "criterion": cid,
                    "label": labels.get(cid) or {},
                    "status": status,
                    "newly_pass": relaxed,
                    "newly_fail": tightened,
                }
            )
    causes.sort(key=lambda c: -(c["newly_pass"] + c["newly_fail"]))
    eligible_before = int((table["baseline"] == "eligible").sum())
    eligible_after = int((table["reform"] == "eligible").sum())
    return {
        "baseline": {"program": baseline.id, "version": baseline.number},
        "reform": {"program": reform.id, "version": reform.number},
        "on": on.isoformat(),
        "applicants": table.height,
        "counts": {k: int(v) for k, v in counts.items()},
        "outcomes": {
            "baseline": {o: int((table["baseline"] == o).sum()) for o in OUTCOMES},
            "reform": {o: int((table["reform"] == o).sum()) for o in OUTCOMES},
        },
        "transitions": transitions,
        "breakdowns": breakdowns,
        "criteria": causes,
        "parameters": _changed_parameters(baseline, reform, on),
        "quota": {
            "baseline": _fill(quota_position(session=session, program=baseline, on=on), eligible_before),
            "reform": _fill(quota_position(session=session, program=reform, on=on), eligible_after),
        },
        "problems": [p.to_dict() for p in parsed.problems],
    }
