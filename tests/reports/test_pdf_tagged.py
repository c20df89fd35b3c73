"""The evaluation report PDF is tagged (issue 17, requirement 9): it carries a structure tree
(StructTreeRoot, MarkInfo /Marked true) and its language, so assistive technology reads it in order."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from regionvisa.reports import evaluation_report as er


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["ko", "en"])
def test_the_report_pdf_is_tagged(contexts, tmp_path, lang):
    pdfinfo = shutil.which("pdfinfo")
    if pdfinfo is None:
        pytest.fail("pdfinfo not found: `make test` installs poppler-utils (apt-get install -y poppler-utils)")
    path = tmp_path / f"evaluation-{lang}.pdf"
    path.write_bytes(er.render_pdf(contexts[lang]))
    info = subprocess.run([pdfinfo, str(path)], capture_output=True, check=True, timeout=60, text=True).stdout
    assert re.search(r"^Tagged:\s+yes$", info, re.M), info
    # the structure tree (StructTreeRoot): headings, tables with header cells, figures
    tree = subprocess.run([pdfinfo, "-struct", str(path)], capture_output=True, check=True, timeout=60, text=True)
    kinds = {line.split()[0].rstrip(":") for line in tree.stdout.splitlines() if line.strip()}
    assert {"H2", "Table", "TH", "TD", "Figure"} <= kinds, sorted(kinds)
