"""Fatebook's CSV export ("Export all your forecasts", lib/web/export.ts in Sage-Future/fatebook).

One row per forecast; the question's fields are repeated on each of its rows. Every string is
quoted, numbers, booleans and dates are not; a missing value is an empty cell. Dates are the
server's local time (UTC) as `YYYY-MM-DD HH:MM:S`, the seconds not zero-padded. Lists (tags,
sharing, comments) are joined with "; ". There is no question id: the rows with the same title and
creation time are one question, and its key is a hash of those two.

Three generations of the header are read: before September 2024 (`Question resolution`,
`Question resolved at`, no multiple-choice column), until January 2025 (no `Question tags`), and
since.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import functools
import hashlib
import re
from pathlib import Path
from typing import Iterator

import attrs

from ..errors import ValidationError
from . import common, keys
from .common import PlatformForecast, PlatformQuestion, Skipped

PLATFORM = "fatebook"

# Our name for each column -> the header names it has had, newest first.
COLUMNS = {
    "title": ("Question title",),
    "option": ("Multiple choice option",),
    "forecaster": ("Forecast created by",),
    "forecast": ("Forecast (scale = 0-1)",),
    "made_at": ("Forecast created at",),
    "author": ("Question created by",),
    "created": ("Question created at",),
    "resolve_by": ("Question resolve by",),
    "resolution": ("Resolution", "Question resolution"),
    "resolved_at": ("Resolved at", "Question resolved at"),
    "brier": ("Your Brier score for this question",),
    "relative_brier": ("Your relative Brier score for this question",),
    "notes": ("Question notes",),
    "shared_with": ("Question shared with",),
    "shared_publicly": ("Question shared publicly",),
    "comments": ("Question comments",),
    "tags": ("Question tags",),
}
OPTIONAL = {"option", "tags"}  # absent from older exports
# The cells that describe the question (equal on all of its rows), in the order they are checked.
QUESTION_CELLS = ("title", "created", "author", "resolve_by", "resolution", "resolved_at", "notes", "tags")
OUTCOMES = {"YES": "yes", "NO": "no", "AMBIGUOUS": "ambiguous"}
_TIME = re.compile(r"(\d{4})-(\d{2})-(\d{2}) (\d{1,2}):(\d{1,2}):(\d{1,2})")


def read(path: str | Path, *, skipped: Skipped, source: str | None = None,
         progress: common.Progress | None = None) -> Iterator[PlatformQuestion]:
    """Yield the binary questions of a Fatebook CSV export with their forecasts.

    `source` names the forecaster of every row (a single-person export); a file with forecasts
    by more than one forecaster is then refused rather than merged under one name.
    """
    name = str(path)
    source = common.source_override(source)
    with common.open_regular(path) as handle:
        reader = csv.reader(common.csv_lines(handle, name, progress), strict=True)
        try:
            yield from _read_rows(reader, name, skipped, source)
        except csv.Error as exc:
            raise common.csv_error(exc, f"{name}:{reader.line_num}") from None


def _read_rows(reader, name: str, skipped: Skipped, source: str | None) -> Iterator[PlatformQuestion]:
    header = next(reader, None)
    if header is None:  # not even a header: not an export (an export with no forecast has one)
        raise ValidationError(None, "is empty (no header row)", f"{name}:1")
    index = common.csv_header(header, COLUMNS, OPTIONAL, name)
    # Each question met keeps a digest of its cells and where it was first read (SeenForecasts'
    # info): an export lists a question's rows together, so the current question's cells are kept
    # whole (to name the cell that differs) and earlier ones only as digests, out of Python memory.
    with contextlib.closing(keys.SeenForecasts()) as seen:
        yield from _read_questions(reader, name, skipped, source, header, index, seen)


def _read_questions(reader, name: str, skipped: Skipped, source: str | None, header: list[str],
                    index: dict[str, int], seen: keys.SeenForecasts) -> Iterator[PlatformQuestion]:
    columns = {field: header[i] for field, i in index.items()}
    width = len(header)
    cells_of = [(field, index[field]) for field in QUESTION_CELLS if field in index]
    choice_questions: set[str] = set()
    forecasters: dict[str, str] = {}  # (with --source) each name in the file -> where first read
    key = question = cells = None
    pending: list[PlatformForecast] = []
    start = reader.line_num + 1
    for row in reader:
        where = f"{name}:{start}"
        start = reader.line_num + 1
        if not row:
            continue
        if len(row) != width:
            raise ValidationError(None, f"has {len(row)} cells; the header has {width}", where)
        try:  # the natural key: the title and the creation time (as a time, however it is written)
            created = common.iso_z(_cached_time(row[index["created"]], "created"))
        except ValidationError as exc:
            raise _name_column(exc, columns).located(where) from None
        identity = f"{row[index['title']]}\n{created}"
        row_key = hashlib.sha256(identity.encode("utf-8", "surrogatepass")).hexdigest()[:16]
        if ("option" in index and row[index["option"]]) or row_key in choice_questions:
            if row_key not in choice_questions:  # each option's rows carry that option's resolution
                choice_questions.add(row_key)
                skipped.add("multiple-choice questions")
            skipped.add("forecasts on multiple-choice questions")
            continue
        row_cells = tuple(row[i] for _, i in cells_of)
        if row_key == key:
            if row_cells != cells:
                _disagree(row_cells, cells, cells_of, columns, where, question.where)
        else:
            if pending:
                yield from _flush(question, pending, seen, skipped)
            key, cells, pending = row_key, row_cells, []
            digest = _digest(cells)
            first = seen.meet(key, digest + where.encode("utf-8", "surrogatepass"))
            first_where = where
            if first is not None:
                first_where = first[16:].decode("utf-8", "surrogatepass")
                if first[:16] != digest:
                    names = ", ".join(columns[field] for field, _ in cells_of)
                    raise ValidationError(None, f"the question's cells ({names}) differ from its rows at {first_where}", where)
            try:
                question = attrs.evolve(_question(row, index, key, skipped), where=first_where)
            except ValidationError as exc:
                raise _name_column(exc, columns).located(where) from None
        try:
            forecast = _forecast(row, index, key, where, source, forecasters, skipped)
        except ValidationError as exc:
            raise _name_column(exc, columns).located(where) from None
        if forecast is not None:
            pending.append(forecast)
            if len(pending) >= keys.RUN_FORECASTS:  # a question with many: yielded in parts
                yield from _flush(question, pending, seen, skipped)
                pending = []
    if pending:
        yield from _flush(question, pending, seen, skipped)


def _flush(question: PlatformQuestion, forecasts: list[PlatformForecast], seen: keys.SeenForecasts,
           skipped: Skipped):
    fresh = seen.fresh(question.key, forecasts, skipped)
    if fresh:
        yield common.with_forecasts(question, fresh, seen.again)


def _digest(cells: tuple[str, ...]) -> bytes:
    return hashlib.blake2b("\x00".join(cells).encode("utf-8", "surrogatepass"), digest_size=16).digest()


def _disagree(cells, first, cells_of, columns, where: str, first_where: str):
    for (field, _), new, old in zip(cells_of, cells, first):
        if new != old:
            raise ValidationError(
                columns[field], f"{common.short(new)!r} differs from {common.short(old)!r} on the same question at {first_where}", where
            )


def _name_column(exc: ValidationError, columns: dict[str, str]) -> ValidationError:
    """Errors are raised with our field names; the user sees the column's header."""
    return ValidationError(columns.get(exc.field, exc.field), exc.message)


def fatebook_time(value: str, field: str, *, optional: bool = False) -> dt.datetime | None:
    if value == "" and optional:
        return None
    match = _TIME.fullmatch(value)
    if match is None:
        if value == "":
            raise ValidationError(field, "is required")
        raise ValidationError(field, f"{common.short(value)!r} is not a time like 2025-03-02 14:05:7")
    try:
        return dt.datetime(*map(int, match.groups()), tzinfo=common.UTC)
    except ValueError as exc:
        raise ValidationError(field, f"{value!r} is not a real time ({exc})") from None


@functools.lru_cache(maxsize=4096)  # every row of a question repeats its creation time
def _cached_time(value: str, field: str) -> dt.datetime:
    return fatebook_time(value, field)


def _question(row: list[str], index: dict[str, int], key: str, skipped: Skipped) -> PlatformQuestion:
    def cell(field: str) -> str:
        return row[index[field]] if field in index else ""

    title = common.text(cell("title"), "title")
    author = common.one_line(cell("author"), "author", optional=True)
    created = fatebook_time(cell("created"), "created")
    resolve_by = fatebook_time(cell("resolve_by"), "resolve_by").date()
    resolution = cell("resolution")
    if resolution and resolution not in OUTCOMES:
        raise ValidationError("resolution", f"{common.short(resolution)!r} is not YES, NO, AMBIGUOUS or empty")
    outcome = OUTCOMES.get(resolution)
    resolved_at = fatebook_time(cell("resolved_at"), "resolved_at", optional=True)
    notes = common.text(cell("notes"), "notes", optional=True)
    tags = common.tags(cell("tags").split("; "), skipped) if cell("tags") else ()
    if notes:
        criteria, given = notes, True
    else:
        by = f"its author, {author}," if author else "its author"
        criteria, given = f"As resolved by {by} on Fatebook.", False
    evidence = resolved_on = None
    if outcome:
        if resolved_at:
            resolved_on = resolved_at.date()
            evidence = f"Resolved {resolution} on Fatebook at {common.iso_z(resolved_at)}."
        else:
            resolved_on = resolve_by
            evidence = (f"Resolved {resolution} on Fatebook; the export gives no resolution time, "
                        "so the question's resolve-by date is used.")
    elif resolved_at:
        raise ValidationError("resolved_at", "is given but the question has no resolution")
    return PlatformQuestion(
        platform=PLATFORM, key=key, title=title, criteria=criteria, criteria_from_platform=given,
        url=None, created=created, deadline=resolve_by, tags=tags, outcome=outcome,
        resolved_at=resolved_at, resolved_on=resolved_on, evidence=evidence,
    )


def _forecast(row, index, key: str, where: str, source: str | None, forecasters: dict[str, str],
              skipped: Skipped) -> PlatformForecast | None:
    name = common.one_line(row[index["forecaster"]], "forecaster", optional=True) or ""
    if source is not None:
        common.check_single_source(source, name, where, forecasters)
    elif not name:
        skipped.add("forecasts with no forecaster name (give --source for a single-person export)")
        return None
    probability = common.probability(row[index["forecast"]], "forecast", text=True)
    made_at = fatebook_time(row[index["made_at"]], "made_at")
    identity = f"{name}\n{common.iso_z(made_at)}\n{probability!r}"
    return PlatformForecast(
        key=f"{key}/{hashlib.sha256(identity.encode()).hexdigest()[:16]}",
        source=source if source is not None else name,
        made_at=made_at, probability=probability, basis="stated", where=where,
    )
