"""`records.memo`: an answer is kept while the records are unchanged, computed once however many
readers ask at the same moment, and given up when an import adds records."""

from __future__ import annotations

import threading
import time

from tests.actors import SYSTEM

from regionvisa.records import memo
from regionvisa.records.service import import_file

PEOPLE = ["person_id,name,nationality,birth_date,sex,passport_no", "M1,Memo One,VNM,1990-01-01,F,M1000001"]
REPORTS = ["person_id,area_code,effective_date,reported_date", "M1,11110,2025-01-05,2025-01-06"]


def _import(engine, tmp_path, kind: str, lines: list[str]) -> None:
    feed = tmp_path / f"{kind}.csv"
    feed.write_text("\n".join(lines) + "\n", encoding="utf-8")
    summary, _ = import_file(engine=engine, kind=kind, path=feed, actor=SYSTEM)
    assert summary.outcome == "committed", summary


def test_an_answer_is_computed_once_for_readers_at_once_and_again_after_an_import(engine, tmp_path):
    memo.forget()
    _import(engine, tmp_path, "people", PEOPLE)
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        time.sleep(0.2)  # long enough for every reader below to arrive while it runs
        return len(calls)

    answers: list[int] = []
    readers = [
        threading.Thread(target=lambda: answers.append(memo.remembered(engine=engine, key=("q",), compute=compute)))
        for _ in range(5)
    ]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join()
    assert answers == [1] * 5 and len(calls) == 1  # one computation, five readers
    assert memo.remembered(engine=engine, key=("q",), compute=compute) == 1 and len(calls) == 1
    assert memo.remembered(engine=engine, key=("other",), compute=compute) == 2  # another question
    _import(engine, tmp_path, "addresses", REPORTS)
    assert memo.remembered(engine=engine, key=("q",), compute=compute) == 3  # the records changed


def test_the_least_recently_used_answer_goes_first(engine):
    memo.forget()
    for i in range(memo.SIZE + 1):
        memo.remembered(engine=engine, key=("n", i), compute=lambda i=i: i)
    kept = memo.remembered(engine=engine, key=("n", memo.SIZE), compute=lambda: -1)
    dropped = memo.remembered(engine=engine, key=("n", 0), compute=lambda: -1)
    assert (kept, dropped) == (memo.SIZE, -1)
