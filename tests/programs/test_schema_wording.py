"""A design the schema refuses is worded in Korean as well as English: the command line and the
API keep the English lines exactly as before, the pages in Korean show the Korean (issue 17 req. 4:
one language per page, including "unknown region" and "valid_to before valid_from")."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from regionvisa.policyfiles import PolicyError, validation_errors
from regionvisa.programs import designs
from regionvisa.programs.files import ProgramSpec, parse_design
from regionvisa.programs.problems import localised

from .test_design_form_pages import _fields

ROOT = Path(__file__).resolve().parents[2]
BUSAN = yaml.safe_load((ROOT / "policy" / "programs" / "26" / "busan-d2.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("change", "path", "korean"),
    [
        ({"region": "99"}, "region", "알 수 없는 지역 코드입니다: '99'"),
        ({"valid_to": dt.date(2020, 1, 1)}, "(root)", "종료일 2020-01-01이(가) 시작일"),
        ({"obligation_months": 500}, "obligation_months", "값은 120 이하여야 합니다"),
        ({"quota": "many"}, "quota", "값은 정수로 입력해 주세요"),
        ({"unknown_key": 1}, "unknown_key", "알 수 없는 항목입니다"),
    ],
)
def test_schema_refusals_have_korean_and_keep_the_english_lines(change, path, korean):
    design = {**BUSAN, **change}
    with pytest.raises(PolicyError) as refused:
        parse_design(design, source="draft")
    with pytest.raises(ValidationError) as schema:
        ProgramSpec.model_validate(design)
    # the English lines exactly as the schema alone writes them (the command line's and the API's)
    assert refused.value.errors == validation_errors("draft", schema.value)
    [line] = [e for e in refused.value.errors if e.startswith(f"draft:{path}:")]
    [ko] = [e for e in localised(refused.value.errors, refused.value.problems, "ko") if e.startswith(f"draft:{path}:")]
    assert korean in ko and "Value error" not in ko and "Input should" not in ko
    assert designs.validate_design(design)["errors_ko"] == localised(refused.value.errors, refused.value.problems, "ko")
    assert line in designs.validate_design(design)["errors"]


def test_the_design_form_says_an_unknown_region_in_korean(client, pilots, role_users, login):
    login(client, "t.busan")
    fields = _fields(client.get("/program-drafts/form?program=busan-d2&lang=ko").text)
    fields.update({"meta-valid_to": "2020-01-01", "act": "check"})
    refused = client.post("/program-drafts/form?lang=ko", data=fields)
    assert refused.status_code == 422
    assert "종료일 2020-01-01이(가) 시작일" in refused.text
    assert "is before valid_from" not in refused.text
