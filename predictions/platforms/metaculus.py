"""Metaculus, in its two shapes (Metaculus/metaculus: utils/csv_utils.py, docs/openapi.yml,
questions/serializers/common.py). `read` tells them apart by the file's first bytes.

- The data export, a zip holding `question_data.csv` (one row per question) and
  `forecast_data.csv` (one row per forecast, and per aggregate: the community prediction, which
  is skipped). It holds every forecast's history but no resolution criteria. Python's csv writer
  wrote it: times are `str(datetime)` (`2024-05-01 12:34:56.123456+00:00`), lists are Python
  literals (`['Economy', 'Politics']`), a missing value is an empty cell.
- The API's posts JSON (`GET /api/posts/?...&with_cp=...&include_descriptions=true`, saved as it
  comes: one page `{"results": [...]}`, a list of pages, or one post), which holds the criteria
  and, for the signed-in user, `my_forecasts`.

Both give a question the same identity (its question id, not the post id in its URL), the same
title, URL, dates and tags, so a question read from one shape is the same question read from the
other; only the criteria differ (`criteria_from_platform`).
"""

from __future__ import annotations

import ast
import contextlib
import csv
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import Iterator

from ..errors import ValidationError
from . import common, keys
from .common import PlatformForecast, PlatformQuestion, Skipped

PLATFORM = "metaculus"
OUTCOMES = ("yes", "no", "ambiguous", "annulled")
NO_CRITERIA = ("As resolved by Metaculus under the resolution criteria and fine print on the question's page "
               "(this file does not hold them).")
MAX_MEMBER_BYTES = 4 * 1024**3  # uncompressed size of one CSV in the zip
MAX_RATIO = 200  # uncompressed / compressed; CSV text compresses 5-20x, zip bombs 1000x
MAX_MEMBERS = 1000

QUESTION_COLUMNS = {
    "id": ("Question ID",),
    "url": ("Question URL",),
    "title": ("Question Title",),
    "published": ("Post Published Time",),
    "categories": ("Categories",),
    "type": ("Question Type",),
    "open": ("Open Time",),
    "close": ("Scheduled Close Time",),
    "closed": ("Actual Close Time",),
    "resolution": ("Resolution",),
    "known": ("Resolution Known Time",),
}
QUESTION_OPTIONAL = frozenset({"published", "categories", "closed"})
FORECAST_COLUMNS = {
    "question": ("Question ID",),
    "forecaster": ("Forecaster ID", "Forecaster (Anonymized)"),
    "username": ("Forecaster Username",),
    "bot": ("Is Bot",),
    "start": ("Start Time",),
    "probability": ("Probability Yes",),
}
FORECAST_OPTIONAL = frozenset({"username"})  # an anonymized export has none


def read(path: str | Path, *, skipped: Skipped, source: str | None = None,
         progress: common.Progress | None = None) -> Iterator[PlatformQuestion]:
    source = common.source_override(source)
    with common.open_regular(path) as handle:
        is_zip = handle.read(4) == b"PK\x03\x04"
    if is_zip:
        yield from _read_export(path, skipped, source, progress)
    else:
        from . import metaculus_api

        yield from metaculus_api.read(path, skipped=skipped, source=source, progress=progress)


# --- the data export ---------------------------------------------------------------------------------


def _read_export(path, skipped: Skipped, source: str | None, progress) -> Iterator[PlatformQuestion]:
    name = str(path)
    with common.open_regular(path) as handle:
        try:
            archive = zipfile.ZipFile(handle)
        except (zipfile.BadZipFile, zlib.error, ValueError, EOFError) as exc:
            raise ValidationError(None, f"is not a readable zip file ({exc})", name) from None
        with archive:
            members = archive.infolist()
            if len(members) > MAX_MEMBERS:
                raise ValidationError(None, f"holds {len(members):,} files; a Metaculus export holds a few", name)
            question_member = _member(members, "question_data.csv", name)
            forecast_member = _member(members, "forecast_data.csv", name)
            questions_name = f"{name}!{question_member.filename}"
            forecasts_name = f"{name}!{forecast_member.filename}"
            raw_position = [handle.tell()]

            def moved(_bytes: int) -> None:  # progress in bytes of the zip file itself
                if progress:
                    now = handle.tell()
                    progress(max(0, now - raw_position[0]))
                    raw_position[0] = now

            questions = _read_questions(archive, question_member, questions_name, skipped, moved)
            yield from _read_forecasts(archive, forecast_member, forecasts_name, questions, skipped, source, moved)


def _member(members: list[zipfile.ZipInfo], wanted: str, name: str) -> zipfile.ZipInfo:
    """The one member named `wanted`, at the top or in one folder; never a path that climbs out."""
    found = []
    for member in members:
        parts = PurePosixPath(member.filename.replace("\\", "/")).parts
        if member.is_dir() or not parts or parts[-1] != wanted:
            continue
        if len(parts) > 2 or ".." in parts or member.filename.startswith(("/", "\\")) or ":" in parts[0]:
            raise ValidationError(None, f"holds {member.filename!r}, which is not where an export keeps {wanted}", name)
        found.append(member)
    if not found:
        raise ValidationError(None, f"holds no {wanted}: is it a Metaculus data export?", name)
    if len(found) > 1:
        raise ValidationError(None, f"holds {wanted} {len(found)} times", name)
    member = found[0]
    if member.flag_bits & 0x1:
        raise ValidationError(None, f"{wanted} is encrypted", name)
    if member.file_size > MAX_MEMBER_BYTES:
        raise ValidationError(None, f"{wanted} unpacks to {member.file_size:,} bytes; the limit is {MAX_MEMBER_BYTES:,}", name)
    if member.file_size > 1024 * 1024 and member.file_size > MAX_RATIO * max(member.compress_size, 1):
        raise ValidationError(None, f"{wanted} unpacks to {member.file_size // max(member.compress_size, 1):,} times "
                                    "its packed size: refused as a zip bomb", name)
    return member


class _Bounded:
    """A zip member read a line at a time, never beyond the size its header declares."""

    def __init__(self, handle, member: zipfile.ZipInfo, name: str, progress):
        self.handle, self.left, self.name, self.progress = handle, member.file_size, name, progress

    def readline(self, limit: int) -> bytes:
        try:
            line = self.handle.readline(limit)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
            raise ValidationError(None, f"is damaged ({exc})", self.name) from None
        self.left -= len(line)
        if self.left < 0:
            raise ValidationError(None, "holds more than its zip header declares", self.name)
        self.progress(len(line))
        return line


def _csv(archive: zipfile.ZipFile, member: zipfile.ZipInfo, name: str, progress):
    try:
        handle = archive.open(member)
    except (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError, OSError) as exc:
        raise ValidationError(None, f"cannot be read ({exc})", name) from None
    return handle, csv.reader(common.csv_lines(_Bounded(handle, member, name, progress), name), strict=True)


def _rows(reader, name: str, columns, optional):
    """(where, index, row) for each non-empty row, the header checked; csv errors located."""
    try:
        header = next(reader, None)
        if header is None:
            raise ValidationError(None, "is empty (no header row)", f"{name}:1")
        index = common.csv_header(header, columns, optional, name)
        start = reader.line_num + 1
        for row in reader:
            where = f"{name}:{start}"
            start = reader.line_num + 1
            if not row:
                continue
            if len(row) != len(header):
                raise ValidationError(None, f"has {len(row)} cells; the header has {len(header)}", where)
            yield where, index, row
    except csv.Error as exc:
        raise common.csv_error(exc, f"{name}:{reader.line_num}") from None


def _read_questions(archive, member, name: str, skipped: Skipped, progress) -> tuple[keys.KeyStore, int]:
    """Question id -> its binary question, or the label of the kind skipped ('numeric questions'),
    kept in a KeyStore (a file of a million questions would take a gigabyte as Python values);
    and the number of binary questions."""
    questions = keys.KeyStore()
    binary = 0
    handle, reader = _csv(archive, member, name, progress)
    try:
        with handle:
            for where, index, row in _rows(reader, name, QUESTION_COLUMNS, QUESTION_OPTIONAL):
                try:
                    question = _question(row, index, where, skipped)
                except ValidationError as exc:
                    raise _column(exc, QUESTION_COLUMNS).located(where) from None
                if isinstance(question, str):
                    if questions.add(row[index["id"]], question):
                        skipped.add(question)
                    continue
                if questions.add(question.key, keys.pack_question(question)):
                    binary += 1
                    continue
                earlier = _kept(questions, question.key)
                if isinstance(earlier, PlatformQuestion) and earlier.same_question(question):
                    raise ValidationError(None, f"Question ID {question.key} is given twice, differently (first at {earlier.where})", where)
    except BaseException:
        questions.close()
        raise
    return questions, binary


def _kept(questions: keys.KeyStore, key: str) -> PlatformQuestion | str | None:
    """The binary question kept for `key`, or the label of the kind skipped, or None."""
    value = questions.get(key)
    return keys.unpack_question(value) if isinstance(value, bytes) else value


def _column(exc: ValidationError, columns) -> ValidationError:
    return ValidationError(columns[exc.field][0] if exc.field in columns else exc.field, exc.message)


def _question(row: list[str], index: dict[str, int], where: str, skipped: Skipped) -> PlatformQuestion | str:
    def cell(field: str) -> str:
        return row[index[field]] if field in index else ""

    key = common.identifier(cell("id"), "id")
    kind = cell("type")
    if kind != "binary":
        return common.kind_label(kind)
    created = common.iso_time(cell("open") or cell("published"), "open")
    resolved_at = common.iso_time(cell("known"), "known", optional=True) or common.iso_time(
        cell("closed"), "closed", optional=True)
    return binary_question(
        key=key, title=common.text(cell("title"), "title"), url=common.one_line(cell("url"), "url", optional=True),
        created=created, close=common.iso_time(cell("close"), "close"),
        resolution=cell("resolution"), resolved_at=resolved_at,
        categories=_python_list(cell("categories"), "categories"), criteria=None, where=where, skipped=skipped,
    )


def binary_question(*, key: str, title: str, url: str | None, created, close, resolution: str | None,
                    resolved_at, categories: list[str], criteria: str | None, where: str,
                    skipped: Skipped) -> PlatformQuestion:
    """The one mapping of a binary Metaculus question, whichever shape it came from."""
    if resolution in (None, ""):
        outcome = None
    elif resolution in OUTCOMES:
        outcome = resolution
    else:
        raise ValidationError("resolution", f"{common.short(str(resolution))!r} is not yes, no, ambiguous, annulled or empty")
    resolved_on = evidence = None
    if outcome:
        if resolved_at is None:
            raise ValidationError("resolution", f"is {outcome} but the file gives no time it became known")
        resolved_on = resolved_at.date()
        evidence = f"Resolved {outcome} on Metaculus at {common.iso_z(resolved_at)}" + (f" ({url})." if url else ".")
    return PlatformQuestion(
        platform=PLATFORM, key=key, title=title,
        criteria=common.fit_criteria(criteria, url) if criteria else NO_CRITERIA, criteria_from_platform=bool(criteria),
        url=url, created=created, deadline=close.date(), tags=common.tags(categories, skipped), outcome=outcome,
        resolved_at=resolved_at if outcome else None, resolved_on=resolved_on, evidence=evidence, where=where,
    )


def _python_list(value: str, field: str) -> list[str]:
    """A cell Python's csv writer made from a list of names: "['Economy', 'Politics']"."""
    if value in ("", "None", "[]"):
        return []
    try:
        names = ast.literal_eval(value)  # literals only; the cell is bounded by the csv field limit
    except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
        names = None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ValidationError(field, f"{common.short(value)!r} is not a list of names like ['Economy', 'Politics']")
    return names


def _read_forecasts(archive, member, name: str, kept: tuple[keys.KeyStore, int], skipped: Skipped,
                    source: str | None, progress) -> Iterator[PlatformQuestion]:
    questions, binary = kept
    with contextlib.closing(questions), contextlib.closing(keys.SeenForecasts()) as seen:
        forecasters: dict[str, str] = {}
        current: PlatformQuestion | None = None
        current_key = None
        question: PlatformQuestion | str | None = None
        pending: list[PlatformForecast] = []
        handle, reader = _csv(archive, member, name, progress)
        with handle:
            for where, index, row in _rows(reader, name, FORECAST_COLUMNS, FORECAST_OPTIONAL):
                key = row[index["question"]]
                if key != current_key:  # rows of a question mostly come together: one look-up a run
                    question, current_key = _kept(questions, key), key
                if question is None:
                    raise ValidationError("Question ID", f"{common.short(key)!r} is not a question in question_data.csv", where)
                if isinstance(question, str):
                    skipped.add(f"forecasts on {question}")
                    continue
                if row[index["bot"]] == "":  # aggregates have no Is Bot: they are not anyone's forecast
                    skipped.add("aggregate forecasts (the community prediction and the like)")
                    continue
                if current is None or current.key != question.key:
                    if current is not None and pending:
                        yield from _yield(current, pending, seen, skipped)
                    current, pending = question, []
                try:
                    pending.append(_forecast(row, index, question.key, where, source, forecasters))
                except ValidationError as exc:
                    raise _column(exc, FORECAST_COLUMNS).located(where) from None
                if len(pending) >= keys.RUN_FORECASTS:  # a question with many: yielded in parts
                    yield from _yield(current, pending, seen, skipped)
                    pending = []
        if current is not None and pending:
            yield from _yield(current, pending, seen, skipped)
        skipped.add("questions without any forecast", binary - seen.questions)


def _yield(question: PlatformQuestion, pending: list[PlatformForecast], seen: keys.SeenForecasts, skipped: Skipped):
    fresh = seen.fresh(question.key, pending, skipped)
    if fresh:
        yield common.with_forecasts(question, fresh, seen.again)


def _forecast(row, index, key: str, where: str, source: str | None, forecasters) -> PlatformForecast:
    forecaster = common.identifier(row[index["forecaster"]], "forecaster")
    username = row[index["username"]] if "username" in index else ""
    label = common.one_line(username, "username") if username else f"anonymous {forecaster[:12]}"
    common.check_single_source(source, forecaster, where, forecasters)
    made_at = common.iso_time(row[index["start"]], "start")
    return PlatformForecast(
        key=forecast_key(key, forecaster, made_at), source=source or label, made_at=made_at,
        probability=common.probability(row[index["probability"]], "probability", text=True), basis="stated", where=where,
    )


def forecast_key(question: str, forecaster: str, made_at) -> str:
    """A forecast's identity in both shapes: the question, the forecaster's id, the start time."""
    return f"{question}/{forecaster}/{common.iso_z(made_at)}"


def question_url(post_id: str, short_title: str) -> str:
    """The URL the data export writes (csv_utils.py), built the same way from the API's post."""
    return f"https://www.metaculus.com/questions/{post_id}/{short_title.lower().replace(' ', '-')}/"
