"""Seed files: the forecasts of one article as TOML, turned into import records.

A seed file has one `[document]` table and a `[[forecasts]]` array (see docs/seeds.md). Beyond
the checks every import gets, seeds are held to their own conventions: a deadline worded in a
form `parse_deadline` understands must be the date it gives (unless marked assumed), a verbal
probability must be the hedge scale's value for its phrase, and editorial choices need a note.
TOML gives no line numbers for values, so errors point at the line of the forecast's `id`.

A forecast with `question_id` joins the question of another seed forecast (named by that
forecast's id, in any file): it takes that question's wording, criteria, deadline and tags, and
gives them again only if they are the same.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
import tomllib
from pathlib import Path
from typing import Any, Iterator

from .deadlines import DeadlineError, parse_deadline
from .errors import ValidationError
from .files import open_regular
from .hedges import UnknownPhraseError, probability_from_phrase
from .model import parse_date, parse_probability
from .records import QUESTION_KEYS
from .sqlite_file import checked_path

DOCUMENT_KEYS = {"file", "title", "outlet", "author", "url", "published_text", "published_on",
                 "published_on_estimated", "published_on_note", "recorded_at"}  # fmt: skip
FORECAST_KEYS = {"id", "question_id", "source", "source_kind", "claim", "quote", "question",
                 "resolution_criteria", "made_on", "deadline_text", "deadline", "deadline_assumed", "probability",
                 "probability_basis", "phrase", "tags", "note", "resolution"}  # fmt: skip
RESOLUTION_KEYS = {"outcome", "resolved_on", "evidence", "early_reason", "note"}
# `predictions extract` writes this at the start of question and resolution_criteria: a draft
# is refused until someone has read the candidate and written both (docs/extract.md).
DRAFT_MARKER = "DRAFT:"
DRAFT_FIELDS = ("question", "resolution_criteria")


def seed_files(paths: list[str | Path]) -> list[Path]:
    """The .toml files named, directories expanded in name order."""
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            files.extend(sorted(path.glob("*.toml")))
        elif path.exists():
            files.append(path)
        else:
            raise ValidationError(None, f"no such seed file or directory: {path}")
    if not files:
        raise ValidationError(None, f"no .toml seed files in {', '.join(map(str, paths))}")
    return files


def read_seeds(paths: list[str | Path]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, record) pairs of every forecast in the seed files (directories: their *.toml), for
    `Ledger.import_records`.

    All files are read before the first record is given, so a forecast may join a question first
    recorded in a later file: it is given right after that question's own forecast, else in file
    order."""
    records = [pair for path in seed_files(paths) for pair in read_seed_file(path)]
    own = {record["id"]: (where, record) for where, record in records if "question_id" not in record}
    joining: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    given: set[str] = set()
    for where, record in records:
        if "question_id" in record:
            target = _join(where, record, own, records)
            if target not in given:
                joining.setdefault(target, []).append((where, record))
                continue
        else:
            given.add(record["id"])
        yield where, record
        yield from joining.pop(record["id"], ())


def _join(where: str, record: dict[str, Any], own: dict[str, tuple[str, dict[str, Any]]],
          records: list[tuple[str, dict[str, Any]]]) -> str:  # fmt: skip
    """Fill a joining forecast's question fields from the question it names; returns that id."""
    target = record["question_id"]
    if target not in own:
        joiner = next((r for _, r in records if r["id"] == target), None)
        if target == record["id"]:
            message = "names this forecast itself: give the id of the question's first forecast"
        elif joiner is not None:
            message = f"{target!r} itself joins question {joiner['question_id']!r}: name that one"
        else:
            message = f"{target!r} is the id of no seed forecast (a question is named by its first forecast's id)"
        raise ValidationError("question_id", message, where)
    question_where, question = own[target]
    for key in QUESTION_KEYS:
        has = question.get(key, _QUESTION_DEFAULTS.get(key))
        if key in record and record[key] != has:
            raise ValidationError(
                key, f"is {record[key]!r} but question {target} ({question_where}) has {has!r}: "
                "a forecast joining a question takes its fields; leave them out", where,
            )  # fmt: skip
        if key in question:
            record[key] = question[key]
    return target


def rebuild_ledger(target: str | os.PathLike, paths: list[str | Path], *, today: dt.date | str | None = None):
    """Build a new ledger from the seed files and replace `target` with it, atomically.

    `target` must be a ledger or absent: any other file is refused untouched. The new file is
    built beside it and renamed over it, so readers see the old ledger or the new one, never half
    of one; do not rebuild a ledger others are writing (their writes would be lost). Returns the
    ImportSummary.
    """
    from .store import Ledger  # the store does not need seeds; seeds need the store only here

    target = checked_path(target, "ledger")
    if target.exists():
        Ledger(target, create=False).close()
    fd, scratch = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".building")
    os.close(fd)
    os.unlink(scratch)
    try:
        with Ledger(scratch) as ledger:
            summary = ledger.import_records(read_seeds(paths), today=today)
            ledger._leave_wal()
        for stale in (f"{target}-wal", f"{target}-shm"):  # would be replayed into the new file
            if os.path.exists(stale):
                os.unlink(stale)
        os.replace(scratch, target)
    finally:
        for leftover in (scratch, scratch + "-wal", scratch + "-shm"):
            if os.path.exists(leftover):
                os.unlink(leftover)
    return summary


_QUESTION_DEFAULTS = {"deadline_assumed": False, "tags": []}  # what a question without the key has
_ID_LINE = re.compile(r"""id\s*=\s*["']([^"']*)["']""")


def read_seed_file(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield (FILE:LINE, import record) for each forecast in one seed file."""
    try:
        with open_regular(path) as handle:  # a FIFO or a device is refused, not waited on
            text = handle.read().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(None, f"cannot read it ({exc})", str(path)) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = re.search(r"line (\d+)", str(exc))
        where = f"{path}:{line.group(1)}" if line else str(path)
        raise ValidationError(None, f"not valid TOML ({exc})", where) from None
    except RecursionError:  # tomllib recurses into nested arrays and tables: cite the first deep line
        line = next((i for i, row in enumerate(text.splitlines(), 1) if row.count("[") + row.count("{") > 100), 1)
        raise ValidationError(None, "not valid TOML (nested too deeply)", f"{path}:{line}") from None
    # Where the document and each id are, found in one pass (a search from the top for every
    # forecast was quadratic in the file's length).
    doc_line, id_lines = None, {}
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if doc_line is None and stripped.startswith("[document]"):
            doc_line = number
        if match := _ID_LINE.match(stripped):
            id_lines.setdefault(match[1], number)

    unknown = set(data) - {"document", "forecasts"}
    if unknown:
        raise ValidationError(sorted(unknown)[0], "is not a known table (expected [document] and [[forecasts]])", f"{path}:1")
    doc_where = f"{path}:{doc_line or 1}"
    try:
        document, recorded_at = _document(data.get("document"))
    except ValidationError as exc:
        raise exc.located(doc_where) from None
    forecasts = data.get("forecasts")
    if not isinstance(forecasts, list) or not forecasts:
        raise ValidationError("forecasts", "a seed file needs at least one [[forecasts]] entry", doc_where)
    for index, entry in enumerate(forecasts, start=1):
        forecast_id = entry.get("id") if isinstance(entry, dict) else None
        if forecast_id:
            where = f"{path}:{id_lines.get(str(forecast_id), 1)}"
        else:
            where = f"{path}: forecast #{index}"
        try:
            yield where, _forecast_record(entry, document, recorded_at)
        except ValidationError as exc:
            raise exc.located(where) from None


def _document(table: Any) -> tuple[dict[str, Any], str]:
    if not isinstance(table, dict):
        raise ValidationError("document", "a seed file needs a [document] table")
    unknown = set(table) - DOCUMENT_KEYS
    if unknown:
        raise ValidationError(f"document.{sorted(unknown)[0]}", "is not a known key")
    if not table.get("recorded_at"):
        raise ValidationError("document.recorded_at", "is required: when these forecasts were entered (UTC)")
    if table.get("published_on_estimated") and not table.get("published_on_note"):
        raise ValidationError("document.published_on_note", "is required when the publication date is estimated")
    document = {
        "file": table.get("file"), "title": table.get("title"), "outlet": table.get("outlet"),
        "author": table.get("author"), "url": table.get("url"),
        "published_text": table.get("published_text"),
        "published_on": _iso(table.get("published_on")),
        "published_on_estimated": table.get("published_on_estimated", False),
        "note": table.get("published_on_note"),
    }  # fmt: skip
    return document, _timestamp(table["recorded_at"])


def _iso(value: Any) -> Any:
    """TOML has native dates; the ledger's records carry ISO text."""
    if isinstance(value, dt.datetime):
        return value
    return value.isoformat() if isinstance(value, dt.date) else value


def _timestamp(value: Any) -> str:
    if isinstance(value, dt.datetime):
        value = value.astimezone(dt.timezone.utc) if value.tzinfo else value
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    return value


def _forecast_record(entry: Any, document: dict[str, Any], recorded_at: str) -> dict[str, Any]:
    if not isinstance(entry, dict):
        raise ValidationError(None, "each [[forecasts]] entry must be a table")
    unknown = set(entry) - FORECAST_KEYS
    if unknown:
        raise ValidationError(sorted(unknown)[0], "is not a known key")
    for field in DRAFT_FIELDS:
        value = entry.get(field)
        if isinstance(value, str) and value.lstrip().startswith(DRAFT_MARKER):
            name = f"{entry['id']}: " if isinstance(entry.get("id"), str) else ""
            raise ValidationError(None, f"{name}{field} is still a draft: write it before seeding")
    record = {k: _iso(v) for k, v in entry.items() if k != "resolution"}
    record.setdefault("made_on", document["published_on"])
    record["document"] = document
    record["recorded_at"] = recorded_at
    joins = "question_id" in record
    if joins and (not isinstance(record["question_id"], str) or not record["question_id"]):
        raise ValidationError("question_id", "must be the id of another seed forecast, as text")
    _check_conventions(record, deadline=not joins)  # a joined question's deadline was checked on its own forecast
    resolution = entry.get("resolution")
    if resolution is not None and joins:
        raise ValidationError("resolution", f"belongs to the question: give it on {record['question_id']}")
    if resolution is not None:
        if not isinstance(resolution, dict):
            raise ValidationError("resolution", "must be a table")
        unknown = set(resolution) - RESOLUTION_KEYS
        if unknown:
            raise ValidationError(f"resolution.{sorted(unknown)[0]}", "is not a known key")
        record["resolutions"] = [{**{k: _iso(v) for k, v in resolution.items()}, "recorded_at": recorded_at}]
    return record


def _check_conventions(record: dict[str, Any], *, deadline: bool = True) -> None:
    """The seed-specific rules from docs/seeds.md (`deadline`: those on the deadline too)."""
    made_on = parse_date(record.get("made_on"), "made_on")
    if deadline:
        _check_deadline(record, made_on)
    # A phrase without a basis is read as verbal by the import (records.complete_forecast_fields).
    basis = record.get("probability_basis") or ("verbal" if record.get("phrase") else None)
    if basis == "verbal":
        phrase = record.get("phrase")
        if not phrase:
            raise ValidationError("phrase", "is required when probability_basis is verbal")
        try:
            expected_p = probability_from_phrase(phrase)
        except UnknownPhraseError as exc:
            raise ValidationError("phrase", str(exc)) from None
        if "probability" in record and parse_probability(record["probability"]) != expected_p:
            raise ValidationError("probability", f"{record['probability']} but the scale gives {phrase!r} {expected_p}")
    if "probability" in record and parse_probability(record["probability"]) in (0.0, 1.0):
        raise ValidationError("probability", "a seeded forecast is never certain: use the hedge scale")


def _check_deadline(record: dict[str, Any], made_on: dt.date) -> None:
    deadline_text = record.get("deadline_text") or ""
    assumed = bool(record.get("deadline_assumed"))
    if assumed and not record.get("note"):
        raise ValidationError("note", "is required when deadline_assumed is true: say why that deadline")
    if assumed and not record.get("deadline"):
        raise ValidationError("deadline", "is required when deadline_assumed is true: give the editorial date")
    if not assumed:
        if not deadline_text:
            raise ValidationError("deadline_text", "is empty: an editorial deadline must set deadline_assumed = true")
        try:
            expected = parse_deadline(deadline_text, made_on)
        except DeadlineError as exc:
            raise ValidationError("deadline_text", f"{exc}; mark the deadline as assumed if it is editorial") from None
        if record.get("deadline") and parse_date(record["deadline"], "deadline") != expected:
            raise ValidationError("deadline", f"{record['deadline']} but {deadline_text!r} from {made_on} is {expected}")
