"""Selection tally: the committee's scores, with recusal, quorum and trimming, into ranks and quotas.

Pure: no database and no I/O. `selection.service.tally` reads a round's members, conflicts,
scores and proposals and hands them here as plain data. For each proposal: the members who
may score it (the committee minus those recused from its region), those who scored every
criterion, each scorer's weighted total, the aggregate (their mean, without the highest and the
lowest total when the round trims and five or more scored), and whether the quorum is met.
Proposals that meet quorum are ranked by aggregate (ties by region code); those at or above the
threshold are recommended, up to the round's maximum; their requested quotas are apportioned
within the round's ceiling by `quotas.apportion`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from regionvisa.quotas.apportion import apportion


@dataclass(frozen=True)
class Rules:
    """The round's rules the tally needs: rubric (`id`, `weight`), quorum and the selection limits."""

    rubric: Sequence[Mapping]
    quorum: Fraction
    trim: bool
    threshold: float
    max_selected: int | None = None
    quota_ceiling: int | None = None


@dataclass(frozen=True)
class Candidate:
    """A proposal as the tally sees it: its region and its designs (`program_id`, `base_visa`, `title`, `requested`)."""

    proposal_id: int
    region: str
    designs: Sequence[Mapping] = ()


@dataclass
class Tally:
    """The figures for one proposal: who could score, who did, the aggregate and the quorum."""

    proposal_id: int
    region: str
    eligible: int
    recused: list[int]
    scorers: list[int]
    member_totals: dict[int, float]
    matrix: dict[int, dict[str, int]]
    criterion_means: dict[str, float]
    trimmed: list[int]
    aggregate: float | None
    quorum_required: int
    quorum_met: bool
    rank: int | None = None
    recommended: bool = False
    designs: list[dict] = field(default_factory=list)  # program_id, title, requested, recommended

    def as_dict(self) -> dict:
        return {
            "region": self.region,
            "eligible": self.eligible,
            "recused": self.recused,
            "scorers": self.scorers,
            "member_totals": {str(k): round(v, 2) for k, v in self.member_totals.items()},
            "criterion_means": {k: round(v, 2) for k, v in self.criterion_means.items()},
            "trimmed": self.trimmed,
            "aggregate": None if self.aggregate is None else round(self.aggregate, 2),
            "quorum_required": self.quorum_required,
            "quorum_met": self.quorum_met,
            "rank": self.rank,
            "recommended": self.recommended,
            "designs": self.designs,
        }


def ceil_fraction(frac: Fraction, n: int) -> int:
    """⌈frac × n⌉ in exact arithmetic: the members a quorum of `frac` needs out of `n`."""
    return -(-frac.numerator * n // frac.denominator)


def tally_round(
    *,
    rules: Rules,
    member_ids: Sequence[int],
    recusals: Mapping[int, Collection[str]],
    scores: Iterable[tuple[int, int, str, int]],
    candidates: Sequence[Candidate],
) -> list[Tally]:
    """One `Tally` per candidate, in the candidates' order, ranked and with recommended quotas.

    `member_ids` is the committee in seating order, `recusals` maps a member to the regions they
    are recused from, `scores` holds (proposal_id, member_id, criterion, score) rows in any order.
    A recused member's rows, and rows of members outside the committee, are never counted.
    """
    ids = [c["id"] for c in rules.rubric]
    weights = np.array([float(c["weight"]) for c in rules.rubric])
    weights = weights / weights.sum()
    by_proposal: dict[int, dict[int, dict[str, int]]] = {}
    for pid, mid, cid, value in scores:
        by_proposal.setdefault(pid, {}).setdefault(mid, {})[cid] = value
    out = [
        _proposal_tally(
            candidate,
            by_proposal.get(candidate.proposal_id, {}),
            rules=rules,
            ids=ids,
            weights=weights,
            member_ids=member_ids,
            recusals=recusals,
        )
        for candidate in candidates
    ]
    _rank(out, rules)
    _recommend_quotas(out, rules)
    return out


def _proposal_tally(
    candidate: Candidate,
    given: Mapping[int, Mapping[str, int]],
    *,
    rules: Rules,
    ids: list[str],
    weights: np.ndarray,
    member_ids: Sequence[int],
    recusals: Mapping[int, Collection[str]],
) -> Tally:
    recused = [mid for mid in member_ids if candidate.region in recusals.get(mid, ())]
    eligible_ids = [mid for mid in member_ids if mid not in recused]
    scorers = [mid for mid in eligible_ids if mid in given and all(c in given[mid] for c in ids)]
    matrix = {mid: given[mid] for mid in scorers}
    totals: dict[int, float] = {}
    means: dict[str, float] = {}
    trimmed: list[int] = []
    aggregate = None
    if scorers:
        grid = np.array([[given[mid][c] for c in ids] for mid in scorers], dtype=float)
        member_totals = grid @ weights
        totals = {mid: float(t) for mid, t in zip(scorers, member_totals, strict=True)}
        means = {c: float(v) for c, v in zip(ids, grid.mean(axis=0), strict=True)}
        keep = np.ones(len(scorers), dtype=bool)
        if rules.trim and len(scorers) >= 5:
            order = sorted(range(len(scorers)), key=lambda k: (member_totals[k], scorers[k]))
            keep[order[0]] = keep[order[-1]] = False
            trimmed = [scorers[order[0]], scorers[order[-1]]]
        aggregate = float(member_totals[keep].mean())
    required = ceil_fraction(rules.quorum, len(eligible_ids))
    design_rows = [
        {
            "program_id": d["program_id"],
            "base_visa": d["base_visa"],
            "title": d["title"],
            "requested": d["requested"],
            "recommended": 0,
        }
        for d in candidate.designs
    ]
    return Tally(
        proposal_id=candidate.proposal_id,
        region=candidate.region,
        eligible=len(eligible_ids),
        recused=recused,
        scorers=scorers,
        member_totals=totals,
        matrix=matrix,
        criterion_means=means,
        trimmed=trimmed,
        aggregate=aggregate,
        quorum_required=required,
        quorum_met=bool(eligible_ids) and len(scorers) >= required,
        designs=design_rows,
    )


def _rank(tallies: list[Tally], rules: Rules) -> None:
    """Rank the proposals that meet quorum; recommend those at the threshold or above, up to the maximum."""
    ranked = sorted((t for t in tallies if t.quorum_met), key=lambda t: (-(t.aggregate or 0.0), t.region))
    passing = 0
    for place, t in enumerate(ranked, start=1):
        t.rank = place
        if t.aggregate is not None and t.aggregate >= rules.threshold - 1e-9:
            passing += 1
            t.recommended = rules.max_selected is None or passing <= rules.max_selected


def _recommend_quotas(tallies: list[Tally], rules: Rules) -> None:
    """Apportion the recommended regions' requests within the ceiling (all of them when there is none)."""
    requests = [
        {"region": t.region, "program": d["program_id"], "requested": d["requested"], "score": t.aggregate}
        for t in tallies
        if t.recommended
        for d in t.designs
    ]
    if not requests:
        return
    ceiling = rules.quota_ceiling if rules.quota_ceiling is not None else sum(r["requested"] for r in requests)
    granted = {(r["region"], r["program"]): r["granted"] for r in apportion(requests, ceiling)}
    for t in tallies:
        for d in t.designs:
            d["recommended"] = granted.get((t.region, d["program_id"]), 0)
