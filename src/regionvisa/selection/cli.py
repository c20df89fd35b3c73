"""`regionvisa selection`: Selection rounds / 선정 심사.

Ministry steps (open a round, add members, close the window or scoring) act as the system actor
`system:cli:<os user>`, or as `--as USER` under the permission policy. Steps that belong to a
person (a region's submission, the chair's decision) need `--as USER`: the same checks as the
pages and the API then apply, and the audit log names that user.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from regionvisa.accounts.cli import system_actor
from regionvisa.accounts.policy import Actor, authorize
from regionvisa.clitable import WIDE, print_table
from regionvisa.core.errors import DomainError
from regionvisa.policyfiles import PolicyError

app = typer.Typer(help="Selection rounds / 선정 심사", no_args_is_help=True)
err = Console(stderr=True)
out = Console()


@app.callback()
def _group() -> None:
    """Selection rounds / 선정 심사."""


def _fail(message: str, details: list[str] | None = None) -> typer.Exit:
    err.print(message, style="red", highlight=False, markup=False, soft_wrap=True)
    for line in details or []:
        err.print(f"  {line}", highlight=False, markup=False, soft_wrap=True)
    return typer.Exit(1)


def _principal(session, username: str, action: str) -> Actor:
    from regionvisa.accounts import service as accounts

    user = accounts.get_user_by_name(session=session, username=username)
    if not user.is_active:
        raise DomainError(status=403, code="disabled", ko="사용 중지된 계정입니다", en=f"user {username!r} is disabled")
    principal = accounts.principal_of(user, via="cli")
    authorize(principal, action)
    return principal


def _actor(session, as_user: str | None, action: str):
    return system_actor() if as_user is None else _principal(session, as_user, action)


def _run(fn):
    """Run `fn(session)` in one transaction; errors print in Korean and English, exit 1."""
    from regionvisa.db import get_engine, session_scope
    from regionvisa.selection.proposals import InvalidProposal

    try:
        with session_scope(engine=get_engine()) as session:
            return fn(session)
    except InvalidProposal as exc:
        raise _fail(f"{exc.en} / {exc.ko}", exc.details) from None
    except DomainError as exc:
        raise _fail(f"{exc.en} / {exc.ko}") from None
    except PolicyError as exc:
        raise _fail("invalid input", exc.errors) from None
    except ValidationError as exc:
        raise _fail("invalid input", [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]) from None


@app.command("rounds")
def rounds(wide: bool = WIDE) -> None:
    """List the rounds."""
    from regionvisa.selection import rounds

    def go(session):
        table = Table("id", "year", "title", "window (KST)", "phase")
        for r in rounds.list_rounds(session=session):
            table.add_row(
                str(r.id),
                str(r.year),
                r.title_en,
                f"{rounds.local_time(r.window_opens_at)} – {rounds.local_time(r.window_closes_at)}",
                rounds.phase(r),
            )
        print_table(table, wide=wide, console=out)

    _run(go)


@app.command("open")
def open_round(
    year: int = typer.Option(..., "--year"),
    opens: str = typer.Option(..., "--opens", help="ISO date or date-time (Korean time)"),
    closes: str = typer.Option(..., "--closes", help="ISO date-time (Korean time) when submissions close"),
    rubric: Path | None = typer.Option(None, "--rubric", help="YAML list of criteria; default: the five of 2025"),
    threshold: float = typer.Option(60.0, "--threshold"),
    quorum: str = typer.Option("2/3", "--quorum"),
    max_selected: int | None = typer.Option(None, "--max-selected"),
    trim: bool = typer.Option(False, "--trim/--no-trim"),
    ceiling: int | None = typer.Option(None, "--ceiling", help="national quota ceiling"),
    as_user: str | None = typer.Option(None, "--as"),
) -> None:
    """Open a selection round."""
    from regionvisa.selection import service
    from regionvisa.selection.schemas import RoundIn

    fields = {
        "year": year,
        "window_opens_at": dt.datetime.fromisoformat(opens),
        "window_closes_at": dt.datetime.fromisoformat(closes),
        "threshold": threshold,
        "quorum": quorum,
        "max_selected": max_selected,
        "trim": trim,
        "quota_ceiling": ceiling,
    }

    def go(session):
        if rubric is not None:
            from regionvisa.policyfiles import read_yaml

            fields["rubric"] = read_yaml(rubric)
        rnd = service.open_round(
            session=session, data=RoundIn(**fields), actor=_actor(session, as_user, "selection.manage")
        )
        out.print(f"round {rnd.id} opened ({rnd.year})")

    _run(go)


@app.command("add-member")
def add_member(
    round_id: int = typer.Argument(...),
    username: str = typer.Option(..., "--user"),
    role: str = typer.Option(..., "--role", help="chair | official | expert"),
    affiliation: str = typer.Option(..., "--affiliation"),
    region: str | None = typer.Option(None, "--region", help="region the member is affiliated with"),
    as_user: str | None = typer.Option(None, "--as"),
) -> None:
    """Add a committee member (an affiliation with a region is declared as a conflict)."""
    from regionvisa.selection import committee
    from regionvisa.selection.schemas import MemberIn

    def go(session):
        data = MemberIn(username=username, role=role, affiliation=affiliation, affiliation_region=region)
        member = committee.add_member(
            session=session, rnd=round_id, data=data, actor=_actor(session, as_user, "selection.manage")
        )
        recused = sorted(committee.recused_regions(session=session, member=member))
        out.print(f"member {member.id} added; recused from: {recused or '-'}")

    _run(go)


@app.command("submit")
def submit(
    round_id: int = typer.Argument(...),
    region: str = typer.Option(..., "--region"),
    design: list[Path] = typer.Option(..., "--design", help="programme design file (repeat for several)"),
    quota: list[int] = typer.Option([], "--quota", help="requested quota per --design, in order"),
    narrative: str = typer.Option(..., "--narrative", help="plan narrative, or @FILE"),
    attach: list[Path] = typer.Option([], "--attach"),
    as_user: str = typer.Option(..., "--as", help="the region's official"),
) -> None:
    """Submit or revise a region's proposal (designs validated against the guardrails)."""
    from regionvisa.selection import proposals
    from regionvisa.selection.schemas import DesignIn, ProposalIn

    if quota and len(quota) != len(design):
        raise _fail(f"give one --quota per --design ({len(design)} designs, {len(quota)} quotas)")
    text = Path(narrative[1:]).read_text(encoding="utf-8") if narrative.startswith("@") else narrative
    designs = [
        DesignIn(design=p.read_text(encoding="utf-8"), requested_quota=quota[i] if quota else None)
        for i, p in enumerate(design)
    ]
    files = [(p.name, "application/octet-stream", p.read_bytes()) for p in attach]

    def go(session):
        user = _principal(session, as_user, "proposals.submit")
        data = ProposalIn(designs=designs, narrative=text)
        version = proposals.submit_proposal(
            session=session, round_id=round_id, region=region, data=data, actor=user, files=files
        )
        out.print(f"proposal of {region}: version {version.version} stored")

    _run(go)


@app.command("close-window")
def close_window(
    round_id: int = typer.Argument(...),
    reason: str = typer.Option(..., "--reason"),
    as_user: str | None = typer.Option(None, "--as"),
) -> None:
    """End the submission window now."""
    from regionvisa.selection import service

    def go(session):
        service.close_window(
            session=session, rnd=round_id, actor=_actor(session, as_user, "selection.manage"), reason=reason
        )
        out.print("window closed")

    _run(go)


@app.command("close-scoring")
def close_scoring(round_id: int = typer.Argument(...), as_user: str | None = typer.Option(None, "--as")) -> None:
    """Close scoring: members then see each other's scores and the chair can decide."""
    from regionvisa.selection import service

    def go(session):
        service.close_scoring(session=session, rnd=round_id, actor=_actor(session, as_user, "selection.manage"))
        out.print("scoring closed")

    _run(go)


@app.command("reopen-scoring")
def reopen_scoring(
    round_id: int = typer.Argument(...),
    reason: str = typer.Option(..., "--reason"),
    as_user: str | None = typer.Option(None, "--as"),
) -> None:
    """Reopen scoring before the decision (e.g. after a refusal below quorum)."""
    from regionvisa.selection import service

    def go(session):
        service.reopen_scoring(
            session=session, rnd=round_id, actor=_actor(session, as_user, "selection.manage"), reason=reason
        )
        out.print("scoring reopened")

    _run(go)


@app.command("declare")
def declare(
    round_id: int = typer.Argument(...),
    region: list[str] = typer.Option(
        [], "--region", help="a region you have a conflict with (repeat); none: no conflict"
    ),
    reason: str = typer.Option("", "--reason"),
    as_user: str = typer.Option(..., "--as", help="the committee member"),
) -> None:
    """A member's declaration of conflicts of interest (recusal from those regions)."""
    from regionvisa.selection import committee
    from regionvisa.selection.schemas import ConflictsIn

    def go(session):
        user = _principal(session, as_user, "committee.score")
        member = committee.declare_conflicts(
            session=session, rnd=round_id, data=ConflictsIn(regions=region, reason=reason), actor=user
        )
        out.print(f"declared; recused from: {sorted(committee.recused_regions(session=session, member=member)) or '-'}")

    _run(go)


@app.command("score")
def score(
    round_id: int = typer.Argument(...),
    region: str = typer.Option(..., "--region"),
    scores_file: Path = typer.Option(..., "--file", help="YAML: criterion id -> {score: 0-100, comment: text}"),
    as_user: str = typer.Option(..., "--as", help="the committee member"),
) -> None:
    """A member's scores for one proposal, every rubric criterion with a comment."""
    from regionvisa.policyfiles import read_yaml
    from regionvisa.selection import service
    from regionvisa.selection.schemas import ScoresIn

    def go(session):
        user = _principal(session, as_user, "committee.score")
        data = ScoresIn(scores=read_yaml(scores_file) or {})
        service.save_scores(session=session, rnd=round_id, region=region, data=data, actor=user)
        out.print(f"scores for {region} saved")

    _run(go)


@app.command("tally")
def tally(
    round_id: int = typer.Argument(...), as_json: bool = typer.Option(False, "--json"), wide: bool = WIDE
) -> None:
    """Aggregates, quorum, ranking and recommendation per proposal."""
    from regionvisa.selection import rounds, service

    def go(session):
        rows = [
            t.as_dict()
            for t in service.tally(session=session, rnd=rounds.get_round(session=session, round_id=round_id))
        ]
        if as_json:
            typer.echo(json.dumps(rows, ensure_ascii=False, indent=2, default=str))
            return
        table = Table("region", "aggregate", "rank", "scored/eligible", "quorum", "recommended", "quotas")
        for r in sorted(rows, key=lambda r: (r["rank"] is None, r["rank"] or 0, r["region"])):
            table.add_row(
                r["region"],
                "-" if r["aggregate"] is None else f"{r['aggregate']:.2f}",
                str(r["rank"] or "-"),
                f"{len(r['scorers'])}/{r['eligible']}",
                f"{r['quorum_required']} {'met' if r['quorum_met'] else 'NOT MET'}",
                "yes" if r["recommended"] else "no",
                "; ".join(f"{d['program_id']} {d['requested']}→{d['recommended']}" for d in r["designs"]),
            )
        print_table(table, wide=wide, console=out)

    _run(go)


@app.command("decide")
def decide(
    round_id: int = typer.Argument(...),
    adjust: list[str] = typer.Option([], "--adjust", help="PROGRAM=QUOTA:REASON, the chair's quota change"),
    meeting_on: str | None = typer.Option(None, "--meeting-on"),
    as_user: str = typer.Option(..., "--as", help="the chair"),
) -> None:
    """The chair confirms the decisions (refused below quorum)."""
    from regionvisa.selection import service
    from regionvisa.selection.schemas import DecisionIn, QuotaAdjustment

    adjustments = {}
    for item in adjust:
        program, _, rest = item.partition("=")
        quota_text, _, reason = rest.partition(":")
        if not program or not quota_text.strip().isdigit():
            raise _fail(f"--adjust {item!r}: expected PROGRAM=QUOTA:REASON")
        adjustments[program.strip()] = QuotaAdjustment(quota=int(quota_text), reason=reason.strip())

    def go(session):
        user = _principal(session, as_user, "committee.score")
        data = DecisionIn(adjustments=adjustments, meeting_on=dt.date.fromisoformat(meeting_on) if meeting_on else None)
        service.confirm_decisions(session=session, rnd=round_id, data=data, actor=user)
        for row in service.results(session=session, round_id=round_id, actor=user):
            quotas = ", ".join(f"{q['program_id']} {q['confirmed']}" for q in row["quotas"])
            out.print(f"{row['region']}: {'selected' if row['selected'] else 'not selected'} {quotas}")

    _run(go)


@app.command("minutes")
def minutes_cmd(
    round_id: int = typer.Argument(...),
    out_path: Path = typer.Option(..., "--out", help="FILE.html or FILE.pdf"),
    lang: str = typer.Option("ko", "--lang", help="ko | en"),
) -> None:
    """Write the committee's minutes (HTML or PDF, Korean or English)."""
    from regionvisa.reports.files import write_atomic
    from regionvisa.selection import minutes

    fmt = out_path.suffix.lower().lstrip(".")
    if fmt not in minutes.FORMATS:
        raise _fail(f"--out {out_path}: use a .html or .pdf file name")

    def go(session):
        write_atomic(
            out_path, minutes.render(session=session, round_id=round_id, actor=system_actor(), lang=lang, fmt=fmt)
        )
        out.print(f"minutes written to {out_path}")

    _run(go)
