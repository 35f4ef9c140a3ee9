"""Reading and writing forecast files: JSON Lines, JSON and CSV.

Readers yield `(where, record)` pairs, `where` being `FILE:LINE`, so that every error can say
where the bad record is. Writers take export records (see `records.export_record`). CSV cannot
nest, so the document's fields become `document.<field>` columns and the resolution history is a
JSON text cell; reading a CSV undoes exactly that, so export -> import round-trips in every format.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from pathlib import Path
from typing import IO, Any, Callable, Iterable, Iterator

from .errors import ValidationError, field_name
from .files import open_regular
from .model import Document
from .records import EXPORT_KEYS

FORMATS = ("jsonl", "json", "csv")
EXTENSIONS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv"}  # file name -> format
CSV_COLUMNS = tuple(
    column
    for key in EXPORT_KEYS
    for column in ([f"document.{f}" for f in Document.FIELDS] if key == "document" else [key])
)

Progress = Callable[[int], None]  # called with the number of bytes just consumed


def format_of(path: str | Path, explicit: str | None = None) -> str:
    if explicit:
        return explicit
    fmt = EXTENSIONS.get(Path(path).suffix.lower())
    if fmt is None:
        raise ValidationError(None, f"cannot tell the format of {path}: name it .jsonl, .json or .csv")
    return fmt


# The longest record a reader holds: a line of JSON Lines or CSV, or one element of a JSON array.
# Far above any real record (every text field is at most 20,000 characters: this is hundreds of
# corrections), it keeps a file with no line breaks (/dev/zero, a string that never ends) from
# filling the memory; a hostile line of tiny values ("a,a,a..." or ["a","a",...]) decodes to a few
# hundred MB at most.
MAX_RECORD = 16 * 1024 * 1024
_CHUNK = 1 << 20  # characters a JSON array is read by


def read_records(path: str | Path, fmt: str | None = None, progress: Progress | None = None) -> Iterator[tuple[str, Any]]:
    """Yield (FILE:LINE, record) from a .jsonl, .json or .csv file.

    Every format is streamed: memory holds one record (and a chunk of the file), not the file,
    and the work is linear in its size.
    """
    path = Path(path)
    fmt = format_of(path, fmt)
    try:
        handle = open_regular(path)  # a FIFO or a device is refused, not waited on
    except OSError as exc:
        raise ValidationError(None, f"cannot read {path}: {exc.strerror}") from None
    with handle:
        reader = {"jsonl": _read_jsonl, "json": _read_json, "csv": _read_csv}[fmt]
        yield from reader(handle, str(path), progress or (lambda n: None))


def _too_long(where: str) -> ValidationError:
    return ValidationError(None, f"holds a record longer than {MAX_RECORD // 2**20} MB (or a string that never ends)", where)


def _lines(handle: IO[bytes], name: str, progress: Progress) -> Iterator[tuple[int, bytes]]:
    """(number, line) for each line of a file, none longer than MAX_RECORD."""
    number = 0
    while raw := handle.readline(MAX_RECORD + 1):
        number += 1
        progress(len(raw))
        if len(raw) > MAX_RECORD:
            raise _too_long(f"{name}:{number}")
        yield number, raw


def _read_jsonl(handle: IO[bytes], name: str, progress: Progress):
    for number, raw in _lines(handle, name, progress):
        try:
            text = raw.decode("utf-8-sig" if number == 1 else "utf-8").strip()
        except UnicodeDecodeError:
            raise ValidationError(None, "is not valid UTF-8 text", f"{name}:{number}") from None
        if not text:
            continue
        yield f"{name}:{number}", _decoded(text, 0, f"{name}:{number}")[0]


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not allowed")


# One decoder for every record (json.loads with a keyword argument builds a new one per call).
_DECODER = json.JSONDecoder(parse_constant=_refuse_constant)


def _decoded(text: str, position: int, where: str) -> tuple[Any, int]:
    """The JSON value at `position` of `text`, and where it ends. Refusals are one line naming `where`;
    JSON nested deeper than Python's recursion limit is one too (the decoder recurses)."""
    try:
        return _DECODER.raw_decode(text, position) if position else (_DECODER.decode(text), len(text))
    except RecursionError:
        raise ValidationError(None, "not valid JSON (nested too deeply)", where) from None
    except ValueError as exc:
        raise ValidationError(None, f"not valid JSON ({_json_reason(exc)})", where) from None


def _json_reason(exc: ValueError) -> str:
    return getattr(exc, "msg", None) or str(exc)


class _Text:
    """A file's text, decoded as it is read, a window of it in memory, with line numbers.

    `buffer[position:]` is what is not consumed yet. `line` is the line number of
    `buffer[counted]`: positions are asked for in order, so every newline is counted once.
    """

    def __init__(self, handle: IO[bytes], name: str, progress: Progress):
        self.handle, self.name, self.progress = handle, name, progress
        self.decoder = codecs.getincrementaldecoder("utf-8")()
        self.buffer, self.position, self.counted, self.line = "", 0, 0, 1
        self.eof, self.first = False, True

    def line_of(self, position: int) -> int:
        self.line += self.buffer.count("\n", self.counted, position)
        self.counted = position
        return self.line

    def where(self, position: int) -> str:
        return f"{self.name}:{self.line_of(position)}"

    def more(self) -> None:
        """Drop what is consumed, then read as much again as is left (at least a chunk): a record
        decoded again after each read is so decoded O(1) times over, on average."""
        if len(self.buffer) - self.position > MAX_RECORD:
            raise _too_long(self.where(self.position))
        self.line_of(self.position)
        self.buffer, self.counted, self.position = self.buffer[self.position:], 0, 0
        wanted, parts, got = max(_CHUNK, len(self.buffer)), [self.buffer], 0
        while got < wanted and not self.eof:
            data = self.handle.read(_CHUNK)
            self.progress(len(data))
            pending = self.decoder.getstate()[0]
            try:
                text = self.decoder.decode(data, final=not data)
            except UnicodeDecodeError as exc:
                before = sum(part.count("\n") for part in parts) + (pending + data)[: exc.start].count(b"\n")
                raise ValidationError(None, "is not valid UTF-8 text", f"{self.name}:{self.line + before}") from None
            if self.first and text:
                text, self.first = text.removeprefix("\ufeff"), False
            self.eof = not data
            parts.append(text)
            got += len(text)
        self.buffer = "".join(parts)

    def peek(self) -> str:
        """The next character that is not white space ("" at the end of the file)."""
        while True:
            self.position = _SPACE.match(self.buffer, self.position).end()
            if self.position < len(self.buffer) or self.eof:
                return self.buffer[self.position : self.position + 1]
            self.more()

    def value(self, where: str) -> Any:
        """Decode the JSON value that starts here, reading more while it may be cut off."""
        while True:
            try:
                value, end = _DECODER.raw_decode(self.buffer, self.position)
            except json.JSONDecodeError as exc:
                # Cut off by the end of the window, not wrong: read on and decode it again.
                if not self.eof and (exc.pos >= len(self.buffer) - 16 or exc.msg.startswith("Unterminated string")):
                    self.more()
                    continue
                raise ValidationError(None, f"not valid JSON ({exc.msg})", self.where(exc.pos)) from None
            except RecursionError:
                raise ValidationError(None, "not valid JSON (nested too deeply)", where) from None
            except ValueError as exc:  # NaN or Infinity
                raise ValidationError(None, f"not valid JSON ({_json_reason(exc)})", where) from None
            if end == len(self.buffer) and not self.eof:  # a number may go on in the next chunk
                self.more()
                continue
            self.position = end
            return value


_SPACE = re.compile(r"[ \t\r\n]*")


def _read_json(handle: IO[bytes], name: str, progress: Progress):
    """A JSON array of records, each located by the line its object starts on."""
    text = _Text(handle, name, progress)
    if text.peek() != "[":
        raise ValidationError(None, "a .json file must hold an array of forecast objects", text.where(text.position))
    text.position += 1
    if text.peek() == "]":
        text.position += 1
    else:
        while True:
            where = text.where(text.position)
            yield where, text.value(where)
            after = text.peek()
            text.position += 1
            if after == "]":
                break
            if after != ",":
                raise ValidationError(None, "expected ',' or ']' between records", text.where(text.position - 1))
            text.peek()
    if text.peek():
        raise ValidationError(None, "unexpected text after the array", text.where(text.position))


def _csv_lines(handle: IO[bytes], name: str, progress: Progress) -> Iterator[str]:
    """The file's lines, decoded one by one (a bad byte names its line), split where csv splits a
    file opened with newline='': at "\n", "\r\n" and a lone "\r"."""
    number = 0  # physical lines so far, as csv's line_num counts them
    for _, raw in _lines(handle, name, progress):
        try:
            text = raw.decode("utf-8-sig" if number == 0 else "utf-8")
        except UnicodeDecodeError as exc:
            number += len(_LONE_CR_BYTES.findall(raw, 0, exc.start)) + 1
            raise ValidationError(None, "is not valid UTF-8 text", f"{name}:{number}") from None
        body = text[:-2] if text.endswith("\r\n") else text[:-1] if text.endswith(("\n", "\r")) else text
        if "\r" in body:  # a lone CR ends a line too
            pieces = _AFTER_LONE_CR.split(text)
            number += len(pieces)
            yield from pieces
        else:
            number += 1
            yield text


_LONE_CR_BYTES = re.compile(rb"\r(?!\n)")
_AFTER_LONE_CR = re.compile(r"(?<=\r)(?!\n)(?!$)")


def _read_csv(handle: IO[bytes], name: str, progress: Progress):
    reader = csv.reader(_csv_lines(handle, name, progress))
    start = 1
    try:
        header = next(reader, None)
        if header is None:
            return
        unknown = [c for c in header if c not in CSV_COLUMNS]
        if unknown:
            raise ValidationError(field_name(unknown[0]), "is not a known column", f"{name}:1")
        repeated = [c for c in header if header.count(c) > 1]
        if repeated:
            raise ValidationError(repeated[0], "is a column given twice", f"{name}:1")
        start = reader.line_num + 1  # the header may itself span lines
        for row in reader:
            where = f"{name}:{start}"
            start = reader.line_num + 1
            if not row:  # a blank line
                continue
            if len(row) > len(header):
                raise ValidationError(None, "has more cells than the header has columns", where)
            try:
                yield where, _record_from_csv_row(dict(zip(header, row)))
            except ValidationError as exc:
                raise exc.located(where) from None
    except csv.Error as exc:  # cited at the line its record starts on, not where csv stopped
        raise ValidationError(None, f"not valid CSV ({exc})", f"{name}:{start}") from None


def _record_from_csv_row(row: dict[str, str]) -> dict[str, Any]:
    record: dict[str, Any] = {}
    document: dict[str, Any] = {}
    for column, cell in row.items():
        value = None if cell == "" else cell
        if column.startswith("document."):
            if value is not None:
                document[column.removeprefix("document.")] = value
        elif column == "tags":
            record["tags"] = [t for t in (value or "").split(",") if t]
        elif column == "resolutions":
            if value is not None:
                try:
                    record["resolutions"] = _DECODER.decode(value)
                except RecursionError:
                    raise ValidationError("resolutions", "is not valid JSON (nested too deeply)") from None
                except ValueError as exc:
                    raise ValidationError("resolutions", f"is not valid JSON ({_json_reason(exc)})") from None
        else:
            record[column] = value
    record["document"] = document or None
    return record


def write_records(records: Iterable[dict[str, Any]], out: IO[str], fmt: str) -> int:
    """Write export records to a text stream; returns how many were written."""
    count = 0
    if fmt == "jsonl":
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    elif fmt == "json":
        out.write("[")
        for record in records:
            out.write(("," if count else "") + "\n" + json.dumps(record, ensure_ascii=False, indent=2))
            count += 1
        out.write("\n]\n" if count else "]\n")
    elif fmt == "csv":
        # Rows end in "\n", but cells are quoted as for "\r\n": csv quotes a cell only for the
        # characters of its line terminator, and an unquoted "\r" in a cell would split the row.
        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer, lineterminator="\r\n")

        def write_row(cells) -> None:
            writer.writerow(cells)
            out.write(buffer.getvalue()[:-2] + "\n")
            buffer.seek(0)
            buffer.truncate()

        write_row(CSV_COLUMNS)
        for record in records:
            write_row(_csv_cells(record))
            count += 1
    else:
        raise ValidationError("format", f"{fmt!r} is not one of {', '.join(FORMATS)}")
    return count


def _csv_cells(record: dict[str, Any]) -> list[str]:
    document = record.get("document") or {}
    cells = []
    for column in CSV_COLUMNS:
        if column.startswith("document."):
            value = document.get(column.removeprefix("document."))
        else:
            value = record.get(column)
        if column == "tags":
            value = ",".join(value or [])
        elif column == "resolutions":
            value = json.dumps(value, ensure_ascii=False) if value else ""
        cells.append(_cell(value))
    return cells


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)
