"""`regionvisa applications …` and the ledger commands of `regionvisa quotas`."""

from __future__ import annotations

import json

from .conftest import eligible_busan

HEADER = (
    "passport_no,name,nationality,birth_date,passport_valid_until,entry_ban,criminal_record,prior_illegal_stay,"
    "course_type,bank_balance_krw,university_region,topik_level"
)


def test_import_then_the_whole_path_from_the_command_line(cli, busan, tmp_path, engine):
    path = tmp_path / "apps.csv"
    path.write_text(
        HEADER
        + "\nCLI000001,A,VNM,2001-01-01,2030-01-01,false,false,false,degree,9000000,26,4"
        + "\nCLI000002,B,VNM,2001-01-01,2030-01-01,false,false,false,degree,9000000,26,x\n",
        encoding="utf-8",
    )
    rejects = tmp_path / "rejects.csv"
    result = cli(
        "applications", "import", str(path), "--program", "busan-d2", "--on", "2025-06-02", "--rejects", str(rejects)
    )
    assert result.exit_code == 0, result.output
    assert "committed_with_rejects" in result.output
    assert "apps.csv:3: topik_level = 'x'" in result.output
    assert rejects.read_text().splitlines()[1].startswith("3,topik_level,x,")
    queue = cli("applications", "queue", "--program", "busan-d2")
    assert queue.exit_code == 0 and "remaining places 10" in queue.output
    assert cli("applications", "recommend", "1", "--reason", "cli recommend").exit_code == 0
    # no documents were uploaded: approving needs an override reason, which is audited
    refused = cli("applications", "approve", "1", "--reason", "cli approve")
    assert refused.exit_code == 1 and "8 required document(s) missing" in refused.output
    for move in ("approve", "issue"):
        r = cli(
            "applications", move, "1", "--reason", f"cli {move}", "--override-reason", "originals seen at the counter"
        )
        assert r.exit_code == 0, r.output
    shown = cli("applications", "show", "1", "--json")
    data = json.loads(shown.output)
    assert data["status"] == "issued" and data["visa_number"] and data["screening"]["explanation"]["criteria"]
    refused = cli("applications", "approve", "1")
    assert refused.exit_code == 1 and "cannot approve application 1: it is issued" in refused.output
    ledger = cli("quotas", "ledger", "--program", "busan-d2", "--period", "2025")
    assert "used 1" in ledger.output and "use" in ledger.output
    top_up = cli(
        "quotas", "adjust", "--program", "busan-d2", "--period", "2025", "--amount", "130", "--reason", "top-up"
    )
    assert top_up.exit_code == 0 and "capacity 140" in top_up.output
    assert "top-up" in cli("quotas", "ledger", "--program", "busan-d2", "--period", "2025").output
    cut = cli("quotas", "adjust", "--program", "busan-d2", "--period", "2025", "--amount", "-500", "--reason", "cut")
    assert cut.exit_code == 1


def test_submit_as_a_user_keeps_their_region(cli, busan, tmp_path, make_user):
    make_user("t.seoul", "regional_official", "11")
    make_user("t.busan", "regional_official", "26")
    applicant = tmp_path / "a.json"
    applicant.write_text(json.dumps({"name": "X", "passport_no": "JSN000001", **eligible_busan(0)}), encoding="utf-8")
    refused = cli(
        "applications", "submit", str(applicant), "--program", "busan-d2", "--on", "2025-06-02", "--as", "t.seoul"
    )
    assert refused.exit_code == 1 and "another region" in refused.output
    ok = cli("applications", "submit", str(applicant), "--program", "busan-d2", "--on", "2025-06-02", "--as", "t.busan")
    assert ok.exit_code == 0 and "screened, eligible" in ok.output
    opened = cli(
        "quotas",
        "open",
        "--program",
        "busan-d2",
        "--period",
        "2026",
        "--start",
        "2026-01-01",
        "--end",
        "2026-12-31",
        "--allocated",
        "1000",
        "--reason",
        "2026 allocation",
    )
    assert opened.exit_code == 0, opened.output
    assert "busan-d2" in cli("quotas", "ledgers", "--region", "26").output
    flag = cli("applications", "simplified", "26", "--on", "--reason", "grade A")
    assert flag.exit_code == 0 and "on" in flag.output
