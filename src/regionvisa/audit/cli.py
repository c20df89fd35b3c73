"""`regionvisa audit`: verify the MAC chain (against a signed checkpoint too), write checkpoints, keys.

`verify` exits 0 when the log is intact, 1 when it is not (naming the first missing or altered
entry), and 2 when it cannot be checked (an unreadable or untrusted checkpoint, a bad key).
"""

from __future__ import annotations

from pathlib import Path

import typer

from regionvisa.accounts.policy import system_actor
from regionvisa.core.text import NP_
from regionvisa.web import i18n

app = typer.Typer(help="The audit log / 감사 기록", no_args_is_help=True)
keys_app = typer.Typer(help="Audit keys / 감사 기록 키", no_args_is_help=True)
app.add_typer(keys_app, name="keys")

KIND_CONTEXT = "audit problem"
PROBLEM_KINDS = {
    "edited": NP_("audit problem", "edited or forged"),
    "deleted": NP_("audit problem", "deleted"),
    "reordered": NP_("audit problem", "reordered"),
    "rewritten": NP_("audit problem", "rewritten"),
    "unknown-key": NP_("audit problem", "key not configured"),
    "unanchored": NP_("audit problem", "written before the MAC chain"),
}


def _fail(message: str, message_ko: str, code: int) -> None:
    typer.echo(message, err=True)
    typer.echo(message_ko, err=True)
    raise typer.Exit(code)


def _trusted(public_keys: list[str]) -> list:
    from regionvisa.audit.keys import parse_public_key

    out = []
    for text in public_keys:
        path = Path(text)
        value = path.read_text(encoding="utf-8").strip() if path.is_file() else text
        out.append(parse_public_key(value)[1])
    return out


@app.command("verify")
def verify(
    checkpoint: Path | None = typer.Option(
        None, "--checkpoint", help="a checkpoint from `audit checkpoint`: the log must still reach its head"
    ),
    public_key: list[str] = typer.Option(
        [], "--public-key", help="trusted checkpoint key (`id:base64`, or a file holding it); repeatable"
    ),
) -> None:
    """Check that no entry was edited, deleted, reordered or forged (and, with --checkpoint, that none was cut off)."""
    from regionvisa.audit import checkpoint as checkpoints
    from regionvisa.audit import service
    from regionvisa.audit.keys import AuditKeyError
    from regionvisa.db import get_engine

    loaded = None
    try:
        if checkpoint is not None:
            loaded = checkpoints.load(checkpoint, trusted=_trusted(public_key))
        result = service.verify(engine=get_engine(), checkpoint=loaded)
    except (checkpoints.CheckpointError, AuditKeyError) as exc:
        _fail(f"cannot verify: {exc}", "검증할 수 없습니다: 체크포인트 또는 키를 확인하십시오", 2)
        return
    if result.ok:
        typer.echo(f"audit log intact: {result.entries} entries; head hash {result.head_hash}")
        if result.legacy_entries:
            typer.echo(f"{result.legacy_entries} entries from before the MAC chain, anchored by the entry after them")
        if loaded is not None:
            typer.echo(f"reaches the checkpoint of {loaded.created_at} (seq {loaded.seq})")
        typer.echo(f"감사 기록 정상: {result.entries}건")
        return
    assert result.problem is not None
    p = result.problem
    kind_ko = i18n.translate("ko", PROBLEM_KINDS[p.kind], context=KIND_CONTEXT) if p.kind in PROBLEM_KINDS else p.kind
    _fail(
        f"audit log BROKEN: {p.message}",
        f"감사 기록 손상: {kind_ko} (entry {p.entry_id}, seq {p.seq})",
        1,
    )


@app.command("checkpoint")
def checkpoint(
    out: Path = typer.Option(..., "--out", help="where to write the signed checkpoint (JSON); keep it elsewhere"),
) -> None:
    """Verify the log, then write a signed checkpoint of its head (seq, MAC, count, time, key id)."""
    from regionvisa.audit import checkpoint as checkpoints
    from regionvisa.audit.keys import AuditKeyError
    from regionvisa.db import get_engine

    try:
        made, _result = checkpoints.create(engine=get_engine())
    except checkpoints.CheckpointError as exc:
        _fail(str(exc), "감사 기록이 손상되어 체크포인트를 만들지 않았습니다", 1)
        return
    except AuditKeyError as exc:
        _fail(str(exc), "감사 키 설정이 잘못되었습니다", 2)
        return
    checkpoints.write(made, out)
    typer.echo(f"checkpoint of seq {made.seq} ({made.entries} entries) signed by {made.signing_key_id}: {out}")
    typer.echo(f"체크포인트를 저장했습니다: {made.seq}번째 기록까지")


@app.command("public-key")
def public_key() -> None:
    """Print the checkpoint signing key's public half (`id:base64`), for verifiers (`--public-key`)."""
    from regionvisa.audit.keys import audit_keys

    typer.echo(audit_keys().public_key_text())


@app.command("anchor")
def anchor(
    reason: str = typer.Option("entries from before the MAC chain anchored", "--reason"),
) -> None:
    """Append an entry that anchors the entries written before the MAC chain (after migration 0011)."""
    from regionvisa.audit import service
    from regionvisa.db import get_engine, session_scope

    engine = get_engine()
    result = service.verify(engine=engine)
    if result.ok:
        typer.echo("nothing to anchor: the log verifies / 고정할 기록이 없습니다")
        return
    assert result.problem is not None
    if result.problem.kind != "unanchored":
        _fail(f"audit log BROKEN: {result.problem.message}", "감사 기록이 손상되어 고정하지 않았습니다", 1)
    with session_scope(engine=engine) as session:
        done = service.record(
            session=session,
            actor=system_actor("audit"),
            action="audit.anchor",
            subject=("audit", "chain"),
            reason=reason,
            inputs={"legacy_entries": result.legacy_entries, "legacy_head": result.head.mac if result.head else None},
        )
    typer.echo(f"{result.legacy_entries} entries anchored by entry seq {done.seq} / {result.legacy_entries}건 고정")


@keys_app.callback()
def _keys() -> None:
    """Audit keys / 감사 기록 키."""


@keys_app.command("new")
def keys_new(
    key_id: str = typer.Option("a1", "--id", help="the id to give the key"),
    signing: bool = typer.Option(False, "--signing", help="a checkpoint signing key instead of a MAC key"),
) -> None:
    """Print a fresh random key: an entry for REGIONVISA_AUDIT_KEYS (list it first) or REGIONVISA_AUDIT_SIGNING_KEY."""
    from regionvisa.audit.keys import new_mac_key, new_signing_key

    typer.echo(f"{key_id}:{new_signing_key() if signing else new_mac_key()}")


@keys_app.command("status")
def keys_status() -> None:
    """How many entries each audit key id holds, and whether that key is configured."""
    from regionvisa.audit.keys import AuditKeyError, audit_keys
    from regionvisa.audit.service import key_counts
    from regionvisa.db import get_engine

    try:
        keys = audit_keys()
    except AuditKeyError as exc:
        _fail(str(exc), "감사 키 설정이 잘못되었습니다", 2)
        return
    typer.echo(f"current key: {keys.current}; configured: {', '.join(keys.mac_keys)}; signing: {keys.signing_key_id}")
    for key_id, count in key_counts(engine=get_engine()):
        if key_id is None:
            state = "SHA-256 only (before the MAC chain)"
        else:
            state = (
                "current" if key_id == keys.current else ("configured" if key_id in keys.mac_keys else "NOT CONFIGURED")
            )
        typer.echo(f"{key_id or '-':<12} {count:>12,}  {state}")
