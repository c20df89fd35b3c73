"""Application documents: the checklist an application must meet, uploads, and the files encrypted at rest.

The checklist is the programme design's own (`documents`), else the base visa's national one;
an upload is checked for size, type and content before it is stored, and the database keeps
only its metadata (size, SHA-256 of the clear content, where the encrypted file is).

At rest, a document (passport scans and the rest of the checklist) is stored once, under the
upload directory, as a stream of AES-256-GCM segments (the STREAM construction of Hoang,
Reyhanitabar, Rogaway and Vizár, as Tink's streaming AEAD uses it), so a file of any size is
written and read in bounded memory:

    header   b"RVDOC1" | key id length (1 byte) | key id | salt (16) | nonce prefix (7) | segment size (4, BE)
    segment  AES-GCM(file key, nonce = prefix | counter (4, BE) | last (1), clear segment, aad = header)

- The file key is HKDF-SHA256 of the data key named in the header (REGIONVISA_DATA_KEYS), with
  the file's random salt: one key per file, so counters as nonces never repeat under a key.
- The header is authenticated with every segment; the last segment is marked as last, so a file
  cut short, reordered, or spliced from another fails to decrypt instead of reading as less.
- The database row keeps the size and SHA-256 of the clear content; reading checks both.
- Files are named at random (`<hex>.enc`), so a name tells nothing about the content; older
  clear files are still read (their SHA-256 checked) until `regionvisa keys rotate` encrypts them.
- `rotate` re-encrypts in place (written beside, then renamed over), so a file path never
  changes and a backup taken meanwhile holds either version, whole.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import secrets
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import select
from sqlalchemy.orm import Session

from regionvisa.applications.lifecycle import status_name
from regionvisa.applications.models import OPEN_STATUSES, Application, ApplicationDocument
from regionvisa.applications.rules import application_rules
from regionvisa.applications.service import get, version_for
from regionvisa.applications.subjects import APPLICATION, intake_action
from regionvisa.config import get_settings
from regionvisa.core.actor import Actor
from regionvisa.core.errors import Conflict, DomainError, Invalid, NotFound
from regionvisa.core.usecase import Done, use_case
from regionvisa.db import utcnow
from regionvisa.limits import human_size
from regionvisa.programs import service as programs
from regionvisa.records import pii

MAGIC = b"RVDOC1"
SEGMENT_BYTES = 64 * 1024
TAG_BYTES = 16
SALT_BYTES = 16
PREFIX_BYTES = 7
FOLDER = "applications"  # under the upload directory; what backups carry
INFO = b"regionvisa:document:v1:"
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
ALLOWED_TYPES = {"application/pdf": b"%PDF-", "image/jpeg": b"\xff\xd8\xff", "image/png": b"\x89PNG\r\n\x1a\n"}
EXTENSIONS = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}


class DocumentError(RuntimeError):
    """A stored document cannot be read as stored: missing, altered, or under a key not configured."""


@dataclass(frozen=True)
class Stored:
    stored_path: str  # relative to the upload directory, as application_document.stored_path
    size: int
    sha256: str


@dataclass(frozen=True)
class Header:
    key_id: str
    salt: bytes
    prefix: bytes
    segment: int
    raw: bytes


def upload_root() -> Path:
    return Path(get_settings().upload_dir)


def documents_root() -> Path:
    """The folder every application's documents live in (one sub-folder per application)."""
    return upload_root() / FOLDER


def path_of(stored_path: str) -> Path:
    return upload_root() / stored_path


def _file_key(key: bytes, key_id: str, salt: bytes) -> AESGCM:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=INFO + key_id.encode()).derive(key)
    return AESGCM(derived)


def _nonce(prefix: bytes, counter: int, last: bool) -> bytes:
    return prefix + struct.pack(">IB", counter, 1 if last else 0)


def _new_header(ring: pii.Keyring, segment: int) -> tuple[Header, AESGCM]:
    key_id = ring.current
    encoded = key_id.encode()
    salt, prefix = os.urandom(SALT_BYTES), os.urandom(PREFIX_BYTES)
    raw = MAGIC + bytes([len(encoded)]) + encoded + salt + prefix + struct.pack(">I", segment)
    return Header(key_id, salt, prefix, segment, raw), _file_key(ring.keys[key_id], key_id, salt)


def read_header(stream: BinaryIO) -> Header | None:
    """The header of an encrypted document; None for a file stored before encryption (clear)."""
    start = stream.read(len(MAGIC))
    if start != MAGIC:
        stream.seek(0)
        return None
    length = stream.read(1)
    if not length:
        raise DocumentError("a document's header is cut short")
    encoded = stream.read(length[0])
    rest = stream.read(SALT_BYTES + PREFIX_BYTES + 4)
    if len(encoded) != length[0] or len(rest) != SALT_BYTES + PREFIX_BYTES + 4:
        raise DocumentError("a document's header is cut short")
    salt, prefix = rest[:SALT_BYTES], rest[SALT_BYTES : SALT_BYTES + PREFIX_BYTES]
    (segment,) = struct.unpack(">I", rest[-4:])
    if not 0 < segment <= 16 * 1024 * 1024:
        raise DocumentError("a document's header names an impossible segment size")
    raw = MAGIC + length + encoded + rest
    return Header(encoded.decode("ascii", "replace"), salt, prefix, segment, raw)


def _chunks(source: bytes | BinaryIO, size: int) -> Iterator[bytes]:
    stream = io.BytesIO(source) if isinstance(source, bytes | bytearray | memoryview) else source
    while True:
        chunk = stream.read(size)
        if not chunk:
            return
        yield chunk


def _encrypt_to(target: BinaryIO, chunks: Iterator[bytes], ring: pii.Keyring, segment: int) -> tuple[int, str]:
    """Write header and segments; returns (clear size, clear SHA-256). One segment is held at a time."""
    header, aead = _new_header(ring, segment)
    target.write(header.raw)
    digest, size, counter = hashlib.sha256(), 0, 0
    pending = b""
    for chunk in chunks:
        pending += chunk
        while len(pending) > segment:  # a full segment with more to come: not the last
            piece, pending = pending[:segment], pending[segment:]
            target.write(aead.encrypt(_nonce(header.prefix, counter, False), piece, header.raw))
            digest.update(piece)
            size += len(piece)
            counter += 1
    target.write(aead.encrypt(_nonce(header.prefix, counter, True), pending, header.raw))
    digest.update(pending)
    return size + len(pending), digest.hexdigest()


def _write_beside(final: Path, write: Callable[[BinaryIO], tuple[int, str]]) -> tuple[int, str]:
    """Write to a private temporary file next to `final`, flush it to disk, then rename it into place."""
    final.parent.mkdir(parents=True, exist_ok=True)
    partial = final.with_name(f".{final.name}.{secrets.token_hex(4)}.part")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            result = write(out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, final)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return result


def store(*, application_id: int, source: bytes | BinaryIO, segment: int = SEGMENT_BYTES) -> Stored:
    """Encrypt `source` (bytes or a binary file, read in segments) into the application's folder."""
    ring = pii.keyring()
    relative = Path(FOLDER) / str(int(application_id)) / f"{secrets.token_hex(16)}.enc"
    size, digest = _write_beside(
        upload_root() / relative, lambda out: _encrypt_to(out, _chunks(source, segment), ring, segment)
    )
    return Stored(stored_path=relative.as_posix(), size=size, sha256=digest)


def _decrypt(stream: BinaryIO, header: Header, ring: pii.Keyring) -> Iterator[bytes]:
    if header.key_id not in ring.keys:
        raise DocumentError(f"a document is encrypted with key {header.key_id!r}, which is not in REGIONVISA_DATA_KEYS")
    aead = _file_key(ring.keys[header.key_id], header.key_id, header.salt)
    sealed = header.segment + TAG_BYTES
    counter = 0
    current = stream.read(sealed)
    while True:
        following = stream.read(sealed) if len(current) == sealed else b""
        last = not following
        try:
            yield aead.decrypt(_nonce(header.prefix, counter, last), current, header.raw)
        except InvalidTag:
            raise DocumentError(
                "a document does not decrypt: it was altered, cut short or mixed with another"
            ) from None
        if last:
            return
        current, counter = following, counter + 1


def open_clear(stored_path: str, *, size: int, sha256: str) -> Iterator[bytes]:
    """The clear content, segment by segment; DocumentError when the file is not what the row says
    (checked at the end: call `verify` first to refuse before sending anything)."""
    ring = pii.keyring()
    path = path_of(stored_path)
    try:
        stream = open(path, "rb")  # noqa: SIM115 - closed by the generator below
    except FileNotFoundError:
        raise DocumentError(f"a stored document is missing ({stored_path})") from None

    def clear() -> Iterator[bytes]:
        digest, total = hashlib.sha256(), 0
        with stream:
            header = read_header(stream)
            pieces = _chunks(stream, SEGMENT_BYTES) if header is None else _decrypt(stream, header, ring)
            for piece in pieces:
                digest.update(piece)
                total += len(piece)
                yield piece
        if total != size or digest.hexdigest() != sha256:
            raise DocumentError("a stored document differs from what was uploaded (size or SHA-256)")

    return clear()


def verify(stored_path: str, *, size: int, sha256: str) -> None:
    """Read the whole document once (bounded memory), so a download is refused before it starts."""
    for _piece in open_clear(stored_path, size=size, sha256=sha256):
        pass


def read_clear(stored_path: str, *, size: int, sha256: str) -> bytes:
    return b"".join(open_clear(stored_path, size=size, sha256=sha256))


def key_id_of(stored_path: str) -> str | None:
    """The key id a document is encrypted under; None for a clear file from before encryption."""
    try:
        with open(path_of(stored_path), "rb") as stream:
            header = read_header(stream)
    except FileNotFoundError:
        raise DocumentError(f"a stored document is missing ({stored_path})") from None
    return None if header is None else header.key_id


# --------------------------------------------------------------------------- keys


def _rows(engine) -> list[tuple[str, int, str]]:
    with engine.connect() as conn:
        query = select(ApplicationDocument.stored_path, ApplicationDocument.size, ApplicationDocument.sha256)
        return [tuple(r) for r in conn.execute(query.order_by(ApplicationDocument.id))]


def key_status(*, engine) -> list[tuple[str, str, int, bool]]:
    """("application_document", key id, files, configured) per key id, like `pii.key_status`;
    files stored before encryption count under the id `clear`, files missing under `missing`."""
    ring = pii.keyring()
    counts: dict[str, int] = {}
    for stored_path, _size, _sha in _rows(engine):
        try:
            kid = key_id_of(stored_path) or "clear"
        except DocumentError:
            kid = "missing"
        counts[kid] = counts.get(kid, 0) + 1
    return [("application_document", k, n, k in ring.keys) for k, n in sorted(counts.items())]


@use_case(action="keys.rotate", audit="records.keys.rotate", own_transaction=True)
def rotate(*, engine, actor: Actor, entry, progress=None) -> int:
    """Re-encrypt, in place, every document not under the current key (clear files included);
    each file is checked against its row first. Returns how many files were rewritten."""
    ring = pii.keyring()
    rows = [r for r in _rows(engine) if key_id_of(r[0]) != ring.current]
    before: dict[str, int] = {}
    for stored_path, size, sha256 in rows:
        verify(stored_path, size=size, sha256=sha256)
        kid = key_id_of(stored_path) or "clear"
        before[kid] = before.get(kid, 0) + 1
    if progress:
        progress("application_document", 0, len(rows))
    for done, (stored_path, size, sha256) in enumerate(rows, start=1):

        def write(out: BinaryIO, stored_path=stored_path, size=size, sha256=sha256) -> tuple[int, str]:
            written = _encrypt_to(out, open_clear(stored_path, size=size, sha256=sha256), ring, SEGMENT_BYTES)
            if written != (size, sha256):
                raise DocumentError(f"re-encrypting {stored_path} did not reproduce its content")
            return written

        _write_beside(path_of(stored_path), write)
        if progress:
            progress("application_document", done, len(rows))
    with engine.begin() as conn:
        entry(
            conn,
            Done(
                subject=("table", "application_document"),
                reason=f"application documents re-encrypted with key {ring.current}",
                inputs={"key_id": ring.current, "files": len(rows), "before": before},
                changed=bool(rows),
            ),
        )
    return len(rows)


# --------------------------------------------------------------------------- checklist and upload


def document_list(design: dict, base_visa: str, simplified: bool) -> list[str]:
    """The design's own checklist (`documents`), else the base visa's national one
    (policy/national/applications.yaml); the simplified procedure asks for the shorter list."""
    declared = design.get("documents") or application_rules().checklist(base_visa).model_dump()
    key = "simplified" if simplified and declared.get("simplified") else "standard"
    return list(declared[key])


def document_labels() -> dict[str, dict[str, str]]:
    """Document id → {en, ko} label, from the national rules."""
    return application_rules().labels()


def checklist(*, session: Session, app: Application) -> list[dict]:
    version = version_for(session=session, app=app) or programs.published_on(
        session=session, program_id=app.program_id, on=app.submitted_on
    )
    program = programs.get_program(session=session, program_id=app.program_id)
    required = document_list(version.design, program.base_visa, app.simplified)
    uploaded: dict[str, ApplicationDocument] = {}
    for doc in session.scalars(
        select(ApplicationDocument).where(ApplicationDocument.application_id == app.id).order_by(ApplicationDocument.id)
    ):
        uploaded[doc.doc_type] = doc
    return [{"id": d, "label": application_rules().label(d), "document": uploaded.get(d)} for d in required]


def missing_documents(*, session: Session, app: Application) -> list[str]:
    return [item["id"] for item in checklist(session=session, app=app) if item["document"] is None]


def missing_documents_of(*, session: Session, apps: list[Application]) -> dict[int, list[str]]:
    """`missing_documents` of each application of a page, in one query for the documents and one
    look-up per programme version (a queue page of 50 asked ~150 queries one by one)."""
    required: dict[tuple, list[str]] = {}
    versions: dict[tuple, object] = {}
    uploaded: dict[int, set[str]] = {}
    ids = [app.id for app in apps]
    if ids:
        rows = session.execute(
            select(ApplicationDocument.application_id, ApplicationDocument.doc_type).where(
                ApplicationDocument.application_id.in_(ids)
            )
        )
        for app_id, doc_type in rows:
            uploaded.setdefault(app_id, set()).add(doc_type)
    out = {}
    for app in apps:
        vkey = (app.program_id, app.program_version, None if app.program_version else app.submitted_on)
        if vkey not in versions:
            versions[vkey] = version_for(session=session, app=app) or programs.published_on(
                session=session, program_id=app.program_id, on=app.submitted_on
            )
        version = versions[vkey]
        key = (vkey, app.simplified)
        if key not in required:
            program = programs.get_program(session=session, program_id=app.program_id)
            required[key] = document_list(version.design, program.base_visa, app.simplified)
        have = uploaded.get(app.id, set())
        out[app.id] = [d for d in required[key] if d not in have]
    return out


@use_case(action=intake_action, subject=APPLICATION, audit="application.document")
def upload_document(
    *,
    session: Session,
    app: Application,
    doc_type: str,
    filename: str,
    content: bytes,
    content_type: str,
    actor: Actor,
) -> Done:
    """Store one file on disk after size, type and content checks; the database keeps its metadata.
    Who may add documents is who may lodge the application (`subjects.intake_action`)."""
    if app.status not in OPEN_STATUSES:
        raise Conflict(
            code="application_closed",
            ko=f"{status_name(app.status, 'ko')} 상태의 신청에는 서류를 올릴 수 없습니다",
            en=f"application {app.id} is {app.status}; documents can no longer be added",
        )
    required = [item["id"] for item in checklist(session=session, app=app)]
    if doc_type not in required:
        raise Invalid(
            code="unknown_document",
            ko=f"이 신청의 서류 목록에 없는 서류입니다: {doc_type} (필요 서류: {', '.join(required)})",
            en=f"{doc_type!r} is not on this application's checklist ({', '.join(required)})",
            field="doc_type",
        )
    size = len(content)
    if size == 0:
        raise Invalid(code="empty_file", ko="빈 파일입니다", en=f"{filename}: the file is empty", field="file")
    if size > MAX_UPLOAD_BYTES:
        raise DomainError(
            status=413,
            code="file_too_large",
            ko=f"{filename}: 파일이 너무 큽니다 (한도 {human_size(MAX_UPLOAD_BYTES)})",
            en=f"{filename}: the file is too large (the limit is {human_size(MAX_UPLOAD_BYTES)})",
            field="file",
        )
    content_type = (content_type or "").split(";")[0].strip().lower()
    magic = ALLOWED_TYPES.get(content_type)
    if magic is None:
        raise DomainError(
            status=415,
            code="file_type",
            ko=f"{filename}: 허용되지 않는 파일 형식입니다 ({content_type}); PDF, JPEG, PNG만 가능합니다",
            en=f"{filename}: type {content_type!r} is not accepted; send PDF, JPEG or PNG",
            field="file",
        )
    if not content.startswith(magic):
        raise DomainError(
            status=415,
            code="file_content",
            ko=f"{filename}: 파일 내용이 {content_type} 형식이 아닙니다",
            en=f"{filename}: the content is not a {content_type} file",
            field="file",
        )
    stored = store(application_id=app.id, source=content)  # encrypted at rest
    digest = stored.sha256
    doc = ApplicationDocument(
        application_id=app.id,
        doc_type=doc_type,
        filename=Path(filename or "upload").name[:255],
        content_type=content_type,
        size=stored.size,
        sha256=digest,
        stored_path=stored.stored_path,
        uploaded_by=actor.username,
        uploaded_at=utcnow(),
    )
    session.add(doc)
    session.flush()
    return Done(
        value=doc,
        reason=f"document uploaded: {doc_type}",
        inputs={"doc_type": doc_type, "size": size, "sha256": digest, "content_type": content_type},
    )


def document_path(doc: ApplicationDocument) -> Path:
    """Where the document's encrypted file is (its clear content: `documents.open_clear`)."""
    return path_of(doc.stored_path)


# --------------------------------------------------------------------------- download


def for_download(*, session, application_id: int, document_id: int, actor):
    """The document row, when the actor may read the application (region scope) and it belongs to it."""
    app = get(session=session, application_id=application_id, actor=actor)
    doc = session.get(ApplicationDocument, document_id)
    if doc is None or doc.application_id != app.id:
        raise NotFound(what="document")
    return doc


def download(doc) -> tuple[Iterator[bytes], dict[str, str]]:
    """The clear content of a stored document, streamed, with the headers of a never-cached
    attachment; refused (500 in the error shape, logged without content) when the file is not
    what was uploaded. The web layer wraps it in its streaming response."""
    try:
        verify(doc.stored_path, size=doc.size, sha256=doc.sha256)
    except DocumentError as exc:
        logging.getLogger("regionvisa.documents").error("document %s unreadable: %s", doc.id, exc)
        raise DomainError(
            status=500,
            code="document_unreadable",
            ko="저장된 서류를 읽을 수 없습니다 (변경되었거나 그 키가 설정되어 있지 않습니다). 관리자에게 알리십시오.",
            en="the stored document cannot be read (it was altered, or its key is not configured); "
            "tell an administrator",
        ) from None
    fallback = "".join(c if c.isascii() and (c.isalnum() or c in "._-") else "_" for c in doc.filename) or "document"
    headers = {
        "Content-Type": doc.content_type,
        "Content-Disposition": f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(doc.filename)}",
        "Content-Length": str(doc.size),
        "Cache-Control": "no-store",
    }
    return open_clear(doc.stored_path, size=doc.size, sha256=doc.sha256), headers
