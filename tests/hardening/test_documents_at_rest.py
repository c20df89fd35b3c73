"""Passport scans encrypted at rest (issue 14, requirement 6).

Application documents were clear files under the upload directory. They are now AES-GCM segments
under the data keys (key id in the header), streamed both ways in bounded memory, decrypted on
download only for those who may read the application, and refused when altered."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import tracemalloc

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.actors import BUSAN, SYSTEM
from tests.samples import PROFILE

from regionvisa.applications import documents, intake
from regionvisa.applications.models import ApplicationDocument
from regionvisa.config import get_settings
from regionvisa.db import session_scope, utcnow
from regionvisa.records import pii

MARKER = b"PASSPORT NO M98765432 KIM MINJI 1999-04-01"
SCAN = b"%PDF-1.4\n" + (MARKER + b"\n") * 5000 + b"%%EOF\n"  # ~215 KB: four segments


@pytest.fixture
def uploads(tmp_path, monkeypatch):
    monkeypatch.setenv("REGIONVISA_UPLOAD_DIR", str(tmp_path / "uploads"))
    get_settings.cache_clear()
    yield tmp_path / "uploads"
    get_settings.cache_clear()


@pytest.fixture
def keys():
    """keys("k2:…,k1:…") switches the configured data keys (the suite's come back afterwards)."""
    patch = pytest.MonkeyPatch()

    def use(value: str) -> None:
        patch.setenv("REGIONVISA_DATA_KEYS", value)
        pii.reset_keyring()

    yield use
    patch.undo()
    pii.reset_keyring()


def _key(key_id: str) -> str:
    return f"{key_id}:{base64.b64encode(os.urandom(32)).decode()}"


def _application(engine, passport: str = "DC1234567") -> int:
    with session_scope(engine=engine) as session:
        return intake.submit(
            session=session,
            program_id="busan-d2",
            applicant=dict(PROFILE),
            name="Document Person",
            passport_no=passport,
            actor=SYSTEM,
        ).id


def _signed_in(app, username: str, login) -> TestClient:
    client = TestClient(app)
    token = login(client, username)
    client.headers["X-CSRF-Token"] = token
    return client


def _doc(engine) -> ApplicationDocument:
    with session_scope(engine=engine) as session:
        return session.scalars(select(ApplicationDocument).order_by(ApplicationDocument.id.desc())).first()


def test_an_uploaded_scan_is_encrypted_on_disk_and_decrypted_on_download(
    engine, uploads, test_data, app, role_users, login, make_user
):
    test_data.publish_busan(engine)
    app_id = _application(engine)
    busan = _signed_in(app, "t.busan", login)
    sent = busan.post(
        f"/api/v1/applications/{app_id}/documents",
        data={"doc_type": "passport"},
        files={"file": ("passport-scan.pdf", SCAN, "application/pdf")},
    )
    assert sent.status_code == 201, sent.text
    doc = _doc(engine)
    assert doc.size == len(SCAN) and sent.json()["sha256"] == doc.sha256

    on_disk = [p for p in uploads.rglob("*") if p.is_file()]
    assert len(on_disk) == 1 and on_disk[0] == documents.document_path(doc)
    raw = on_disk[0].read_bytes()
    assert raw.startswith(documents.MAGIC) and pii.keyring().current.encode() in raw[:64]  # the key id, in clear
    assert MARKER not in raw and b"%PDF" not in raw and b"M98765432" not in raw and b"KIM MINJI" not in raw
    assert "passport" not in on_disk[0].name and doc.sha256 not in on_disk[0].name  # the name tells nothing
    assert on_disk[0].stat().st_mode & 0o077 == 0

    officer = _signed_in(app, "t.officer", login)
    listed = officer.get(f"/api/v1/applications/{app_id}").json()["documents"]
    href = next(d["download"] for d in listed if d["doc_type"] == "passport")
    got = officer.get(href)
    assert got.status_code == 200 and got.content == SCAN
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["cache-control"] == "no-store"
    assert "attachment" in got.headers["content-disposition"]
    assert busan.get(href).content == SCAN  # the region that recommends it reads it too

    make_user("t.seoul", "regional_official", "11")
    seoul = _signed_in(app, "t.seoul", login)
    assert seoul.get(href).status_code in (403, 404) and MARKER not in seoul.get(href).content
    other = _application(engine, passport="DC7654321")
    wrong = officer.get(f"/api/v1/applications/{other}/documents/{doc.id}")  # not that application's document
    assert wrong.status_code == 404 and wrong.json()["error"]["code"] == "not_found"


def test_an_altered_or_truncated_file_is_refused_not_served(engine, uploads, test_data, app, role_users, login):
    test_data.publish_busan(engine)
    app_id = _application(engine)
    with session_scope(engine=engine) as session:
        documents.upload_document(
            session=session, app=app_id, doc_type="passport", filename="p.pdf", content=SCAN,
            content_type="application/pdf",
            actor=BUSAN,
        )  # fmt: skip
    doc = _doc(engine)
    path = documents.document_path(doc)
    good = path.read_bytes()
    officer = _signed_in(app, "t.officer", login)
    href = f"/api/v1/applications/{app_id}/documents/{doc.id}"
    assert officer.get(href).content == SCAN

    sealed = documents.SEGMENT_BYTES + documents.TAG_BYTES
    header = len(documents.read_header(io.BytesIO(good)).raw)
    whole = (len(good) - header) // sealed
    assert whole >= 2
    for damaged in (
        good[:200] + bytes([good[200] ^ 1]) + good[201:],  # one bit of a segment
        good[:-20],  # the last segment cut short
        good[: header + whole * sealed],  # the last segment gone: the file ends where a segment ends
        good[: len(good) // 2],
        good[:header] + good[header + sealed :],  # the first segment gone
    ):
        path.write_bytes(damaged)
        answer = officer.get(href)
        assert answer.status_code == 500 and answer.json()["error"]["code"] == "document_unreadable"
        assert MARKER not in answer.content and b"%PDF" not in answer.content
        with pytest.raises(documents.DocumentError):
            documents.verify(doc.stored_path, size=doc.size, sha256=doc.sha256)
    path.write_bytes(good)
    assert officer.get(href).content == SCAN


@pytest.mark.parametrize("size", [0, 1, 15, 16, 17, 48, 50, 1000])
def test_segments_round_trip_at_every_boundary(uploads, size):
    """16-byte segments: empty, one short, exactly one, one and a bit, exactly three, many."""
    content = os.urandom(size)
    stored = documents.store(application_id=1, source=io.BytesIO(content), segment=16)
    assert (stored.size, stored.sha256) == (size, hashlib.sha256(content).hexdigest())
    assert documents.read_clear(stored.stored_path, size=stored.size, sha256=stored.sha256) == content
    raw = documents.path_of(stored.stored_path).read_bytes()
    header = documents.read_header(io.BytesIO(raw))
    body = len(raw) - len(header.raw)
    segments = max(1, -(-size // 16))  # an empty file is one empty, final segment
    assert body == segments * documents.TAG_BYTES + size
    if size >= 32:  # two whole segments swapped: refused
        start = len(header.raw)
        seg = 16 + documents.TAG_BYTES
        swapped = raw[:start] + raw[start + seg : start + 2 * seg] + raw[start : start + seg] + raw[start + 2 * seg :]
        documents.path_of(stored.stored_path).write_bytes(swapped)
        with pytest.raises(documents.DocumentError):
            documents.verify(stored.stored_path, size=stored.size, sha256=stored.sha256)


def test_a_large_file_is_encrypted_and_decrypted_in_bounded_memory(uploads):
    """64 MB through store and open_clear: Python allocations stay within a few segments."""
    total = 64 * 1024 * 1024

    class Source(io.RawIOBase):
        def __init__(self) -> None:
            self.left = total

        def readable(self) -> bool:
            return True

        def readinto(self, buffer) -> int:
            n = min(len(buffer), self.left)
            buffer[:n] = b"\xab" * n
            self.left -= n
            return n

    tracemalloc.start()
    try:
        stored = documents.store(application_id=7, source=io.BufferedReader(Source(), 1 << 20))
        _size, peak_write = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        seen = 0
        for piece in documents.open_clear(stored.stored_path, size=stored.size, sha256=stored.sha256):
            seen += len(piece)
        _size, peak_read = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert stored.size == total == seen
    assert peak_write < 8 * 1024 * 1024 and peak_read < 8 * 1024 * 1024, (peak_write, peak_read)


def test_rotation_re_encrypts_documents_and_encrypts_older_clear_files(engine, uploads, test_data, keys, cli):
    test_data.publish_busan(engine)
    k1, k2 = _key("k1"), _key("k2")
    keys(k1)
    app_id = _application(engine)
    with session_scope(engine=engine) as session:
        documents.upload_document(
            session=session, app=app_id, doc_type="passport", filename="p.pdf", content=SCAN,
            content_type="application/pdf",
            actor=BUSAN,
        )  # fmt: skip
    legacy = uploads / "applications" / str(app_id) / "legacy.png"  # as stored before encryption
    photo = b"\x89PNG\r\n\x1a\n" + MARKER * 10
    legacy.write_bytes(photo)
    with session_scope(engine=engine) as session:
        session.add(
            ApplicationDocument(
                application_id=app_id, doc_type="photo", filename="photo.png", content_type="image/png",
                size=len(photo), sha256=hashlib.sha256(photo).hexdigest(),
                stored_path=f"applications/{app_id}/legacy.png", uploaded_by="t.busan", uploaded_at=utcnow(),
            )
        )  # fmt: skip
    rows = {d.doc_type: d for d in _all_docs(engine)}
    assert documents.read_clear(rows["photo"].stored_path, size=len(photo), sha256=rows["photo"].sha256) == photo
    assert [(k, n) for _t, k, n, _c in documents.key_status(engine=engine)] == [("clear", 1), ("k1", 1)]

    keys(f"{k2},{k1}")
    result = cli("keys", "rotate")
    assert result.exit_code == 0, result.output
    assert "application_document: 2 files re-encrypted with k2" in result.output
    assert [(k, n) for _t, k, n, _c in documents.key_status(engine=engine)] == [("k2", 2)]
    assert MARKER not in legacy.read_bytes()
    keys(k2)  # k1 retired: everything still reads
    contents = {
        d.doc_type: documents.read_clear(d.stored_path, size=d.size, sha256=d.sha256) for d in _all_docs(engine)
    }
    assert contents == {"passport": SCAN, "photo": photo}
    status = cli("keys", "status")
    assert status.exit_code == 0 and "application_document" in status.output

    keys(_key("k3"))  # a key that is not configured: named, and nothing changes
    failed = cli("keys", "rotate")
    assert failed.exit_code == 1 and "'k2'" in failed.output


def _all_docs(engine) -> list[ApplicationDocument]:
    with session_scope(engine=engine) as session:
        return list(session.scalars(select(ApplicationDocument).order_by(ApplicationDocument.id)))
