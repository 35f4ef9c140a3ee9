"""Reading and writing forecast files: JSON Lines, JSON and CSV.

Readers yield `(where, record)` pairs, `where` being `FILE:LINE`, so that every error can say
where the bad record is. Writers take export records (see `records.export_record`). CSV cannot
nest, so the document's fields become `document.<field>` columns and the resolution history is a
JSON text cell; reading a CSV undoes exactly that, so export -> import round-trips in every format.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import IO, Any, Callable, Iterable, Iterator

from .errors import ValidationError
from .model import Document, Forecast

FORMATS = ("jsonl", "json", "csv")
EXPORT_KEYS = (*Forecast.FIELDS, "status", "outcome", "resolved_on", "evidence", "resolutions")
CSV_COLUMNS = tuple(
    column
    for key in EXPORT_KEYS
    for column in ([f"document.{f}" for f in Document.FIELDS] if key == "document" else [key])
)

Progress = Callable[[int], None]  # called with the number of bytes just consumed


def format_of(path: str | Path, explicit: str | None = None) -> str:
    if explicit:
        return explicit
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix == "ndjson":
        return "jsonl"
    if suffix not in FORMATS:
        raise ValidationError(None, f"cannot tell the format of {path}: name it .jsonl, .json or .csv")
    return suffix


def read_records(path: str | Path, fmt: str | None = None, progress: Progress | None = None) -> Iterator[tuple[str, Any]]:
    """Yield (FILE:LINE, record) from a .jsonl, .json or .csv file."""
    path = Path(path)
    fmt = format_of(path, fmt)
    try:
        handle = open(path, "rb")
    except OSError as exc:
        raise ValidationError(None, f"cannot read {path}: {exc.strerror}") from None
    with handle:
        if fmt == "jsonl":
            yield from _read_jsonl(handle, str(path), progress)
        else:
            data = handle.read()
            if progress:
                progress(len(data))
            text = _decode(data, str(path))
            yield from (_read_json(text, str(path)) if fmt == "json" else _read_csv(text, str(path)))


def _decode(data: bytes, where: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ValidationError(None, "is not valid UTF-8 text", f"{where}:{line}") from None


def _read_jsonl(handle: IO[bytes], name: str, progress: Progress | None):
    for number, raw in enumerate(handle, start=1):
        if progress:
            progress(len(raw))
        try:
            text = raw.decode("utf-8-sig" if number == 1 else "utf-8").strip()
        except UnicodeDecodeError:
            raise ValidationError(None, "is not valid UTF-8 text", f"{name}:{number}") from None
        if not text:
            continue
        try:
            record = _JSONL_DECODER.decode(text)
        except ValueError as exc:
            raise ValidationError(None, f"not valid JSON ({_json_reason(exc)})", f"{name}:{number}") from None
        yield f"{name}:{number}", record


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not allowed")


# One decoder for every line (json.loads with a keyword argument builds a new one per call).
_JSONL_DECODER = json.JSONDecoder(parse_constant=_refuse_constant)


def _json_reason(exc: ValueError) -> str:
    return getattr(exc, "msg", None) or str(exc)


def _read_json(text: str, name: str):
    """A JSON array of records, each located by the line its object starts on."""
    decoder = json.JSONDecoder(parse_constant=_refuse_constant)
    position = _skip_space(text, 0)
    if position >= len(text) or text[position] != "[":
        raise ValidationError(None, "a .json file must hold an array of forecast objects", f"{name}:1")
    position = _skip_space(text, position + 1)
    if position < len(text) and text[position] == "]":
        return
    while True:
        line = text.count("\n", 0, position) + 1
        try:
            record, position = decoder.raw_decode(text, position)
        except ValueError as exc:
            at = text.count("\n", 0, getattr(exc, "pos", position)) + 1
            raise ValidationError(None, f"not valid JSON ({_json_reason(exc)})", f"{name}:{at}") from None
        yield f"{name}:{line}", record
        position = _skip_space(text, position)
        if position < len(text) and text[position] == ",":
            position = _skip_space(text, position + 1)
            continue
        if position < len(text) and text[position] == "]":
            if _skip_space(text, position + 1) != len(text):
                raise ValidationError(None, "unexpected text after the array", f"{name}:{text.count(chr(10), 0, position) + 1}")
            return
        raise ValidationError(None, "expected ',' or ']' between records", f"{name}:{text.count(chr(10), 0, position) + 1}")


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\r\n":
        position += 1
    return position


def _read_csv(text: str, name: str):
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if reader.fieldnames is None:
        return
    unknown = [c for c in reader.fieldnames if c not in CSV_COLUMNS]
    if unknown:
        raise ValidationError(unknown[0], "is not a known column", f"{name}:1")
    repeated = [c for c in reader.fieldnames if reader.fieldnames.count(c) > 1]
    if repeated:
        raise ValidationError(repeated[0], "is a column given twice", f"{name}:1")
    start = reader.line_num + 1  # the header may itself span lines
    try:
        for row in reader:
            where = f"{name}:{start}"
            start = reader.line_num + 1
            if None in row:
                raise ValidationError(None, "has more cells than the header has columns", where)
            try:
                yield where, _record_from_csv_row(row)
            except ValidationError as exc:
                raise exc.located(where) from None
    except csv.Error as exc:
        raise ValidationError(None, f"not valid CSV ({exc})", f"{name}:{reader.line_num}") from None


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
                    record["resolutions"] = json.loads(value)
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
