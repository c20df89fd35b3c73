"""`regionvisa selection …`: open a round, add members, submit (designs checked), close the
window, tally, the chair's decision (refused below quorum) and the minutes as files."""

from __future__ import annotations

import datetime as dt
import json

import yaml

from regionvisa.db import session_scope
from regionvisa.selection import committee, service
from regionvisa.selection.schemas import ConflictsIn, ScoresIn

from .conftest import BUSAN_DESIGN, busan_design

CRITERIA = ("need", "feasibility", "settlement", "management", "employment")


def open_round(cli) -> int:
    now = dt.datetime.now()
    opened = cli(
        "selection", "open", "--year", "2026",
        "--opens", (now - dt.timedelta(days=1)).isoformat(timespec="minutes"),
        "--closes", (now + dt.timedelta(days=1)).isoformat(timespec="minutes"),
        "--threshold", "65", "--trim",
    )  # fmt: skip
    assert opened.exit_code == 0, opened.output
    round_id = int(opened.output.split()[1])
    for user, role, region in (
        ("c.chair", "chair", None),
        ("c.official1", "official", None),
        ("c.expert1", "expert", "26"),
    ):
        args = ["selection", "add-member", str(round_id), "--user", user, "--role", role, "--affiliation", "MOJ"]
        result = cli(*args, *(["--region", region] if region else []))
        assert result.exit_code == 0, result.output
    assert "recused from: ['26']" in result.output
    return round_id


def score(engine, people, round_id, members) -> None:
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)
    with session_scope(engine=engine) as session:
        for member in members:
            committee.declare_conflicts(
                session=session, rnd=round_id, data=ConflictsIn(), actor=people[member], now=later
            )
            data = ScoresIn(scores={c: {"score": 75, "comment": "ok"} for c in CRITERIA})
            service.save_scores(session=session, rnd=round_id, region="26", data=data, actor=people[member], now=later)


def test_submission_from_the_command_line_is_checked(cli, people, tmp_path):
    round_id = open_round(cli)
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(busan_design() | {"base_visa": "D-9"}, allow_unicode=True), encoding="utf-8")
    refused = cli("selection", "submit", str(round_id), "--region", "26", "--design", str(bad),
                  "--narrative", "plan", "--as", "s.busan")  # fmt: skip
    assert refused.exit_code == 1 and "design[1]:base_visa" in refused.output
    other = cli("selection", "submit", str(round_id), "--region", "11", "--design", str(BUSAN_DESIGN),
                "--narrative", "plan", "--as", "s.busan")  # fmt: skip
    assert other.exit_code == 1 and "another region" in other.output
    note = tmp_path / "plan.md"
    note.write_text("Busan plan from a file", encoding="utf-8")
    ok = cli("selection", "submit", str(round_id), "--region", "26", "--design", str(BUSAN_DESIGN), "--quota", "950",
             "--narrative", f"@{note}", "--attach", str(note), "--as", "s.busan")  # fmt: skip
    assert ok.exit_code == 0 and "version 1" in ok.output, ok.output
    assert str(round_id) in cli("selection", "rounds").output


def test_members_declare_and_score_from_the_command_line(cli, people, tmp_path):
    round_id = open_round(cli)
    cli("selection", "submit", str(round_id), "--region", "26", "--design", str(BUSAN_DESIGN),
        "--narrative", "plan", "--as", "s.busan")  # fmt: skip
    cli("selection", "close-window", str(round_id), "--reason", "deadline")
    declared = cli("selection", "declare", str(round_id), "--as", "c.official1", "--region", "26",
                   "--reason", "advised Busan")  # fmt: skip
    assert declared.exit_code == 0 and "recused from: ['26']" in declared.output
    sheet = tmp_path / "scores.yaml"
    sheet.write_text(yaml.safe_dump({c: {"score": 81, "comment": "clear plan"} for c in CRITERIA}), encoding="utf-8")
    recused = cli("selection", "score", str(round_id), "--region", "26", "--file", str(sheet), "--as", "c.official1")
    assert recused.exit_code == 1 and "recused" in recused.output
    assert cli("selection", "declare", str(round_id), "--as", "c.chair").exit_code == 0
    scored = cli("selection", "score", str(round_id), "--region", "26", "--file", str(sheet), "--as", "c.chair")
    assert scored.exit_code == 0, scored.output
    assert cli("selection", "close-scoring", str(round_id)).exit_code == 0
    assert cli("selection", "reopen-scoring", str(round_id), "--reason", "more scores").exit_code == 0
    tally = json.loads(cli("selection", "tally", str(round_id), "--json").output)
    assert tally[0]["aggregate"] == 81.0 and tally[0]["eligible"] == 1  # chair only: official and expert recused


def test_decision_below_quorum_is_refused_then_taken_and_minutes_written(cli, engine, people, tmp_path):
    for scorers, expect_quorum in ((["c.chair"], False), (["c.chair", "c.official1"], True)):
        round_id = open_round(cli)
        submitted = cli("selection", "submit", str(round_id), "--region", "26", "--design", str(BUSAN_DESIGN),
                        "--narrative", "plan", "--as", "s.busan")  # fmt: skip
        assert submitted.exit_code == 0, submitted.output
        assert cli("selection", "close-window", str(round_id), "--reason", "deadline").exit_code == 0
        score(engine, people, round_id, scorers)
        assert cli("selection", "close-scoring", str(round_id)).exit_code == 0
        tally = json.loads(cli("selection", "tally", str(round_id), "--json").output)
        assert (tally[0]["quorum_required"], tally[0]["quorum_met"]) == (2, expect_quorum)
        if not expect_quorum:
            below = cli("selection", "decide", str(round_id), "--as", "c.chair")
            assert below.exit_code == 1 and "below quorum" in below.output
            assert cli("selection", "minutes", str(round_id), "--out", str(tmp_path / "m.html")).exit_code == 1
    assert cli("selection", "decide", str(round_id), "--as", "c.official1").exit_code == 1  # not the chair
    decided = cli("selection", "decide", str(round_id), "--as", "c.chair", "--adjust", "busan-d2=900:phased intake")
    assert decided.exit_code == 0, decided.output
    assert "26: selected busan-d2 900" in decided.output
    for name in ("minutes-ko.pdf", "minutes-en.html"):
        lang = name.split("-")[1][:2]
        written = cli("selection", "minutes", str(round_id), "--out", str(tmp_path / name), "--lang", lang)
        assert written.exit_code == 0, written.output
    assert (tmp_path / "minutes-ko.pdf").read_bytes().startswith(b"%PDF")
    html = (tmp_path / "minutes-en.html").read_text(encoding="utf-8")
    assert "phased intake" in html and "Members present" in html
    assert cli("selection", "minutes", str(round_id), "--out", str(tmp_path / "m.docx")).exit_code == 1
