"""The §4.4 commands: exit codes, error lines, output columns exactly as in the contract."""

from __future__ import annotations

import json

import polars as pl
import yaml
from sqlalchemy import select

from regionvisa.audit.models import AuditEntry
from regionvisa.db import session_scope
from regionvisa.programs import service

SCREEN_HEAD = ["applicant_id", "outcome", "points", "failed", "missing"]
BUSAN_CRITERIA = [
    "passport-valid", "no-entry-ban", "no-criminal-record", "no-illegal-stay-5y", "degree-course",
    "financial-proof", "university-in-busan", "korean-ability", "age-limit",
]  # fmt: skip
HEADER = ["applicant_id", "nationality", "birth_date", "passport_valid_until", "entry_ban", "criminal_record",
          "prior_illegal_stay", "course_type", "university_region", "topik_level", "kiip_level",
          "bank_balance_krw", "submitted_at"]  # fmt: skip


def applicant_rows():
    base = ["VNM", "2000-01-01", "2030-01-01", False, False, False, "degree", "26"]
    return [
        ["S1", *base, 4, 4, 9_000_000, "2025-05-02"],  # eligible, 20 points
        ["S2", *base, 2, 0, 9_000_000, "2025-05-01"],  # fails korean-ability
        ["S3", *base, 3, 0, "nine million", "2025-05-01"],  # bad wage cell -> missing
        ["S4", *base, 4, 0, 9_000_000, "2025-05-01"],  # eligible, 10 points, earlier
        ["S5", *base, 4, 0, 9_000_000, "2025-05-03"],  # eligible, 10 points, later
    ]


def test_validate_exit_codes_and_error_lines(cli, tmp_path, designs):
    ok = cli("programs", "validate", str(designs.BUSAN), str(designs.GYEONGGI))
    assert ok.exit_code == 0, ok.output
    design = yaml.safe_load(designs.BUSAN.read_text(encoding="utf-8"))
    design["parameters"]["bank_balance_krw"] = {"2025-04-02": 5_000_000}
    design["criteria"][0]["rule"] = {">=": [{"var": "bank_balanse_krw"}, 1]}
    bad = tmp_path / "bad-d2.yaml"
    bad.write_text(yaml.safe_dump(design, allow_unicode=True), encoding="utf-8")
    result = cli("programs", "validate", str(designs.BUSAN), str(bad))
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert any(
        line.startswith(f"{bad}:parameters.bank_balance_krw.2025-04-02: ") and "8,000,000" in line for line in lines
    ), lines
    assert any(line.startswith(f"{bad}:criteria[0].rule.>=[0].var: ") for line in lines), lines
    assert all(line.startswith(f"{bad}:") for line in lines)


def test_load_publish_and_list(cli, engine, designs):
    result = cli("programs", "load", str(designs.BUSAN), str(designs.GYEONGGI), "--publish")
    assert result.exit_code == 0, result.output
    assert "busan-d2 v1: published" in result.stdout
    listing = cli("programs", "list")
    assert "busan-d2\t26\tD-2\tv1\tpublished" in listing.stdout
    with session_scope(engine=engine) as session:
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.subject_id == "busan-d2")).all()
    assert "program.published" in actions


def test_load_refuses_everything_when_one_file_is_invalid(cli, engine, tmp_path, designs):
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\n", encoding="utf-8")
    result = cli("programs", "load", str(designs.BUSAN), str(bad))
    assert result.exit_code == 1
    with session_scope(engine=engine) as session:
        assert service.list_programs(session=session) == []


def test_screen_writes_the_contract_columns_and_reports_bad_cells(cli, write_csv, tmp_path, designs):
    applicants = write_csv("applicants.csv", HEADER, applicant_rows())
    out = tmp_path / "out.csv"
    result = cli("screen", "--program", str(designs.BUSAN), "--applicants", str(applicants), "--on", "2025-06-01",
                 "--out", str(out))  # fmt: skip
    assert result.exit_code == 0, result.output
    header = out.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert header == SCREEN_HEAD + [f"c:{c}" for c in BUSAN_CRITERIA]
    table = pl.read_csv(out, infer_schema=False)
    assert table["applicant_id"].to_list() == ["S1", "S2", "S3", "S4", "S5"]
    assert table["outcome"].to_list() == ["eligible", "ineligible", "incomplete", "eligible", "eligible"]
    assert table["points"].to_list() == ["20", "0", "0", "10", "10"]
    assert table["failed"].to_list()[1] == "korean-ability"
    assert table["missing"].to_list()[2] == "bank_balance_krw"
    assert table["c:financial-proof"].to_list()[2] == "missing"
    assert f"{applicants}: line 4: bank_balance_krw = 'nine million': not a whole number" in result.stderr
    assert "treated as missing" in result.stderr
    parquet = tmp_path / "out.parquet"
    again = cli("screen", "--program", str(designs.BUSAN), "--applicants", str(applicants), "--on", "2025-06-01",
                "--out", str(parquet))  # fmt: skip
    assert again.exit_code == 0
    assert pl.read_parquet(parquet).columns == header


def test_screen_by_stored_id_uses_the_version_in_force(cli, pilots, write_csv, tmp_path):
    applicants = write_csv("applicants.csv", HEADER, applicant_rows())
    out = tmp_path / "out.csv"
    result = cli("screen", "--program", "busan-d2", "--applicants", str(applicants), "--on", "2025-06-01",
                 "--out", str(out))  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "busan-d2 v1" in result.stdout
    early = cli("screen", "--program", "busan-d2", "--applicants", str(applicants), "--on", "2024-06-01",
                "--out", str(out))  # fmt: skip
    assert early.exit_code == 1
    assert "not found" in early.stderr


def test_rank_command_orders_ties(cli, write_csv, tmp_path, designs):
    applicants = write_csv("applicants.csv", HEADER, applicant_rows())
    out = tmp_path / "ranked.csv"
    result = cli("programs", "rank", "--program", str(designs.BUSAN), "--applicants", str(applicants),
                 "--on", "2025-06-01", "--out", str(out))  # fmt: skip
    assert result.exit_code == 0, result.output
    ranked = pl.read_csv(out, infer_schema=False)
    assert ranked.columns == ["rank", "applicant_id", "points", "submitted_at"]
    assert ranked["applicant_id"].to_list() == ["S1", "S4", "S5"]


def test_explain_text_and_json(cli, tmp_path, designs):
    path = tmp_path / "applicant.json"
    path.write_text(json.dumps({**designs.BUSAN_OK, "topik_level": 2}), encoding="utf-8")
    text = cli("explain", "--program", str(designs.BUSAN), "--applicant", str(path), "--on", "2025-06-01",
               "--lang", "en")  # fmt: skip
    assert text.exit_code == 0, text.output
    assert text.stdout.splitlines()[0] == "busan-d2 v1 on 2025-06-01: ineligible"
    failed = "[fail] Korean ability (TOPIK 3 or higher): not met — TOPIK level (2) ≥ the programme's threshold (3)"
    assert failed in text.stdout
    ko = cli("explain", "--program", str(designs.BUSAN), "--applicant", str(path), "--on", "2025-06-01")
    assert "부적격" in ko.stdout.splitlines()[0]
    as_json = cli("explain", "--program", str(designs.BUSAN), "--applicant", str(path), "--on", "2025-06-01",
                  "--json")  # fmt: skip
    data = json.loads(as_json.stdout)
    assert data["outcome"] == "ineligible" and data["failed"] == ["korean-ability"]
    korean = next(c for c in data["criteria"] if c["id"] == "korean-ability")
    assert korean["parameters"][0] == {
        "name": "topik_min", "value": 3, "effective_date": "2025-04-02", "in_force": True, "used": True,
    }  # fmt: skip


def test_match_lists_programmes_with_near_misses(cli, engine, publish, tmp_path, designs):
    publish(designs.e7_design("strict-e7", wage_floor=28_000_000, topik_min=4))
    publish(designs.e7_design("easy-e7", wage_floor=26_000_000, topik_min=2))
    path = tmp_path / "applicant.json"
    path.write_text(json.dumps(designs.E7_APPLICANT), encoding="utf-8")
    result = cli("match", "--applicant", str(path), "--on", "2025-06-01")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("easy-e7 v1 [41 E-7]: eligible")
    assert lines[1].startswith("strict-e7 v1 [41 E-7]: ineligible (near miss)")
    assert "  wage-floor: annual wage 27,000,000 → 28,000,000 KRW" in lines
    assert "  korean: TOPIK 3 → 4" in lines
    as_json = json.loads(cli("match", "--applicant", str(path), "--on", "2025-06-01", "--json").stdout)
    assert [p["program"] for p in as_json["programs"]] == ["easy-e7", "strict-e7"]


def test_simulate_compares_two_files(cli, write_csv, tmp_path, designs):
    design = yaml.safe_load(designs.BUSAN.read_text(encoding="utf-8"))
    design["version"] = 2
    design["parameters"]["topik_min"] = {"2025-04-02": 2}
    reform = tmp_path / "busan-d2-v2.yaml"
    reform.write_text(yaml.safe_dump(design, allow_unicode=True), encoding="utf-8")
    applicants = write_csv("applicants.csv", HEADER, applicant_rows())
    result = cli("simulate", "--baseline", str(designs.BUSAN), "--reform", str(reform), "--applicants",
                 str(applicants), "--on", "2025-06-01", "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["counts"] == {"newly_eligible": 1, "newly_ineligible": 0, "unchanged": 4}
    assert data["criteria"][0]["criterion"] == "korean-ability"
    text = cli("simulate", "--baseline", str(designs.BUSAN), "--reform", str(reform), "--applicants",
               str(applicants), "--on", "2025-06-01")  # fmt: skip
    assert "newly eligible: 1  newly ineligible: 0  unchanged: 4" in text.stdout
    assert "parameter topik_min: 3 → 2" in text.stdout
