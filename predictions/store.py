"""The Ledger: one SQLite file holding forecasts, their resolutions and the hash chain.

This is the only module that writes rows (opening the file and its schema are in `sqlite_file` and
`migrations`). Every write is one `BEGIN IMMEDIATE` transaction that applies completely or not at
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
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import attrs

from . import chain, files
from .aggregate import ScoreTable, score_table
from .chain import Problem, Verification
from .errors import (
    AmbiguousIdError,
    LedgerError,
    NotFoundError,
    ValidationError,
    VerificationError,
    excerpt,
)
from .model import (
    Forecast, Resolution, check_resolution, check_timestamp, normalise_tag, parse_date, status_of, stored_values,
    utc_now,
)  # fmt: skip
from .records import check_recorded_before_now, export_record, forecast_from_record
from .report import Period, Report, build_report, report_period
from .sqlite_file import checked_path, connect, shown_path, sqlite_errors, transaction, use_wal

BATCH_SIZE = 2000
STATUSES = ("open", "due", "resolved", "all")


@attrs.frozen
class TrackedForecast:
    """A forecast with its resolution history and its status on a given day."""

    forecast: Forecast
    history: tuple[Resolution, ...]
    status: str

    @property
    def id(self) -> str:
        return self.forecast.id

    @property
    def current(self) -> Resolution | None:
        return self.history[-1] if self.history else None

    def to_record(self) -> dict[str, Any]:
        """The export format: what `export`, `list --json` and `show --json` print for it."""
        return export_record(self.forecast, list(self.history), self.status)


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


@attrs.frozen
class ImportSummary:
    forecasts: int
    resolutions: int
    head: str


_HISTORY_COLUMN = """(SELECT json_group_array(json_object(
        'outcome', outcome, 'resolved_on', resolved_on, 'evidence', evidence, 'note', note,
        'correction_reason', correction_reason, 'early_reason', early_reason,
        'recorded_at', recorded_at, 'recorded_by', recorded_by))
    FROM (SELECT * FROM resolutions r INDEXED BY resolutions_forecast
          WHERE r.forecast_id = f.id ORDER BY r.id)) AS history_json"""
TRACKED_SQL = f"SELECT {chain.FORECAST_COLUMNS}, {_HISTORY_COLUMN} {chain.FORECAST_FROM}"
# INDEXED BY: without that index each forecast's history is a scan of every resolution (a 200k
# ledger whose index was dropped took minutes to export); with it named, a missing or altered
# index is an error at once (sqlite_file.sqlite_errors says which), never a stall.


def _text_of(data: bytes | None) -> str:
    return "" if data is None else data.decode("utf-8", "backslashreplace")


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


def _normalised(forecast: Forecast) -> Forecast:
    """-0.0 is refused nowhere but SQLite stores it as 0.0: record 0.0, so the chain matches the table."""
    if forecast.probability == 0.0:
        return attrs.evolve(forecast, probability=0.0)
    return forecast


MULTIROW = 250  # rows per INSERT statement (19 columns x 250 = 4,750 parameters; SQLite allows 32,766)


def _multirow(rows: list[tuple]) -> Iterator[tuple[str, list[Any]]]:
    """(placeholders, flat parameters) for one INSERT ... VALUES statement per MULTIROW rows.

    A statement whose table has triggers that may abort (the append-only and calendar-date
    triggers) opens a statement journal each time it runs; one statement for many rows opens one
    where executemany opened one per row, which made the inserts two to three times slower. The
    rows are the same, inserted in the same order, and refused by the same constraints.
    """
    if not rows:
        return
    width = len(rows[0])
    one = "(" + ", ".join("?" * width) + ")"
    full = ", ".join([one] * MULTIROW)
    for start in range(0, len(rows), MULTIROW):
        chunk = rows[start : start + MULTIROW]
        marks = full if len(chunk) == MULTIROW else ", ".join([one] * len(chunk))  # placeholders only
        yield marks, [value for row in chunk for value in row]


class Ledger:
    """A forecast ledger in one SQLite file.

    >>> with Ledger("ledger.db") as ledger:                     # doctest: +SKIP
    ...     f = ledger.add(source="The Economist", claim="...", resolution_criteria="...",
    ...                    made_on=date(2026, 5, 1), deadline=date(2027, 11, 1), probability=0.7)
    ...     ledger.resolve(f.id, "yes", on=date(2027, 3, 2), evidence="...")
    """

    def __init__(self, path: str | os.PathLike, *, create: bool = True, read_only: bool = False):
        """Open the ledger at `path`.

        A writer (the default) migrates an older file to this version's schema. If there is no
        file and `create` is true, none is made yet: the first write builds the new ledger, with
        what it writes, under a private name beside `path` and then gives it the name `path`,
        which never replaces a file (`files.link_no_replace`). So a refused first write leaves no
        file, and a file another process created meanwhile is written into, never lost. Reading
        or `.conn` before any write publishes an empty ledger the same way.

        `read_only=True` opens for reading only: nothing is written, not even a migration or the
        switch to WAL, so a ledger in a folder the user cannot write, or on a full disk, still reads.
        """
        self.path = checked_path(path, "ledger")
        self.read_only = read_only
        self._conn: sqlite3.Connection | None = None
        self._closed = False
        if create and not read_only and not os.path.lexists(self.path):
            return  # made by the first write (_writing)
        self._conn = connect(self.path, create=create and not read_only, read_only=read_only)

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
    def _writing(self) -> Iterator["_Written"]:
        """One write transaction (BEGIN IMMEDIATE ... COMMIT, all or nothing).

        For a ledger with no file yet, the transaction runs in a new file under a private name,
        which is then published whole. If another process published the ledger meanwhile, what
        this one built is imported into theirs, so neither loses a forecast.
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
                written.head = self.import_records((None, record) for record in built.export_records()).head

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
        claim: str,
        resolution_criteria: str,
        made_on: dt.date | str,
        deadline: dt.date | str | None = None,
        deadline_text: str | None = None,
        deadline_assumed: bool = False,
        probability: float | None = None,
        phrase: str | None = None,
        probability_basis: str | None = None,
        quote: str | None = None,
        question: str | None = None,
        document: dict[str, Any] | None = None,
        source_kind: str | None = None,
        tags: Iterable[str] = (),
        note: str | None = None,
        id: str | None = None,
        today: dt.date | str | None = None,
    ) -> Forecast:
        """Record one forecast and return it (with its `.id`).

        `deadline` may be left out when `deadline_text` is a wording `parse_deadline` understands;
        `probability` may be left out when `phrase` is on the hedge scale. `today` (default: the
        real date; never later) is the day `made_on` may not be after. Raises ValidationError.
        """
        # No recorded_at: it is now (a forecast recorded earlier is restored with import_records).
        record = {
            "id": id, "source": source, "source_kind": source_kind, "document": document,
            "claim": claim, "quote": quote, "question": question,
            "resolution_criteria": resolution_criteria, "made_on": made_on, "deadline": deadline,
            "deadline_text": deadline_text, "deadline_assumed": deadline_assumed,
            "probability": probability, "probability_basis": probability_basis, "phrase": phrase,
            "tags": tags if isinstance(tags, str) else list(tags), "note": note,
        }  # fmt: skip
        forecast, _ = forecast_from_record(record, recorded_at=utc_now(), today=_write_today(today), typed=True)
        forecast = _normalised(forecast)
        with self._writing():
            self._append([(None, forecast, [])], *self._chain_state())
        return forecast

    def import_records(
        self,
        records: Iterable[tuple[str, Any]],
        *,
        recorded_at: str | None = None,
        today: dt.date | str | None = None,
    ) -> ImportSummary:
        """Validate and write (where, record) pairs all-or-nothing; errors name `where` and the field."""
        if recorded_at is None:
            recorded_at = utc_now()
        else:  # the stamp every record without its own gets: as checked as theirs
            check_recorded_before_now(check_timestamp(recorded_at))
        today = _write_today(today)
        forecasts = resolutions = 0
        with self._writing() as written:
            seq, prev, next_rid = self._chain_state()
            bulk = seq == 0 and self.count() == 0
            if bulk:
                self._drop_secondary_indexes()
            batch: list[tuple[str, Forecast, list[Resolution]]] = []
            for where, record in records:
                try:
                    forecast, history = forecast_from_record(record, recorded_at=recorded_at, today=today)
                except ValidationError as exc:
                    raise exc.located(where) from None
                batch.append((where, _normalised(forecast), history))
                forecasts += 1
                resolutions += len(history)
                if len(batch) >= BATCH_SIZE:
                    seq, prev, next_rid = self._append(batch, seq, prev, next_rid)
                    batch = []
            seq, prev, next_rid = self._append(batch, seq, prev, next_rid)
            if bulk:
                self._create_secondary_indexes()
        return ImportSummary(forecasts=forecasts, resolutions=resolutions, head=written.head or prev)

    # A bulk load into an empty ledger builds the secondary indexes once, sorted, at the end, rather
    # than inserting into them row by row. Both happen inside the import's transaction: other
    # connections never see the ledger without them, and a failed or killed import leaves them as
    # they were. The definitions are those of migrations m001 and m002 (a test compares the schema
    # of a ledger loaded this way with that of a fresh one); the literal statements keep every SQL
    # text in this module code-owned.
    def _drop_secondary_indexes(self) -> None:
        self.conn.execute("DROP INDEX forecasts_source")
        self.conn.execute("DROP INDEX forecasts_deadline")
        self.conn.execute("DROP INDEX forecasts_document")
        self.conn.execute("DROP INDEX forecasts_unscored")
        self.conn.execute("DROP INDEX resolutions_forecast")
        self.conn.execute("DROP INDEX forecast_tags_tag")

    def _create_secondary_indexes(self) -> None:
        self.conn.execute("CREATE INDEX forecasts_source ON forecasts(source)")
        self.conn.execute("CREATE INDEX forecasts_deadline ON forecasts(deadline)")
        self.conn.execute("CREATE INDEX forecasts_document ON forecasts(document_id)")
        self.conn.execute(
            "CREATE INDEX forecasts_unscored ON forecasts(outcome) WHERE outcome IN ('ambiguous', 'annulled')"
        )
        self.conn.execute("CREATE INDEX resolutions_forecast ON resolutions(forecast_id, id)")
        self.conn.execute("CREATE INDEX forecast_tags_tag ON forecast_tags(tag)")

    def resolve(
        self,
        forecast_id: str,
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
        """Append a resolution. `forecast_id` may be a unique prefix. Raises ValidationError.

        A forecast already resolved needs `correction` (the reason) to be resolved again; a NO
        before the deadline needs `early_reason`; a YES after the deadline is refused.
        """
        today = _write_today(today)
        with self._writing():
            tracked = self.get(forecast_id, today=today)
            resolution = Resolution(
                forecast_id=tracked.id, outcome=outcome, resolved_on=on, evidence=evidence,
                note=note, correction_reason=correction, early_reason=early_reason,
                recorded_at=utc_now(), recorded_by=by,
            )  # fmt: skip
            check_resolution(tracked.forecast, tracked.current, resolution, today)
            seq, prev, next_rid = self._chain_state()
            self._write_resolutions([resolution], seq, prev, next_rid)
            self.conn.execute(
                "UPDATE forecasts SET outcome = ?, resolved_on = ? WHERE id = ?",
                [resolution.outcome, resolution.resolved_on.isoformat(), tracked.id],
            )
        return resolution

    def _chain_state(self) -> tuple[int, str, int]:
        """(last entry's seq, its hash, the next resolution id)."""
        row = self.conn.execute("SELECT seq, hash FROM entries ORDER BY seq DESC LIMIT 1").fetchone()
        seq, prev = row if row else (0, chain.GENESIS)
        next_rid = self.conn.execute("SELECT coalesce(max(id), 0) + 1 FROM resolutions").fetchone()[0]
        return seq, prev, next_rid

    def _append(
        self, batch: list[tuple[str, Forecast, list[Resolution]]], seq: int, prev: str, next_rid: int
    ) -> tuple[int, str, int]:
        """Write forecasts (each followed by its history) and their chain entries. Inside a transaction."""
        if not batch:
            return seq, prev, next_rid
        rows, (seq, prev, next_rid) = self._rows(batch, seq, prev, next_rid)
        documents, forecasts, tags, entries, resolutions = rows
        self.conn.execute("SAVEPOINT batch")
        try:
            self.conn.executemany(
                "INSERT OR IGNORE INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (doc_id, d["title"], d["outlet"], d["author"], d["url"], d["published_on"],
                     int(d["published_on_estimated"]), d["published_text"], d["note"], d["file"])
                    for doc_id, d in documents.items()
                ],
            )  # fmt: skip
            for marks, values in _multirow(forecasts):
                self.conn.execute(
                    "INSERT INTO forecasts (id, source, source_kind, document_id, claim, quote, question, "
                    "resolution_criteria, made_on, deadline, deadline_text, deadline_assumed, probability, "
                    f"probability_basis, phrase, note, recorded_at, outcome, resolved_on) VALUES {marks}",
                    values,
                )
            self.conn.executemany("INSERT INTO forecast_tags VALUES (?, ?)", tags)
            self._insert_resolutions(resolutions)
            self._insert_entries(entries)
        except sqlite3.IntegrityError as exc:
            self.conn.execute("ROLLBACK TO batch")
            raise self._explain_refusal(batch, exc) from None
        self.conn.execute("RELEASE batch")
        return seq, prev, next_rid

    def _rows(self, batch, seq: int, prev: str, next_rid: int):
        """The table rows and chain entries of a batch (its values were validated by the model)."""
        documents, forecasts, tags, entries, resolutions = {}, [], [], [], []
        for _, forecast, history in batch:
            record = forecast.to_record()
            payload = chain.canonical_json(record)
            seq += 1
            digest = chain.chain_hash(prev, payload)
            entries.append((seq, "forecast", forecast.id, None, payload, prev, digest))
            prev = digest
            document_id = None
            if forecast.document is not None:
                document_id = forecast.document.id
                documents[document_id] = record["document"]
            current = history[-1] if history else None
            forecasts.append((
                forecast.id, forecast.source, forecast.source_kind, document_id, forecast.claim,
                forecast.quote, forecast.question, forecast.resolution_criteria, record["made_on"],
                record["deadline"], forecast.deadline_text, int(forecast.deadline_assumed),
                forecast.probability, forecast.probability_basis, forecast.phrase, forecast.note,
                forecast.recorded_at, current.outcome if current else None,
                current.resolved_on.isoformat() if current else None,
            ))  # fmt: skip
            tags.extend((forecast.id, tag) for tag in forecast.tags)
            for resolution in history:
                seq, prev, next_rid = self._resolution_rows(resolution, seq, prev, next_rid, entries, resolutions)
        return (documents, forecasts, tags, entries, resolutions), (seq, prev, next_rid)

    @staticmethod
    def _resolution_rows(resolution, seq, prev, rid, entries, rows):
        record = resolution.to_record()
        payload = chain.canonical_json(record)
        seq += 1
        digest = chain.chain_hash(prev, payload)
        entries.append((seq, "resolution", resolution.forecast_id, rid, payload, prev, digest))
        rows.append((rid, *(record[key] for key in chain.RESOLUTION_COLUMNS)))
        return seq, digest, rid + 1

    def _insert_resolutions(self, rows) -> None:
        for marks, values in _multirow(rows):
            self.conn.execute(
                f"INSERT INTO resolutions (id, {', '.join(chain.RESOLUTION_COLUMNS)}) VALUES {marks}", values
            )

    def _insert_entries(self, rows) -> None:
        for marks, values in _multirow(rows):
            self.conn.execute(f"INSERT INTO entries VALUES {marks}", values)

    def _write_resolutions(self, history: list[Resolution], seq: int, prev: str, rid: int) -> None:
        entries, rows = [], []
        for resolution in history:
            seq, prev, rid = self._resolution_rows(resolution, seq, prev, rid, entries, rows)
        self._insert_resolutions(rows)
        self._insert_entries(entries)

    def _explain_refusal(self, batch, exc: sqlite3.IntegrityError) -> LedgerError:
        """Name the record behind a database refusal (almost always a duplicate id)."""
        ids = [forecast.id for _, forecast, _ in batch]
        existing = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            existing.update(r[0] for r in self.conn.execute(f"SELECT id FROM forecasts WHERE id IN ({marks})", chunk))
        seen: Counter[str] = Counter()
        for where, forecast, _ in batch:
            seen[forecast.id] += 1
            if forecast.id in existing:
                return ValidationError("id", f"{forecast.id!r} is already in the ledger", where)
            if seen[forecast.id] > 1:
                return ValidationError("id", f"{forecast.id!r} appears twice in this input", where)
        return LedgerError(f"the database refused the change ({exc}); nothing was written")

    # --- reading ----------------------------------------------------------------------------

    def resolve_id(self, prefix: str) -> str:
        """The full id of the one forecast whose id starts with `prefix`."""
        prefix = (prefix or "").strip().lower()  # ids are lower-case: `show C100` finds c100...
        if not prefix:
            raise NotFoundError("give a forecast id (or the start of one)")
        with sqlite_errors(self.path):
            rows = self.conn.execute(
                "SELECT id FROM forecasts WHERE id >= ? AND id < ? ORDER BY id LIMIT 6",
                [prefix, prefix + "\U0010ffff"],
            ).fetchall()
        if not rows:
            raise NotFoundError(f"no forecast has an id starting with {excerpt(prefix)}")
        ids = [row[0] for row in rows]
        if prefix in ids:
            return prefix
        if len(ids) > 1:
            shown = ", ".join(ids[:5]) + (", ..." if len(ids) > 5 else "")
            raise AmbiguousIdError(f"{excerpt(prefix)} matches several forecasts ({shown}); type more of the id")
        return ids[0]

    def _tracked(self, where: str, params: list[Any], today: dt.date | None, order: str = "f.rowid"):
        today = _today(today)
        with sqlite_errors(self.path):
            cursor = self.conn.execute(f"{TRACKED_SQL} {where} ORDER BY {order}", params)
            cursor.row_factory = sqlite3.Row
            for row in cursor:
                try:
                    with stored_values():  # read by the rules it was recorded under (model.stored_values)
                        forecast = Forecast.from_record(chain.forecast_record_from_row(row))
                        history = tuple(
                            Resolution.from_record({**item, "forecast_id": forecast.id})
                            for item in json.loads(row["history_json"])
                        )
                except ValidationError as exc:  # only raw SQL writes what the model refuses
                    raise LedgerError(
                        f"{shown_path(self.path)}: the forecast {row['id']!r} as stored is not one the ledger "
                        f"accepts ({exc}): the file was changed outside predictions (`predictions verify` names the entry)"
                    ) from None
                current = history[-1] if history else None
                yield TrackedForecast(forecast, history, status_of(forecast, current, today))

    def get(self, id_or_prefix: str, *, today: dt.date | str | None = None) -> TrackedForecast:
        forecast_id = self.resolve_id(id_or_prefix)
        return list(self._tracked("WHERE f.id = ?", [forecast_id], today))[0]

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

    def iter_forecasts(
        self,
        *,
        status: str = "all",
        source: str | None = None,
        tag: str | None = None,
        today: dt.date | str | None = None,
        order: str = "f.deadline, f.id",
    ) -> Iterator[TrackedForecast]:
        """Like `forecasts`, but read one at a time (a million forecasts are never all in memory)."""
        if status not in STATUSES:
            raise ValidationError("status", f"{status!r} is not one of {', '.join(STATUSES)}")
        today_text = _today(today).isoformat()
        clauses, params = [], []
        if status == "open":
            clauses.append("f.outcome IS NULL AND f.deadline >= ?")
            params.append(today_text)
        elif status == "due":
            clauses.append("f.outcome IS NULL AND f.deadline < ?")
            params.append(today_text)
        elif status == "resolved":
            clauses.append("f.outcome IS NOT NULL")
        if source is not None:
            clauses.append("f.source = ?")
            params.append(source)
        if tag is not None:
            clauses.append("f.id IN (SELECT forecast_id FROM forecast_tags WHERE tag = ?)")
            params.append(normalise_tag(tag))  # as tags are stored: --tag Tech finds "tech"
        clauses.append("f.rowid <= ?")  # the forecasts there are now, whatever is added while iterating
        params.append(self._last_rowid())
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        return self._tracked(where, params, today, order=order)

    def due(self, *, today: dt.date | str | None = None) -> list[TrackedForecast]:
        """Past their deadline and unresolved, oldest deadline first."""
        return self.forecasts(status="due", today=today)

    def history(self, id_or_prefix: str) -> tuple[Resolution, ...]:
        return self.get(id_or_prefix).history

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
            found = self.conn.execute("SELECT 1 FROM forecast_tags WHERE tag = ? LIMIT 1", [normalise_tag(tag)])
            return found.fetchone() is not None

    def _leave_wal(self) -> None:
        """Leave WAL mode: one self-contained file, so readers of a committed copy leave no -wal/-shm."""
        with sqlite_errors(self.path):
            self.conn.execute("PRAGMA journal_mode = DELETE")

    def count(self) -> int:
        with sqlite_errors(self.path):
            return self.conn.execute("SELECT count(*) FROM forecasts").fetchone()[0]

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
    ) -> Report:
        """The calibration report for `period` ("2026", "2026-Q3", "2026-10" or a Period; None:
        the latest complete period of `kind`), as of `today` (default: the real date).

        The chain is verified first, in the same snapshot the report is computed from: a failed
        verification raises VerificationError naming the first finding. With verify=False the
        report says, in every format, that it was not verified.
        """
        today = _today(today)
        chosen = report_period(period, kind, today)
        with self._snapshot():
            verification = chain.verify(self.conn) if verify else None
            if verification is not None and not verification.ok:
                raise VerificationError(
                    f"the ledger failed verification, so no report was made: {verification.problems[0]}",
                    verification,
                )
            return build_report(self.conn, ledger=shown_path(self.path), verified=verification, period=chosen,
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
        `contains`: a published head; `on_problem` hears of each finding as soon as it is made."""
        with self._snapshot():
            return chain.verify(self.conn, contains=contains, on_problem=on_problem)

    def backup(self, target: str | os.PathLike, *, progress: Callable[[int, int], None] | None = None) -> Path:
        """A consistent copy made with SQLite's online backup while others may be writing.

        The copy is built under a private name beside `target` and appears at `target` only when
        complete; an existing file is never replaced, and `target` may not be the ledger, one of
        its files or a link to them (`files.check_output_path`).
        """
        target = checked_path(target, "backup")
        with sqlite_errors(self.path):
            self.conn.execute("SELECT 1")  # a closed Ledger is refused as such, not blamed on the target
        files.backup_into(self.conn, target, protect=self.path, progress=progress)
        return target
