"""Shared by the upload tests (test_uploads.py, test_bad_files.py): the three upload endpoints,
API tokens per role, bad files of every kind, and a real server on loopback."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import time
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import openpyxl
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
from tests.actors import SYSTEM

ON = "2025-06-01"


@dataclass(frozen=True)
class Upload:
    """One upload endpoint: who may send, what it reads and a good file's columns and row."""

    name: str
    role: str
    path: str
    data: dict
    formats: tuple[str, ...]
    columns: tuple[str, ...]
    row: tuple[str, ...]

    def good_csv(self) -> bytes:
        return (",".join(self.columns) + "\n" + ",".join(self.row) + "\n").encode()


UPLOADS = (
    Upload(
        "records.import",
        "ministry_officer",
        "/api/v1/records/addresses/imports",
        {},
        ("csv", "parquet", "xlsx"),
        ("person_id", "area_code", "effective_date", "reported_date"),
        ("P10000001", "26110", "2025-03-01", "2025-03-02"),
    ),
    Upload(
        "programs.screen_file",
        "regional_official",
        "/api/v1/programs/busan-d2/screen/file",
        {"on": ON},
        ("csv", "parquet", "jsonl"),
        ("applicant_id", "nationality", "topik_level", "bank_balance_krw"),
        ("A1", "VNM", "3", "9000000"),
    ),
    Upload(
        "applications.import",
        "regional_official",
        "/api/v1/applications/imports",
        {"program_id": "busan-d2", "submitted_on": "2025-06-03"},
        ("csv", "xlsx"),
        ("passport_no", "name", "nationality", "birth_date"),
        ("BAD000001", "Test Person", "VNM", "2000-01-01"),
    ),
)
UPLOAD_IDS = [u.name for u in UPLOADS]


def tokens_for(engine, role_users) -> dict[str, dict]:
    """role -> Authorization header with a fresh API token of that role's user."""
    from regionvisa.accounts import service
    from regionvisa.db import session_scope

    out = {}
    with session_scope(engine=engine) as session:
        for role, info in role_users.items():
            _, plain = service.create_token(
                session=session, actor=SYSTEM, user=service.get_user(session=session, user_id=info["id"]), name="t"
            )
            out[role] = {"Authorization": f"Bearer {plain}"}
    return out


def publish_busan(engine) -> None:
    """busan-d2 published from its policy file (no ledger: these tests screen and take in only)."""
    from regionvisa.config import get_settings
    from regionvisa.db import session_scope
    from regionvisa.programs import service as programs

    with session_scope(engine=engine) as session:
        path = get_settings().policy_dir / "programs" / "26" / "busan-d2.yaml"
        programs.load_files(session=session, paths=[path], actor=SYSTEM, publish=True)


def xlsx_bytes(rows: list[list]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def parquet_bytes(table: pa.Table) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


def bad_file(case: str, upload: Upload) -> tuple[str, bytes]:
    """(file name, content) of one kind of bad file, shaped for `upload`'s columns."""
    cols, row = list(upload.columns), list(upload.row)
    if case == "empty_csv":
        return "empty.csv", b""
    if case == "blank_csv":
        return "blank.csv", b"\n\r\n\n"
    if case == "duplicate_header_csv":
        return "twice.csv", (",".join([*cols, cols[1]]) + "\n" + ",".join([*row, row[1]]) + "\n").encode()
    if case == "unnamed_column_csv":
        return "unnamed.csv", (",".join([cols[0], "", *cols[1:]]) + "\n" + ",".join([row[0], "x", *row[1:]])).encode()
    if case == "cp949_csv":
        return "hangul.csv", (",".join(cols) + "\n" + ",".join(["홍길동", *row[1:]]) + "\n").encode("cp949")
    if case == "ragged_csv":
        return "ragged.csv", (",".join(cols) + "\n" + ",".join([*row, "extra", "more"]) + "\n").encode()
    if case == "list_parquet":
        arrays = {c: pa.array([v]) for c, v in zip(cols, row, strict=True)}
        arrays[cols[1]] = pa.array([[row[1], row[1]]])
        return "lists.parquet", parquet_bytes(pa.table(arrays))
    if case == "duplicate_parquet":
        table = pa.Table.from_arrays([pa.array([v]) for v in [*row, row[1]]], names=[*cols, cols[1]])
        return "twice.parquet", parquet_bytes(table)
    if case == "not_parquet":
        return "fake.parquet", b"PAR1 this is not a parquet file"
    if case == "broken_xlsx":
        return "broken.xlsx", b"PK\x03\x04 this is not a workbook"
    if case == "truncated_xlsx":
        whole = xlsx_bytes([cols, row])
        return "truncated.xlsx", whole[: len(whole) // 2]
    if case == "zip_not_xlsx":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as archive:
            archive.writestr("hello.txt", "not a workbook")
        return "other.xlsx", buf.getvalue()
    if case == "duplicate_header_xlsx":
        return "twice.xlsx", xlsx_bytes([[*cols, cols[1]], [*row, row[1]]])
    if case == "unnamed_column_xlsx":
        return "unnamed.xlsx", xlsx_bytes([cols, [*row, "stray"]])
    if case == "empty_xlsx":
        return "empty.xlsx", xlsx_bytes([])
    if case == "lone_surrogate_jsonl":
        return "surrogate.jsonl", ('{"%s": "\\ud800x"}\n' % cols[0]).encode()  # noqa: UP031 (JSON braces)
    if case == "not_objects_jsonl":
        return "numbers.jsonl", b"[1, 2]\n3\n"
    if case == "broken_jsonl":
        return "broken.jsonl", ('{"%s": "A1"\n' % cols[0]).encode()  # noqa: UP031
    if case == "unknown_type":
        return "table.txt", upload.good_csv()
    raise KeyError(case)


# case -> (format it is in, error code when the endpoint reads that format)
BAD_CASES = {
    "empty_csv": ("csv", "empty_file"),
    "blank_csv": ("csv", "empty_file"),
    "duplicate_header_csv": ("csv", "duplicate_columns"),
    "unnamed_column_csv": ("csv", "blank_column"),
    "cp949_csv": ("csv", "not_utf8"),
    "ragged_csv": ("csv", "unreadable_file"),
    "list_parquet": ("parquet", "nested_column"),
    "duplicate_parquet": ("parquet", "duplicate_columns"),
    "not_parquet": ("parquet", "unreadable_file"),
    "broken_xlsx": ("xlsx", "unreadable_file"),
    "truncated_xlsx": ("xlsx", "unreadable_file"),
    "zip_not_xlsx": ("xlsx", "unreadable_file"),
    "duplicate_header_xlsx": ("xlsx", "duplicate_columns"),
    "unnamed_column_xlsx": ("xlsx", "blank_column"),
    "empty_xlsx": ("xlsx", "empty_file"),
    "lone_surrogate_jsonl": ("jsonl", "invalid_text"),
    "not_objects_jsonl": ("jsonl", "unreadable_file"),
    "broken_jsonl": ("jsonl", "unreadable_file"),
    "unknown_type": ("txt", "unsupported_file"),
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def live_server(engine, *, env: dict | None = None):
    """uvicorn serving the app on loopback against `engine`'s database; yields (base URL, pid)."""
    port = free_port()
    url = engine.url.render_as_string(hide_password=False)
    environment = {**os.environ, "REGIONVISA_DATABASE_URL": url, **(env or {})}
    cmd = [sys.executable, "-m", "uvicorn", "regionvisa.app:create_app", "--factory", "--host", "127.0.0.1",
           "--port", str(port), "--log-level", "warning"]  # fmt: skip
    proc = subprocess.Popen(cmd, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stderr.read().decode()[-3000:]
            try:
                if httpx.get(base + "/api/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)
        yield base, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def frame_csv(frame: pl.DataFrame) -> bytes:
    return frame.write_csv().encode()
