"""A design may declare its document checklist; the simplified list may only leave documents out."""

from __future__ import annotations

import pytest
import yaml

from regionvisa.config import PROJECT_ROOT
from regionvisa.policyfiles import PolicyError
from regionvisa.programs.files import parse_design

BUSAN = PROJECT_ROOT / "policy" / "programs" / "26" / "busan-d2.yaml"


def design(**documents) -> dict:
    data = yaml.safe_load(BUSAN.read_text(encoding="utf-8"))
    data["documents"] = documents
    return data


def test_busan_declares_a_reduced_list():
    loaded = parse_design(yaml.safe_load(BUSAN.read_text(encoding="utf-8")), "busan-d2.yaml")
    assert loaded.spec.documents.simplified == ["passport", "admission_letter", "recommendation_letter"]


@pytest.mark.parametrize(
    ("documents", "message"),
    [
        ({"standard": ["passport"], "simplified": ["passport", "photo"]}, "does not ask for: photo"),
        ({"standard": []}, "documents.standard"),
        ({"standard": ["Passport copy"]}, "lower-case"),
        ({"standard": ["passport"], "extra": ["x"]}, "documents.extra"),
    ],
)
def test_bad_document_lists_are_refused_with_their_path(documents, message):
    with pytest.raises(PolicyError) as caught:
        parse_design(design(**documents), "d.yaml")
    assert any(message in line and line.startswith("d.yaml:documents") for line in caught.value.errors), caught.value
