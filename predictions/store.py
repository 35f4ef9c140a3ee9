"""The Ledger: one SQLite file holding questions, the forecasts on them, resolutions and the hash chain.

This module, `importing` (the import path, which `add` shares) and `writer` are the only ones that
write rows (opening the file and its schema are in `sqlite_file` and `migrations`). Every write is one `BEGIN IMMEDIATE` transaction that applies completely or not at
all; the file runs in WAL mode with a busy timeout, so several processes can share one ledger. Values come in through `records.forecast_from_record` (the single
validation path for `add`, import and seeds) and every change is appended to the hash chain in the
same transaction as the rows it describes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Sequence

import attrs

from . import chain
from .chain import Problem, Verification
from .errors import (
    AmbiguousIdError,
    LedgerError,
    OlderSchemaError,
    NotFoundError,
    ValidationError,
    VerificationError,
    excerpt,
)
from .model import (
    STATUS_SQL, Forecast, Question, Resolution, check_resolution, check_timestamp, normalise_tag, parse_date, status_of,
    stored_values, utc_now,
)  # fmt: skip
from .sqlite_file import checked_path, connect, reopener, shown_path, sqlite_errors, transaction, use_wal

if TYPE_CHECKING:  # imported where used: a command that only reads forecasts never loads the scoring code
    from .aggregate import ScoreTable
    from .importing import ImportSummary
    from .report import Period, Report

STATUSES = ("open", "due", "resolved", "all")


@attrs.frozen
class TrackedForecast:
    """A forecast with its question, the question's resolution history and its status on a given day."""

    question: Question
    forecast: Forecast
    history: tuple[Resolution, ...]
    status: str
    first_claim: str | None = None  # the claim of the question's first forecast that has one

    @property
    def id(self) -> str:
        return self.forecast.id

    @property
    def current(self) -> Resolution | None:
        return self.history[-1] if self.history else None

    @property
    def claim(self) -> str:
        """What the forecast says: its own claim, else its question's wording, else the claim of
        the question's first forecast that has one (an update need not repeat it)."""
        return self.forecast.claim or self.question.question or self.first_claim or "(no claim)"

    def to_record(self) -> dict[str, Any]:
        """The export format: what `export`, `list --json` and `show --json` print for it."""
        from .records import export_record  # records (and hedges): not loaded by a command that only lists

        return export_record(self.question, self.forecast, self.history, self.status)


@attrs.frozen
class TrackedQuestion:
    """A question with every forecast on it (in the order recorded), its history and status."""

    question: Question
    forecasts: tuple[Forecast, ...]
    history: tuple[Resolution, ...]
    status: str

    @property
    def id(self) -> str:
        return self.question.id

    @property
    def current(self) -> Resolution | None:
        return self.history[-1] if self.history else None

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(f.source for f in self.forecasts))

    @property
    def title(self) -> str:
        """The question's wording, else its first forecast's claim."""
        return self.question.question or next((f.claim for f in self.forecasts if f.claim), "(no wording)")

    def to_record(self) -> dict[str, Any]:
        """What `list --questions --json` prints: the question's fields, its status and outcome,
        its sources, every forecast on it and its resolution history."""
        current = self.current
        return {
            **self.question.to_record(),
            "status": self.status,
            "outcome": current.outcome if current else None,
            "resolved_on": current.resolved_on.isoformat() if current else None,
            "sources": list(self.sources),
            "forecasts": [f.to_record() for f in self.forecasts],
            "resolutions": [r.to_record() for r in self.history],
        }

    def tracked(self, forecast: Forecast) -> TrackedForecast:
        first_claim = next((f.claim for f in self.forecasts if f.claim), None)
        return TrackedForecast(self.question, forecast, self.history, self.status, first_claim)


@attrs.frozen
class Head:
    seq: int
    hash: str
    recorded_at: str | None


@attrs.define
class _Written:
    """What a write transaction learnt: the head, if its records went into a ledger that another
    process had created meanwhile (and so got a head other than the one it computed)."""

    head: str | None = None


_HISTORY_KEYS = tuple(c for c in Resolution.FIELDS if c != "question_id")
_HISTORY_COLUMN = (
    "(SELECT json_group_array(json_object("
    + ", ".join(f"'{c}', {c}" for c in _HISTORY_KEYS)
    + ")) FROM (SELECT * FROM resolutions r INDEXED BY resolutions_question "
    "WHERE r.question_id = q.id ORDER BY r.id)) AS history_json"
)
# INDEXED BY: without that index each question's history is a scan of every resolution (a 200k
# ledger whose index was dropped took minutes to export); with it named, a missing or altered
# index is an error at once (sqlite_file.sqlite_errors says which), never a stall.


def _text_of(data: bytes | None) -> str:
    return "" if data is None else data.decode("utf-8", "backslashreplace")
_FORECASTS_FROM = "FROM forecasts f LEFT JOIN documents d ON d.id = f.document_id JOIN questions q ON q.id = f.question_id"
TRACKED_SQL = (
    f"SELECT {chain.FORECAST_SELECT}, {chain.QUESTION_SELECT_PREFIXED}, {_HISTORY_COLUMN}, "
    f"{chain.FIRST_CLAIM} AS first_claim {_FORECASTS_FROM}"
)
QUESTION_SQL = f"SELECT {chain.QUESTION_SELECT}, {_HISTORY_COLUMN} FROM questions q"
FORECASTS_OF_SQL = f"SELECT {chain.FORECAST_SELECT} FROM {chain.FORECAST_FROM} WHERE f.question_id = ? ORDER BY f.rowid"


def _today(today: dt.date | str | None) -> dt.date:
    return dt.date.today() if today is None else parse_date(today, "today")


def _write_today(today: dt.date | str | None) -> dt.date:
    """The day a write is checked against: an earlier day may be given (stricter), never a later one.

    A later "today" would let a resolution dated in the real future into the append-only ledger,
    and the ledger's own export would then be refused on re-import.
    """
    real = dt.date.today()
    today = _today(today)
    if today > real:
        raise LedgerError(f"today {today} is after the real date {real}: a write cannot be dated ahead")
    return today


def _history(row: Any, question_id: str) -> tuple[Resolution, ...]:
    return tuple(
        Resolution.from_record({**item, "question_id": question_id}) for item in json.loads(row["history_json"])
    )


# What `add --question` takes from the question; giving one of these that differs is refused.
_FROM_QUESTION = {"resolution_criteria": "resolution_criteria", "deadline": "deadline",
                  "deadline_text": "deadline_text", "question_text": "question"}  # fmt: skip


class Ledger:
    """A forecast ledger in one SQLite file.

    >>> with Ledger("ledger.db") as ledger:                     # doctest: +SKIP
    ...     f = ledger.add(source="The Economist", claim="...", resolution_criteria="...",
    ...                    made_on=date(2026, 5, 1), deadline=date(2027, 11, 1), probability=0.7)
    ...     ledger.add(question=f.question_id, source="The Times", made_on=date(2026, 6, 1), probability=0.4)
    ...     ledger.resolve(f.question_id, "yes", on=date(2027, 3, 2), evidence="...")
    """

    def __init__(
        self, path: str | os.PathLike, *, create: bool = True, read_only: bool = False, upgrade: bool = False
    ):
        """Open the ledger at `path`.

        A writer (the default) migrates an older file to this version's schema. If there is no
        file and `create` is true, none is made yet: the first write builds the new ledger, with
        what it writes, under a private name beside `path` and then gives it the name `path`,
        which never replaces a file (`files.link_no_replace`). So a refused first write leaves no
        file, and a file another process created meanwhile is written into, never lost. Reading
        or `.conn` before any write publishes an empty ledger the same way.

        `read_only=True` opens for reading only: nothing is written, not even a migration or the
        switch to WAL, so a ledger in a folder the user cannot write, or on a full disk, still reads.
        A reader refuses a ledger of an older schema (OlderSchemaError) unless `upgrade` is true:
        then, where the file can be written, it is upgraded once (as any writer would) and read.
        """
        self.path = checked_path(path, "ledger")
        self.read_only = read_only
        self._conn: sqlite3.Connection | None = None
        self._closed = False
        if create and not read_only and not os.path.lexists(self.path):
            return  # made by the first write (_writing)
        try:
            self._conn = connect(self.path, create=create and not read_only, read_only=read_only)
        except OlderSchemaError as exc:
            if not upgrade:
                raise
            try:  # the one schema upgrade a new version needs, done as a writer would do it
                connect(self.path, create=False).close()
            except LedgerError as why:
                raise OlderSchemaError(f"{exc}; it could not be upgraded here: {why}") from None
            self._conn = connect(self.path, create=False, read_only=True)

    @property
    def conn(self) -> sqlite3.Connection:
        """The SQLite connection (a new ledger's file is published, empty, by the first use)."""
        if self._conn is None:
            if self._closed:
                raise LedgerError(f"{shown_path(self.path)}: this Ledger was closed; open it again")
            with self._writing():
                pass
        return self._conn

    def close(self) -> None:
        self._closed = True
        if self._conn is not None:
            with sqlite_errors(self.path):
                self._conn.close()

    def __enter__(self) -> "Ledger":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    @contextlib.contextmanager
    def _writing(self, *, skip_existing: bool = False) -> Iterator["_Written"]:
        """One write transaction (BEGIN IMMEDIATE ... COMMIT, all or nothing).

        For a ledger with no file yet, the transaction runs in a new file under a private name,
        which is then published whole. If another process published the ledger meanwhile, what
        this one built is imported into theirs, so neither loses a forecast; with `skip_existing`
        (a write that skips what is already there) what they wrote too is skipped, not refused.
        """
        written = _Written()
        if self.read_only:
            raise LedgerError(f"{shown_path(self.path)} was opened read-only; nothing was written")
        if self._conn is not None or os.path.lexists(self.path):
            with transaction(self.conn if self._conn is not None else self._attach(), self.path):
                yield written
            return
        if self._closed:
            raise LedgerError(f"{shown_path(self.path)}: this Ledger was closed; open it again")

        def into_theirs(built_at: Path) -> None:  # the name was taken meanwhile: import what was built
            self._attach()
            with Ledger(built_at, create=False) as built:
                records = ((None, record) for record in built.export_records())
                written.head = self.import_records(records, skip_existing=skip_existing).head

        from . import files  # only the first write of a new ledger needs it

        with files.new_ledger(self.path, if_taken=into_theirs) as conn:
            self._conn = conn
            try:
                yield written
            finally:
                self._conn = None
        if self._conn is None:
            self._attach()

    def _attach(self) -> sqlite3.Connection:
        """Connect to the file now at self.path (published by this process or another)."""
        self._conn = connect(self.path, create=False)
        use_wal(self._conn, self.path)  # a new ledger runs in WAL, so readers never wait for writers
        return self._conn

    # --- writing ----------------------------------------------------------------------------

    def add(
        self,
        *,
        source: str,
        made_on: dt.date | str,
        claim: str | None = None,
        resolution_criteria: str | None = None,
        deadline: dt.date | str | None = None,
        deadline_text: str | None = None,
        deadline_assumed: bool = False,
        probability: float | None = None,
        phrase: str | None = None,
        probability_basis: str | None = None,
        quote: str | None = None,
        question: str | None = None,
        question_text: str | None = None,
        document: dict[str, Any] | None = None,
        source_kind: str | None = None,
        tags: Iterable[str] = (),
        note: str | None = None,
        id: str | None = None,
        today: dt.date | str | None = None,
    ) -> Forecast:
        """Record one forecast and return it (with its `.id` and `.question_id`).

        Without `question`, the forecast comes with its own new question (`claim`,
        `resolution_criteria` and a deadline needed; `question_text` is the question's wording);
        the question takes the forecast's id. With `question` (an id or a unique prefix of a
        question's or one of its forecasts' ids), it is a forecast on that question: another
        source's, or an update by the same source; its criteria, deadline and tags are the
        question's, and giving different ones is refused. `deadline` may be left out when
        `deadline_text` is a wording `parse_deadline` understands; `probability` may be left out
        when `phrase` is on the hedge scale. `today` (default: the real date; never later) is the
        day `made_on` may not be after. Raises ValidationError.
        """
        # No recorded_at: it is now (a forecast recorded earlier is restored with import_records).
        record = {
            "id": id, "source": source, "source_kind": source_kind, "document": document,
            "claim": claim, "quote": quote, "made_on": made_on,
            "probability": probability, "probability_basis": probability_basis, "phrase": phrase, "note": note,
            "question": question_text, "resolution_criteria": resolution_criteria, "deadline": deadline,
            "deadline_text": deadline_text, "deadline_assumed": deadline_assumed,
            "tags": tags if isinstance(tags, str) else list(tags),
        }  # fmt: skip
        today = _write_today(today)
        with self._writing():
            if question is not None:
                existing = self.get_question(question, today=today)
                record = self._on_question(record, existing.question)
            from . import importing  # here, as below: a command that only reads starts without the write path

            item = importing._validated(None, record, utc_now(), today, typed=True)
            importing._write(self, [item], derived_id=id is None)
        return item.forecast

    @staticmethod
    def _on_question(record: dict[str, Any], question: Question) -> dict[str, Any]:
        """`record` as a forecast on `question`: the question's fields, refusing different ones."""
        given = dict(record)
        if given.get("deadline") is not None:
            given["deadline"] = parse_date(given["deadline"], "deadline")
        for key, field in _FROM_QUESTION.items():
            value = given.get("question" if key == "question_text" else key)
            if value is not None and _differs(value, getattr(question, field)):
                raise ValidationError(
                    field, f"is {value!s} here but {getattr(question, field)!s} on question {question.id}: "
                    "a forecast on a question takes its criteria and deadline from it"
                )  # fmt: skip
        if record.get("tags") and tuple(sorted(set(record["tags"]))) != question.tags:
            raise ValidationError("tags", f"tags belong to the question; {question.id} has {', '.join(question.tags) or 'none'}")
        from .records import QUESTION_KEYS

        question_record = question.to_record()
        values = {**record, **{k: question_record[k] for k in QUESTION_KEYS}, "question_id": question.id}
        return values

    def import_records(
        self,
        records: Iterable[tuple[str, Any]],
        *,
        recorded_at: str | None = None,
        today: dt.date | str | None = None,
        skip_existing: bool = False,
    ) -> ImportSummary:
        """Validate and write (where, record) pairs all-or-nothing; errors name `where` and the field.

        Records are in the export format; those that share a `question_id` are forecasts on one
        question (an earlier one in the input, or one already in the ledger) and must carry the
        same question fields and history. `skip_existing`: a record whose forecast is already in
        the ledger with the same content is skipped (`summary.skipped_existing`); one whose id is
        there with other content is refused.
        """
        recorded_at, today = self._import_stamp(recorded_at, today)
        from . import importing

        return importing.import_records(self, records, recorded_at=recorded_at, today=today, skip_existing=skip_existing)

    def import_platform(
        self,
        platform: str,
        path: str | os.PathLike | Sequence[str | os.PathLike],
        *,
        source: str | None = None,
        progress: Callable[[int], None] | None = None,
        today: dt.date | str | None = None,
    ) -> ImportSummary:
        """Import a platform's export (`platform`: fatebook, predictionbook, metaculus, manifold;
        `path`: its file, or Manifold's market and bets files) all-or-nothing, with the re-import
        rules of docs/import.md: what is already in the ledger is skipped and counted, a changed
        resolution is recorded as a correction "changed on PLATFORM", an edit is reported in
        `summary.differs`, and `summary.skipped` counts what the file held that is not imported.
        `source` names the forecaster of a single-person export; `progress` hears of each block of
        bytes read. A malformed file raises ValidationError naming FILE:LINE and the field.
        """
        recorded_at, today = self._import_stamp(None, today)
        from . import importing

        return importing.import_platform(self, platform, path, source=source, progress=progress,
                                         recorded_at=recorded_at, today=today)  # fmt: skip

    @staticmethod
    def _import_stamp(recorded_at: str | None, today: dt.date | str | None) -> tuple[str, dt.date]:
        """The stamp of records without their own, and the day the import is checked against."""
        if recorded_at is None:
            recorded_at = utc_now()
        else:  # the stamp every record without its own gets: as checked as theirs
            from .records import check_recorded_before_now

            check_recorded_before_now(check_timestamp(recorded_at))
        return recorded_at, _write_today(today)

    def resolve(
        self,
        question_id: str,
        outcome: str,
        *,
        on: dt.date | str,
        evidence: str,
        note: str | None = None,
        correction: str | None = None,
        early_reason: str | None = None,
        by: str | None = None,
        today: dt.date | str | None = None,
    ) -> Resolution:
        """Append a resolution of a question: `question_id` is a question's id or any of its
        forecasts' ids, or a unique prefix of one. It settles every forecast on the question.
        Raises ValidationError.

        A question already resolved needs `correction` (the reason) to be resolved again; a NO
        before the deadline needs `early_reason`; a YES after the deadline is refused.
        """
        today = _write_today(today)
        with self._writing():
            tracked = self.get_question(question_id, today=today)
            resolution = Resolution(
                question_id=tracked.id, outcome=outcome, resolved_on=on, evidence=evidence,
                note=note, correction_reason=correction, early_reason=early_reason,
                recorded_at=utc_now(), recorded_by=by,
            )  # fmt: skip
            first_made_on = min(f.made_on for f in tracked.forecasts)
            check_resolution(tracked.question, first_made_on, tracked.current, resolution, today)
            from .writer import Writer

            writer = Writer.of(self.conn)
            writer.resolve(resolution)
            writer.refresh()
        return resolution

    # --- reading ----------------------------------------------------------------------------

    def _matches(self, prefix: str) -> list[tuple[str, str]]:
        """(id, question id) of the forecasts and questions whose id starts with `prefix` (up to 6 each)."""
        bounds = [prefix, prefix + "\U0010ffff"]
        with sqlite_errors(self.path):
            forecasts = self.conn.execute(
                "SELECT id, question_id FROM forecasts WHERE id >= ? AND id < ? ORDER BY id LIMIT 6", bounds
            ).fetchall()
            questions = self.conn.execute(
                "SELECT id, id FROM questions WHERE id >= ? AND id < ? ORDER BY id LIMIT 6", bounds
            ).fetchall()
        return [tuple(row) for row in forecasts + questions]

    @staticmethod
    def _clean(prefix: str) -> str:
        prefix = (prefix or "").strip().lower()  # ids are lower-case: `show C100` finds c100...
        if not prefix:
            raise NotFoundError("give a forecast or question id (or the start of one)")
        return prefix

    def resolve_id(self, prefix: str) -> str:
        """The full id of the one forecast whose id starts with `prefix` (a question's id names its
        first forecast)."""
        prefix = self._clean(prefix)
        matches = self._matches(prefix)
        forecast_ids = sorted({m[0] for m in matches[: len(matches)] if self._is_forecast(m[0])})
        if prefix in forecast_ids:
            return prefix
        if len(forecast_ids) == 1:
            return forecast_ids[0]
        if len(forecast_ids) > 1:
            shown = ", ".join(forecast_ids[:5]) + (", ..." if len(forecast_ids) > 5 else "")
            raise AmbiguousIdError(f"{excerpt(prefix)} matches several forecasts ({shown}); type more of the id")
        question_id = self.resolve_question_id(prefix)
        row = self.conn.execute("SELECT id FROM forecasts WHERE question_id = ? ORDER BY rowid LIMIT 1", [question_id]).fetchone()
        if row is None:
            raise NotFoundError(f"no forecast has an id starting with {excerpt(prefix)}")
        return row[0]

    def _is_forecast(self, forecast_id: str) -> bool:
        with sqlite_errors(self.path):
            return self.conn.execute("SELECT 1 FROM forecasts WHERE id = ?", [forecast_id]).fetchone() is not None

    def resolve_question_id(self, prefix: str) -> str:
        """The id of the one question named by `prefix`: its own id or any of its forecasts' (or a
        unique start of one)."""
        prefix = self._clean(prefix)
        matches = self._matches(prefix)
        exact = {question_id for id_, question_id in matches if id_ == prefix}
        if len(exact) == 1:
            return exact.pop()
        candidates = exact or {question_id for _, question_id in matches}
        if not candidates:
            raise NotFoundError(f"no forecast or question has an id starting with {excerpt(prefix)}")
        if len(candidates) > 1:
            shown = sorted(candidates)
            listed = ", ".join(shown[:5]) + (", ..." if len(shown) > 5 else "")
            raise AmbiguousIdError(f"{excerpt(prefix)} matches forecasts on several questions ({listed}); type more of the id")
        return candidates.pop()

    def _tracked(self, where: str, params: list[Any], today: dt.date | None, order: str = "f.rowid"):
        today = _today(today)
        with sqlite_errors(self.path):
            cursor = self.conn.execute(f"{TRACKED_SQL} {where} ORDER BY {order}", params)
            cursor.row_factory = sqlite3.Row
            for row in cursor:
                with self._stored(row["id"]):
                    question = Question.from_record(chain.question_record_from_row(row, "q_"))
                    forecast = Forecast.from_record(chain.forecast_record_from_row(row))
                    history = _history(row, question.id)
                current = history[-1] if history else None
                status = status_of(question, current, today)
                yield TrackedForecast(question, forecast, history, status, row["first_claim"])

    @contextlib.contextmanager
    def _stored(self, what: str) -> Iterator[None]:
        """Values read back are checked by the rules they were recorded under (model.stored_values);
        one the model refuses even so was written with raw SQL: one line saying so."""
        try:
            with stored_values():
                yield
        except ValidationError as exc:
            raise LedgerError(
                f"{shown_path(self.path)}: {what!r} as stored is not one the ledger accepts ({exc}): the file "
                "was changed outside predictions (`predictions verify` names the entry)"
            ) from None

    def get(self, id_or_prefix: str, *, today: dt.date | str | None = None) -> TrackedForecast:
        """One forecast (a question's id names its first forecast)."""
        forecast_id = self.resolve_id(id_or_prefix)
        return list(self._tracked("WHERE f.id = ?", [forecast_id], today))[0]

    def get_question(self, id_or_prefix: str, *, today: dt.date | str | None = None) -> TrackedQuestion:
        """One question with every forecast on it; named by its id or any of its forecasts'."""
        question_id = self.resolve_question_id(id_or_prefix)
        return next(self._questions("WHERE q.id = ?", [question_id], today))

    def _questions(self, where: str, params: list[Any], today: dt.date | None, order: str = "q.rowid"):
        today = _today(today)
        with sqlite_errors(self.path):
            cursor = self.conn.execute(f"{QUESTION_SQL} {where} ORDER BY {order}", params)
            cursor.row_factory = sqlite3.Row
            for row in cursor:
                with self._stored(row["id"]):
                    question = Question.from_record(chain.question_record_from_row(row))
                    history = _history(row, question.id)
                    forecasts_cursor = self.conn.execute(FORECASTS_OF_SQL, [question.id])
                    forecasts_cursor.row_factory = sqlite3.Row
                    forecasts = tuple(Forecast.from_record(chain.forecast_record_from_row(r)) for r in forecasts_cursor)
                current = history[-1] if history else None
                yield TrackedQuestion(question, forecasts, history, status_of(question, current, today))

    def forecasts(
        self,
        *,
        status: str = "all",
        source: str | None = None,
        tag: str | None = None,
        today: dt.date | str | None = None,
    ) -> list[TrackedForecast]:
        """Forecasts filtered by status (open, due, resolved, all), exact source and tag; by deadline."""
        return list(self.iter_forecasts(status=status, source=source, tag=tag, today=today))

    def _filters(self, status: str, source: str | None, tag: str | None, today: dt.date | None):
        if status not in STATUSES:
            raise ValidationError("status", f"{status!r} is not one of {', '.join(STATUSES)}")
        today_text = _today(today).isoformat()
        clauses, params = [], []
        if status != "all":  # the status rule's SQL form (model.STATUS_SQL)
            clauses.append(STATUS_SQL[status].format(today="?"))
            params.extend([today_text] if status != "resolved" else [])
        if source is not None:
            clauses.append("q.id IN (SELECT question_id FROM forecasts WHERE source = ?)")
            params.append(source)
        if tag is not None:
            clauses.append("q.id IN (SELECT question_id FROM question_tags WHERE tag = ?)")
            params.append(normalise_tag(tag))  # as tags are stored: --tag Tech finds "tech"
        return clauses, params

    def iter_forecasts(
        self,
        *,
        status: str = "all",
        source: str | None = None,
        tag: str | None = None,
        today: dt.date | str | None = None,
        order: str = "q.deadline, f.id",
    ) -> Iterator[TrackedForecast]:
        """Like `forecasts`, but read one at a time (a million forecasts are never all in memory)."""
        clauses, params = self._filters(status, None, tag, today)
        if source is not None:
            clauses.append("f.source = ?")
            params.append(source)
        clauses.append("f.rowid <= ?")  # the forecasts there are now, whatever is added while iterating
        params.append(self._last_rowid())
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        return self._tracked(where, params, today, order=order)

    def questions(self, *, status: str = "all", source: str | None = None, tag: str | None = None,
                  today: dt.date | str | None = None) -> Iterator[TrackedQuestion]:  # fmt: skip
        """Questions (each with every forecast on it) by status, a source that forecast them, and
        tag; soonest deadline first. Streamed."""
        clauses, params = self._filters(status, source, tag, today)
        with sqlite_errors(self.path):
            last = self.conn.execute("SELECT coalesce(max(rowid), 0) FROM questions").fetchone()[0]
        clauses.append("q.rowid <= ?")
        params.append(last)
        return self._questions("WHERE " + " AND ".join(clauses), params, today, order="q.deadline, q.id")

    def due(self, *, today: dt.date | str | None = None) -> list[TrackedForecast]:
        """Past their deadline and unresolved, oldest deadline first."""
        return self.forecasts(status="due", today=today)

    def history(self, id_or_prefix: str) -> tuple[Resolution, ...]:
        return self.get_question(id_or_prefix).history

    def export_records(self, *, today: dt.date | str | None = None) -> Iterator[dict[str, Any]]:
        """Every forecast in the order it was recorded, in the export format (streamed)."""
        today = _today(today)
        # Only the forecasts there are now: a caller adding while it reads would otherwise read on forever.
        for tracked in self._tracked("WHERE f.rowid <= ?", [self._last_rowid()], today):
            yield tracked.to_record()

    def _last_rowid(self) -> int:
        with sqlite_errors(self.path):
            return self.conn.execute("SELECT coalesce(max(rowid), 0) FROM forecasts").fetchone()[0]

    def has_tag(self, tag: str) -> bool:
        with sqlite_errors(self.path):
            found = self.conn.execute("SELECT 1 FROM question_tags WHERE tag = ? LIMIT 1", [normalise_tag(tag)])
            return found.fetchone() is not None

    def _leave_wal(self) -> None:
        """Leave WAL mode: one self-contained file, so readers of a committed copy leave no -wal/-shm."""
        with sqlite_errors(self.path):
            self.conn.execute("PRAGMA journal_mode = DELETE")

    def count(self) -> int:
        """How many forecasts."""
        with sqlite_errors(self.path):
            return self.conn.execute("SELECT count(*) FROM forecasts").fetchone()[0]

    def count_questions(self) -> int:
        with sqlite_errors(self.path):
            return self.conn.execute("SELECT count(*) FROM questions").fetchone()[0]

    # --- scores and reports -----------------------------------------------------------------

    def score(
        self,
        *,
        by: str = "source",
        since: dt.date | str | None = None,
        until: dt.date | str | None = None,
        min_n: int = 1,
        exclude_tags: Iterable[str] = (),
        today: dt.date | str | None = None,
    ) -> ScoreTable:
        """Scores per group (`by`: one of SCORE_BY) over forecasts resolved yes or no from `since`
        to `until` (and no later than `today`), ranked by Brier score, best first. Groups with
        fewer than `min_n` scored forecasts are left out of the rows (`table.hidden`), as `score` does."""
        from .aggregate import score_table

        with self._snapshot():
            return score_table(self.conn, by=by, since=since, until=until, min_n=min_n,
                               exclude_tags=exclude_tags, today=today, hides_unranked=True)  # fmt: skip

    def report(
        self,
        period: Period | str | None = None,
        *,
        kind: str = "month",
        today: dt.date | str | None = None,
        min_n: int = 5,
        exclude_tags: Iterable[str] = (),
        verify: bool = True,
        label: str | None = None,
    ) -> Report:
        """The calibration report for `period` ("2026", "2026-Q3", "2026-10" or a Period; None:
        the latest complete period of `kind`), as of `today` (default: the real date). `label`
        names the ledger in the report (default: its file name, never its absolute path).

        The chain is verified first, in the same snapshot the report is computed from: a failed
        verification raises VerificationError naming the first finding. With verify=False the
        report says, in every format, that it was not verified.
        """
        from .report import build_report, report_label, report_period

        today = _today(today)
        chosen = report_period(period, kind, today)
        label = report_label(label, self.path)
        reopen = reopener(self.conn) if verify else None  # its verification reads on two connections, as verify's
        with self._snapshot():
            verification = chain.verify(self.conn, reopen=reopen) if verify else None
            if verification is not None and not verification.ok:
                raise VerificationError(
                    f"the ledger failed verification, so no report was made: {verification.problems[0]}",
                    verification,
                )
            return build_report(self.conn, ledger=label, verified=verification, period=chosen,
                                today=today, min_n=min_n, exclude_tags=exclude_tags)  # fmt: skip

    @contextlib.contextmanager
    def _snapshot(self) -> Iterator[None]:
        """One consistent read of the file, even while others write; `sqlite_errors` explains failures."""
        with sqlite_errors(self.path):
            self.conn.execute("BEGIN")
            try:
                yield
            finally:
                self.conn.execute("ROLLBACK")

    # --- integrity --------------------------------------------------------------------------

    def head(self) -> Head:
        """The chain's latest entry: its hash commits to everything the ledger has said.

        Printed even for a damaged ledger (`verify` is what judges it): the columns are read as
        bytes, so text that is not UTF-8 shows as `\\xff` escapes instead of failing the read.
        """
        with sqlite_errors(self.path):
            row = self.conn.execute(
                "SELECT seq, CAST(hash AS BLOB), CAST(payload AS BLOB) FROM entries ORDER BY seq DESC LIMIT 1"
            ).fetchone()
        if row is None:
            return Head(0, chain.GENESIS, None)
        seq, digest, payload = row[0], _text_of(row[1]), _text_of(row[2])
        try:
            recorded_at = json.loads(payload).get("recorded_at")
        except (TypeError, ValueError, AttributeError, RecursionError):  # RecursionError: nested too deeply
            recorded_at = None
        return Head(seq, digest, recorded_at if isinstance(recorded_at, str) else None)

    def verify(
        self, *, contains: str | None = None, on_problem: Callable[[Problem], None] | None = None
    ) -> Verification:
        """Check the schema, the file, the chain and every row against it (docs/integrity.md);
        `contains`: a published head; `on_problem` hears of each finding as soon as it is made.

        Reads on two connections in one snapshot. An iterator of this Ledger left unfinished holds
        a read open from before: finish or close it first, or the proof of one snapshot rests on
        checks that catch a write appending an entry or changing the schema, not a raw edit."""
        reopen = reopener(self.conn)  # a second connection, opened as this one, reads beside it
        with self._snapshot():
            return chain.verify(self.conn, contains=contains, on_problem=on_problem, reopen=reopen)

    def backup(self, target: str | os.PathLike, *, progress: Callable[[int, int], None] | None = None) -> Path:
        """A consistent copy made with SQLite's online backup while others may be writing.

        The copy is built under a private name beside `target` and appears at `target` only when
        complete; an existing file is never replaced, and `target` may not be the ledger, one of
        its files or a link to them (`files.check_output_path`).
        """
        target = checked_path(target, "backup")
        with sqlite_errors(self.path):
            self.conn.execute("SELECT 1")  # a closed Ledger is refused as such, not blamed on the target
        from . import files

        files.backup_into(self.conn, target, protect=self.path, progress=progress)
        return target


def _differs(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a.split() != b.split()
    return a != b
