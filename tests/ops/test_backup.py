"""Backup and restore round-trip a demo database: every table's rows and checksum, and the audit chain."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from tests.actors import BUSAN, SYSTEM

from regionvisa.ops import backup as ops


@pytest.fixture
def demo_database(engine):
    from regionvisa.accounts.demo import create_demo_accounts
    from regionvisa.synth.service import write_dataset

    write_dataset(engine=engine, residents=1_500, seed=7, progress=False, replace=True)
    create_demo_accounts(engine=engine)
    return engine


def test_backup_and_restore_round_trip(demo_database, tmp_path):
    from regionvisa.audit.service import verify

    engine = demo_database
    before = ops.table_checksums(engine=engine)
    assert before["person"].rows > 1_000 and before["audit_entry"].rows > 0
    file = ops.backup(engine=engine, target=tmp_path / "regionvisa.backup").path
    assert file.stat().st_size > 0 and not (tmp_path / "regionvisa.backup.partial").exists()
    assert file.stat().st_mode & 0o077 == 0  # the whole database: readable by its owner only

    with engine.begin() as conn:  # damage after the backup: restore must bring it all back
        conn.execute(text("DELETE FROM address_report"))
        conn.execute(text("DELETE FROM employment"))
    assert ops.table_checksums(engine=engine)["address_report"].rows == 0

    ops.restore(engine=engine, source=file)
    after = ops.table_checksums(engine=engine)
    assert after == before
    assert verify(engine=engine).ok


def test_restore_refuses_a_file_that_is_not_a_backup(engine, tmp_path):
    bogus = tmp_path / "bogus.backup"
    bogus.write_bytes(b"not a database at all" * 100)
    before = ops.table_checksums(engine=engine)
    with pytest.raises(ops.BackupError):
        ops.restore(engine=engine, source=bogus)
    assert ops.table_checksums(engine=engine) == before


def test_cli_backup_and_restore(cli, demo_database, tmp_path):
    file = tmp_path / "cli.backup"
    done = cli("backup", str(file))
    assert done.exit_code == 0, done.output
    refused = cli("restore", str(file))
    assert refused.exit_code == 2
    done = cli("restore", str(file), "--yes")
    assert done.exit_code == 0, done.output
    assert "intact" in done.output


# --------------------------------------------------------------------------- documents


PDF = b"%PDF-1.4\n" + b"scan of passport page " * 9000 + b"\n%%EOF\n"  # ~200 KB: several segments


@pytest.fixture
def uploads(tmp_path, monkeypatch):
    from regionvisa.config import get_settings

    monkeypatch.setenv("REGIONVISA_UPLOAD_DIR", str(tmp_path / "uploads"))
    get_settings.cache_clear()
    yield tmp_path / "uploads"
    get_settings.cache_clear()


def _application_with_documents(engine, test_data) -> list[int]:
    from regionvisa.applications import documents, intake
    from regionvisa.db import session_scope

    test_data.publish_busan(engine)
    profile = {
        "nationality": "VNM", "birth_date": "2001-03-04", "passport_valid_until": "2030-01-01", "entry_ban": False,
        "criminal_record": False, "prior_illegal_stay": False, "course_type": "degree",
        "bank_balance_krw": 9_000_000, "university_region": "26", "topik_level": 4, "kiip_level": 1,
        "education_level": "high_school",
    }  # fmt: skip
    with session_scope(engine=engine) as session:
        app = intake.submit(
            session=session, program_id="busan-d2", applicant=profile, name="Backup Person", passport_no="BK1234567",
            actor=SYSTEM,
        )  # fmt: skip
        ids = []
        for doc_type, content in (("passport", PDF), ("photo", b"\x89PNG\r\n\x1a\n" + b"photo" * 100)):
            ctype = "application/pdf" if content.startswith(b"%PDF") else "image/png"
            doc = documents.upload_document(
                session=session, app=app.id, doc_type=doc_type, filename=f"{doc_type}.bin", content=content,
                content_type=ctype, actor=BUSAN,
            )  # fmt: skip
            ids.append(doc.id)
    return ids


def _contents(engine) -> dict[int, bytes]:
    from sqlalchemy import select

    from regionvisa.applications import documents
    from regionvisa.applications.models import ApplicationDocument
    from regionvisa.db import session_scope

    with session_scope(engine=engine) as session:
        rows = session.scalars(select(ApplicationDocument).order_by(ApplicationDocument.id)).all()
        return {d.id: documents.read_clear(d.stored_path, size=d.size, sha256=d.sha256) for d in rows}


def test_backup_carries_the_documents_and_restore_brings_them_back(engine, uploads, test_data, tmp_path):
    import shutil
    import tarfile

    _application_with_documents(engine, test_data)
    before_docs = _contents(engine)
    assert before_docs and PDF in before_docs.values()
    before = ops.table_checksums(engine=engine)

    summary = ops.backup(engine=engine, target=tmp_path / "with-documents.backup")
    assert summary.documents == 2 and summary.document_bytes > len(PDF)
    with tarfile.open(summary.path) as tar:
        names = tar.getnames()
        stored = b"".join(tar.extractfile(m).read() for m in tar.getmembers() if m.name.startswith("documents/"))
    assert names[0] == "MANIFEST.json" and any(n.startswith("database.") for n in names)
    assert sum(n.startswith("documents/applications/") for n in names) == 2
    assert b"scan of passport page" not in stored and b"%PDF" not in stored  # as stored: encrypted

    shutil.rmtree(uploads / "applications")  # lost disk, and damage in the database
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM application_event"))
    restored = ops.restore(engine=engine, source=summary.path)
    assert restored.documents == 2
    assert ops.table_checksums(engine=engine) == before
    assert _contents(engine) == before_docs


def test_restore_refuses_a_damaged_document_and_changes_nothing(engine, uploads, test_data, tmp_path):
    import io
    import json
    import tarfile

    _application_with_documents(engine, test_data)
    summary = ops.backup(engine=engine, target=tmp_path / "good.backup")
    damaged = tmp_path / "damaged.backup"
    with tarfile.open(summary.path) as src, tarfile.open(damaged, "w", format=tarfile.PAX_FORMAT) as out:
        for member in src.getmembers():
            data = src.extractfile(member).read()
            if member.name.startswith("documents/") and member.name.endswith(".enc"):
                data = data[:-1] + bytes([data[-1] ^ 1])  # one bit flipped
            out.addfile(member, io.BytesIO(data))
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM application_event"))
    after_damage = ops.table_checksums(engine=engine)
    before_docs = _contents(engine)
    with pytest.raises(ops.BackupError, match="damaged"):
        ops.restore(engine=engine, source=damaged)
    assert ops.table_checksums(engine=engine) == after_damage and _contents(engine) == before_docs

    escaping = tmp_path / "escaping.backup"  # a path that leaves the documents folder is refused
    with tarfile.open(summary.path) as src, tarfile.open(escaping, "w", format=tarfile.PAX_FORMAT) as out:
        manifest = json.loads(src.extractfile("MANIFEST.json").read())
        manifest["documents"][0]["path"] = "documents/applications/../../outside.txt"
        for member in src.getmembers():
            data = json.dumps(manifest).encode() if member.name == "MANIFEST.json" else src.extractfile(member).read()
            member.size = len(data)
            out.addfile(member, io.BytesIO(data))
    with pytest.raises(ops.BackupError, match="unexpected path"):
        ops.restore(engine=engine, source=escaping)
    assert not (tmp_path / "outside.txt").exists()


def test_a_backup_without_documents_from_the_older_format_still_restores(engine, uploads, test_data, tmp_path):
    """Backups written before documents were included were the bare database file (or pg_dump archive)."""
    from regionvisa.ops.backup import _dump_database

    _application_with_documents(engine, test_data)
    before, before_docs = ops.table_checksums(engine=engine), _contents(engine)
    folder = tmp_path / "older"
    folder.mkdir()
    bare = folder / _dump_database(engine, folder)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM application_event"))
    assert ops.restore(engine=engine, source=bare).documents == 0
    assert ops.table_checksums(engine=engine) == before and _contents(engine) == before_docs
