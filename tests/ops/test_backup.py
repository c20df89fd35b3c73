"""Backup and restore round-trip a demo database: every table's rows and checksum, and the audit chain."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from regionvisa.ops import backup as ops


@pytest.fixture
def demo_database(engine):
    from regionvisa.accounts.demo import create_demo_accounts
    from regionvisa.synth.service import write_dataset

    write_dataset(engine, 1_500, seed=7, progress=False, replace=True)
    create_demo_accounts(engine)
    return engine


def test_backup_and_restore_round_trip(demo_database, tmp_path):
    from regionvisa.audit.service import verify

    engine = demo_database
    before = ops.table_checksums(engine)
    assert before["person"].rows > 1_000 and before["audit_entry"].rows > 0
    file = ops.backup(engine, tmp_path / "regionvisa.backup")
    assert file.stat().st_size > 0 and not (tmp_path / "regionvisa.backup.partial").exists()

    with engine.begin() as conn:  # damage after the backup: restore must bring it all back
        conn.execute(text("DELETE FROM address_report"))
        conn.execute(text("DELETE FROM employment"))
    assert ops.table_checksums(engine)["address_report"].rows == 0

    ops.restore(engine, file)
    after = ops.table_checksums(engine)
    assert after == before
    assert verify(engine).ok


def test_restore_refuses_a_file_that_is_not_a_backup(engine, tmp_path):
    bogus = tmp_path / "bogus.backup"
    bogus.write_bytes(b"not a database at all" * 100)
    before = ops.table_checksums(engine)
    with pytest.raises(ops.BackupError):
        ops.restore(engine, bogus)
    assert ops.table_checksums(engine) == before


def test_cli_backup_and_restore(cli, demo_database, tmp_path):
    file = tmp_path / "cli.backup"
    done = cli("backup", str(file))
    assert done.exit_code == 0, done.output
    refused = cli("restore", str(file))
    assert refused.exit_code == 2
    done = cli("restore", str(file), "--yes")
    assert done.exit_code == 0, done.output
    assert "intact" in done.output
