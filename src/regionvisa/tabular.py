"""Reading tabular files (CSV, Parquet, XLSX, JSONL) in bounded memory: the one reader behind every
upload and import (record feeds, applicant files for screening, application intake).

A file is checked as a whole before any row is used: it is not empty, its header names every
column once, its cells are plain values (no lists or structs), CSV and JSONL are UTF-8 text with no
lone UTF-16 surrogates. Rows then come in batches, so a file of any size is read in about the memory
of one batch (XLSX, a zipped format read whole, is bounded by its declared unpacked size instead).
Every error is a `TableFileError` that names the file as its sender called it: never a server path.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from regionvisa.core.errors import DomainError
from regionvisa.limits import human_size, upload_limits

BATCH_ROWS = 200_000  # rows per batch: a few tens of MB for the widest files handled here
JSONL_BATCH_BYTES = 32 * 1024 * 1024
HEADER_BYTES = 1024 * 1024  # a CSV header must end within the first MB

FORMATS: dict[str, str] = {
    ".csv": "csv",
    ".parquet": "parquet",
    ".xlsx": "xlsx",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}
FORMAT_LABELS = {"csv": ".csv", "parquet": ".parquet", "xlsx": ".xlsx", "jsonl": ".jsonl"}


class TableFileError(ValueError):
    """A file that cannot be used as a table, with a reason in Korean and English.

    `code` is the API error code; `line` is the file line when the problem has one.
    """

    def __init__(self, name: str, code: str, ko: str, en: str, *, line: int | None = None) -> None:
        where_en = f"{name}, line {line}" if line else name
        where_ko = f"{name} {line}행" if line else name
        super().__init__(f"{where_en}: {en}")
        self.name, self.code, self.line = name, code, line
        self.ko = f"{where_ko}: {ko}"
        self.en = f"{where_en}: {en}"

    def app_error(self, status: int = 422):
        return DomainError(status=status, code=self.code, ko=self.ko, en=self.en, field="file")


def read_small_csv(path: Path, *, error: Callable[[list[str]], Exception], expected: str) -> list[list[str]]:
    """The rows of a small hand-made CSV (quota requests, regional minimums, indicator values), header
    first: unreadable, non-UTF-8 or empty files raise `error([message])` naming the file, and `expected`
    says what its first line should hold."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.reader(fh))
    except OSError as exc:
        raise error([f"{path}: cannot be read ({exc.strerror})"]) from exc
    except UnicodeDecodeError as exc:
        raise error([f"{path}: not UTF-8 text ({exc.reason})"]) from exc
    if not rows:
        raise error([f"{path}:1: empty file; expected {expected}"])
    return rows


def display_name(name: str | None, default: str = "upload") -> str:
    """The file name as shown back to its sender: the last path part, printable, at most 100 characters."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip()
    return base[:100] or default


_PATHS = re.compile(r"(?:[A-Za-z]:)?(?:[\\/][^\s\\/:'\"`]+){2,}")


def _reason(exc: BaseException, path: Path, name: str) -> str:
    """The reader's own explanation, first line only, with every file-system path taken out."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    for secret in (str(path), str(path.parent), tempfile.gettempdir()):
        text = text.replace(secret, name if secret == str(path) else "")
    return _PATHS.sub("…", text)[:300]


def _unsupported(name: str, suffix: str, formats: Iterable[str]) -> TableFileError:
    accepted = ", ".join(FORMAT_LABELS[f] for f in formats)
    return TableFileError(
        name,
        "unsupported_file",
        f"지원하지 않는 파일 형식입니다 ({suffix or '확장자 없음'}); 허용: {accepted}",
        f"unsupported file type {suffix or '(no extension)'!r}; accepted: {accepted}",
    )


def _empty(name: str) -> TableFileError:
    return TableFileError(
        name, "empty_file", "빈 파일입니다 (머리글 행이 없습니다)", "the file is empty (there is no header row)"
    )


def _unreadable(name: str, what: str, reason: str, *, ko_what: str) -> TableFileError:
    return TableFileError(
        name, "unreadable_file", f"{ko_what} 파일로 읽을 수 없습니다: {reason}", f"cannot be read as {what}: {reason}"
    )


def _check_header(name: str, columns: list[str]) -> None:
    if not columns or all(c.strip() == "" for c in columns):
        raise _empty(name)
    blank = [i for i, c in enumerate(columns, start=1) if c.strip() == ""]
    if blank:
        raise TableFileError(
            name,
            "blank_column",
            f"머리글에 이름 없는 열이 있습니다 (열 {', '.join(map(str, blank))})",
            f"the header has unnamed columns (column {', '.join(map(str, blank))}); every column needs a name",
            line=1,
        )
    seen: set[str] = set()
    repeated = [c for c in columns if c in seen or seen.add(c)]
    if repeated:
        names = ", ".join(dict.fromkeys(repeated))
        raise TableFileError(
            name,
            "duplicate_columns",
            f"머리글에 같은 열 이름이 두 번 이상 있습니다: {names}",
            f"the header names a column more than once: {names}; each column must appear once",
            line=1,
        )


# A \uD800–\uDFFF escape that is not half of a surrogate pair, or the same code point encoded
# directly (bytes ED A0–BF xx, which Python's JSON reader accepts): neither is a character.
_LONE_SURROGATE = re.compile(
    rb"(?<!\\)(?:\\\\)*\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    rb"|(?<![\\][uU][dD][89abAB][0-9a-fA-F]{2})(?<!\\)(?:\\\\)*\\u[dD][c-fC-F][0-9a-fA-F]{2}"
    rb"|\xed[\xa0-\xbf][\x80-\xbf]"
)


def find_lone_surrogate(data: bytes) -> int | None:
    """Offset of the first lone UTF-16 surrogate in JSON text, or None."""
    match = _LONE_SURROGATE.search(data)
    return None if match is None else match.start()


def surrogate_error(name: str, line: int | None = None) -> TableFileError:
    return TableFileError(
        name,
        "invalid_text",
        "짝이 없는 UTF-16 대리 코드(\\ud800–\\udfff)가 있습니다; 문자가 아니므로 받을 수 없습니다",
        "holds a lone UTF-16 surrogate (\\ud800–\\udfff), which is not a character",
        line=line,
    )


@dataclass
class TableFile:
    """A checked table file: its columns, and its rows batch by batch."""

    path: Path
    name: str
    format: str
    columns: list[str]
    first_line: int  # the file line of the first row: 2 below a header, 1 for JSONL
    as_text: bool = True

    def batches(self, rows: int | None = None) -> Iterator[pl.DataFrame]:
        """The rows in file order, `rows` at a time (the last batch may be shorter)."""
        rows = rows or BATCH_ROWS
        try:
            if self.format == "csv":
                yield from self._csv(rows)
            elif self.format == "parquet":
                yield from self._parquet(rows)
            elif self.format == "xlsx":
                frame = self._xlsx()
                for start in range(0, frame.height, rows):
                    yield frame.slice(start, rows)
            else:
                yield from self._jsonl()
        except TableFileError:
            raise
        except (pl.exceptions.PolarsError, OSError, ValueError, UnicodeError) as exc:
            raise self._error(exc) from exc

    @property
    def rows_hint(self) -> int | None:
        """The number of rows when the format records it (Parquet), for progress bars."""
        if self.format != "parquet":
            return None
        import pyarrow.parquet as pq

        return pq.ParquetFile(self.path).metadata.num_rows

    def read(self) -> pl.DataFrame:
        """The whole table (for callers whose input is bounded by an upload limit)."""
        parts = list(self.batches())
        if not parts:
            return self.empty()
        return pl.concat(parts, how="diagonal_relaxed") if len(parts) > 1 else parts[0]

    def empty(self) -> pl.DataFrame:
        return pl.DataFrame(schema={c: pl.String for c in self.columns})

    def _error(self, exc: BaseException) -> TableFileError:
        reason = _reason(exc, self.path, self.name)
        if self.format in ("csv", "jsonl") and ("utf-8" in reason.lower() or isinstance(exc, UnicodeError)):
            return _not_utf8(self.name)
        label, ko = {"csv": ("CSV", "CSV"), "parquet": ("Parquet", "Parquet"), "xlsx": ("XLSX", "XLSX")}.get(
            self.format, ("JSON Lines", "JSON Lines")
        )
        return _unreadable(self.name, label, reason, ko_what=ko)

    def _text(self, frame: pl.DataFrame) -> pl.DataFrame:
        if not self.as_text:
            return frame
        return frame.with_columns(
            pl.col(c).dt.strftime("%Y-%m-%d")
            if frame.schema[c] == pl.Date
            else pl.col(c).dt.strftime("%Y-%m-%d %H:%M:%S").str.replace(r" 00:00:00$", "")
            if isinstance(frame.schema[c], pl.Datetime)
            else pl.col(c).cast(pl.String)
            for c in frame.columns
            if frame.schema[c] != pl.String
        )

    def _csv(self, rows: int) -> Iterator[pl.DataFrame]:
        scan = pl.scan_csv(self.path, infer_schema=False, raise_if_empty=False, truncate_ragged_lines=False)
        yield from scan.collect_batches(chunk_size=rows)

    def _parquet(self, rows: int) -> Iterator[pl.DataFrame]:
        for batch in pl.scan_parquet(self.path).collect_batches(chunk_size=rows):
            yield self._text(batch)

    def _xlsx(self) -> pl.DataFrame:
        frame = pl.read_excel(self.path, infer_schema_length=0, raise_if_empty=False)
        if frame.width == 0:
            return self.empty()
        extra = frame.columns[len(self.columns) :]  # cells right of the header's last name
        if extra and any(frame.select(pl.col(extra).is_not_null().any()).row(0)):
            raise TableFileError(
                self.name,
                "blank_column",
                "머리글 오른쪽의 이름 없는 열에 값이 있습니다",
                "values stand in a column right of the header, which has no name; every column needs a name",
                line=1,
            )
        frame = frame.select(frame.columns[: len(self.columns)])
        frame.columns = self.columns  # the checked header, not the reader's de-duplicated names
        return frame.with_columns(pl.all().cast(pl.String).str.replace(r"^(\d{4}-\d{2}-\d{2}) 00:00:00$", "${1}"))

    def _jsonl(self) -> Iterator[pl.DataFrame]:
        schema = {c: pl.String for c in self.columns}
        for chunk, _line in _jsonl_chunks(self.path):
            # Every value as text (numbers, true/false, nested JSON): validation decides what is wrong.
            yield pl.read_ndjson(io.BytesIO(chunk), schema=schema)


def _not_utf8(name: str) -> TableFileError:
    return TableFileError(
        name,
        "not_utf8",
        "UTF-8 텍스트가 아닙니다 (예: CP949/EUC-KR). UTF-8로 저장해 다시 보내십시오",
        "is not UTF-8 text (for example CP949/EUC-KR); save it as UTF-8 and send it again",
    )


def _jsonl_chunks(path: Path) -> Iterator[tuple[bytes, int]]:
    """(bytes of whole lines, line number of the first) in chunks of about JSONL_BATCH_BYTES."""
    line = 1
    rest = b""
    with path.open("rb") as fh:
        while True:
            block = fh.read(JSONL_BATCH_BYTES)
            data = rest + block
            if not block:
                if data.strip():
                    yield data, line
                return
            cut = data.rfind(b"\n")
            if cut < 0:
                rest = data
                continue
            chunk, rest = data[: cut + 1], data[cut + 1 :]
            if chunk.strip():
                yield chunk, line
            line += chunk.count(b"\n")


def _csv_header(path: Path, name: str) -> list[str]:
    with path.open("rb") as fh:
        head = fh.read(HEADER_BYTES)
    if head.startswith(codecs.BOM_UTF8):
        head = head[len(codecs.BOM_UTF8) :]
    try:
        text = codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError as exc:
        raise _not_utf8(name) from exc
    if not text.strip():
        raise _empty(name)
    try:
        reader = csv.reader(io.StringIO(text, newline=""))
        header = next(reader)
    except (csv.Error, StopIteration) as exc:
        raise _unreadable(name, "CSV", "the header row cannot be parsed", ko_what="CSV") from exc
    if len(head) == HEADER_BYTES and "\n" not in text:
        raise TableFileError(
            name, "unreadable_file", "머리글 행이 1 MB보다 깁니다", "the header row is longer than 1 MB", line=1
        )
    return header


def _parquet_header(path: Path, name: str) -> list[str]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        meta = pq.ParquetFile(path).metadata
        schema = meta.schema.to_arrow_schema()
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise _unreadable(name, "Parquet", _reason(exc, path, name), ko_what="Parquet") from exc
    columns = list(schema.names)
    _check_header(name, columns)
    nested = [f.name for f in schema if pa.types.is_nested(f.type)]
    if nested:
        names = ", ".join(nested)
        raise TableFileError(
            name,
            "nested_column",
            f"목록이나 구조체 값을 담은 열은 받을 수 없습니다: {names} (한 칸에 하나의 값만)",
            f"columns holding lists or structs are not accepted: {names}; each cell must hold one plain value",
        )

    cap = upload_limits().parquet_row_group  # a row group is unpacked at once
    for i in range(meta.num_row_groups):
        if meta.row_group(i).total_byte_size > cap:
            limit = human_size(cap)
            raise TableFileError(
                name,
                "too_large_unpacked",
                f"행 그룹 하나가 풀었을 때 {limit}보다 큽니다; 더 작은 행 그룹으로 저장하십시오",
                f"a row group is larger than {limit} unpacked; write the file with smaller row groups",
            )
    return columns


def _xlsx_header(path: Path, name: str) -> list[str]:
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(i.file_size for i in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise _unreadable(name, "XLSX", "not an XLSX workbook (a zip archive)", ko_what="XLSX") from exc

    cap = upload_limits().xlsx_unpacked  # a sheet is read whole
    if unpacked > cap:
        limit = human_size(cap)
        raise TableFileError(
            name,
            "too_large_unpacked",
            f"압축을 풀면 {limit}보다 큽니다; CSV나 Parquet으로 보내십시오",
            f"unpacks to more than {limit}; send it as CSV or Parquet instead",
        )
    try:
        head = pl.read_excel(
            path, has_header=False, read_options={"n_rows": 1}, infer_schema_length=0, raise_if_empty=False
        )
    except Exception as exc:  # the Excel reader's errors share no base class but Exception
        raise _unreadable(name, "XLSX", _reason(exc, path, name), ko_what="XLSX") from exc
    if head.height == 0:
        raise _empty(name)
    columns = ["" if v is None else str(v) for v in head.row(0)]
    while columns and columns[-1] == "":  # trailing empty header cells are formatting, not columns
        columns.pop()
    return columns


def _jsonl_header(path: Path, name: str) -> list[str]:
    """Every key of every object, in order of first appearance (one pass over the file)."""
    columns: dict[str, None] = {}
    found = False
    for chunk, line in _jsonl_chunks(path):
        found = True
        where = find_lone_surrogate(chunk)
        if where is not None:
            raise surrogate_error(name, line + chunk.count(b"\n", 0, where))
        try:
            chunk.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _not_utf8(name) from exc
        try:
            schema = pl.read_ndjson(io.BytesIO(chunk), infer_schema_length=None).collect_schema()
        except pl.exceptions.PolarsError as exc:
            raise _unreadable(name, "JSON Lines", _reason(exc, path, name), ko_what="JSON Lines") from exc
        columns.update(dict.fromkeys(schema.names()))
    if not found:
        raise _empty(name)
    if not columns:
        raise TableFileError(
            name, "empty_file", "값이 있는 JSON 객체가 없습니다", "holds no JSON object with any field"
        )
    return list(columns)


def open_table(
    path: str | Path,
    *,
    name: str | None = None,
    formats: Iterable[str] = ("csv", "parquet", "xlsx", "jsonl"),
    as_text: bool = True,
) -> TableFile:
    """Check a table file and return it, ready to be read in batches; `TableFileError` otherwise.

    `name` is what the sender called the file (default: the file's own name); `formats` are the
    accepted ones. With `as_text`, every column comes as text so validation, not the reader,
    decides what a bad value is (Parquet dates become YYYY-MM-DD); otherwise Parquet keeps its types.
    """
    path = Path(path)
    name = display_name(name or path.name)
    formats = tuple(formats)
    suffix = path.suffix.lower()
    kind = FORMATS.get(suffix)
    if kind is None or kind not in formats:
        raise _unsupported(name, suffix, formats)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise TableFileError(name, "unreadable_file", "파일을 열 수 없습니다", "the file cannot be opened") from exc
    if size == 0:
        raise _empty(name)
    if kind == "csv":
        columns, first = _csv_header(path, name), 2
    elif kind == "parquet":
        columns, first = _parquet_header(path, name), 2
    elif kind == "xlsx":
        columns, first = _xlsx_header(path, name), 2
    else:
        columns, first = _jsonl_header(path, name), 1
    _check_header(name, columns)
    return TableFile(path, name, kind, columns, first, as_text=as_text or kind != "parquet")
