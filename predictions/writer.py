"""Writing validated values as rows, each with its chain entry, inside the caller's transaction.

`store.Ledger` validates and decides what to write; `Writer` turns questions, forecasts and
resolutions into the rows of their tables and the chain entries that record them (built by
`chain.Chain`, the module that also verifies them), and keeps the projections that queries read
(a question's current outcome and forecaster count, a forecast's scoring weight) in step.
"""

from __future__ import annotations

import itertools
import operator
import sqlite3
from typing import Any, Iterator

import attrs

from . import chain, fts
from .model import Forecast, Question, Resolution
from .scoring import pair_weights_sql

# sqlite3 binds None through its adapter lookup (a miss, then two attribute probes), about 0.3 µs a
# parameter, and an import binds about a dozen of them a record. An adapter registered for None is
# found at once and returns None, which binds as NULL as before; one already registered is kept.
if (type(None), sqlite3.PrepareProtocol) not in sqlite3.adapters:
    sqlite3.register_adapter(type(None), lambda value: value)

# Rows per INSERT statement, at most (13 columns x 250 = 3,250 parameters), fewer where the
# connection allows fewer parameters (SQLITE_LIMIT_VARIABLE_NUMBER: 32,766 by default, 999
# before SQLite 3.32, where 250 rows a statement were refused).
MULTIROW = 250

_QUESTION_INSERT = ", ".join((*chain.QUESTION_COLUMNS, "outcome", "resolved_on"))
_FORECAST_INSERT = ", ".join(chain.FORECAST_COLUMNS)
_RESOLUTION_INSERT = ", ".join(("id", *chain.RESOLUTION_COLUMNS))
_DOCUMENT_INSERT = ", ".join(chain.DOCUMENT_COLUMNS)
_ENTRY_INSERT = ", ".join(chain.ENTRY_COLUMNS)
# A row's values read from its value's record in column order (one C call, not a loop); a
# forecast's document_id is filled in where it has a document.
_QUESTION_ROW = operator.itemgetter(*chain.QUESTION_COLUMNS)
_FORECAST_ROW = operator.itemgetter(*("document" if c == "document_id" else c for c in chain.FORECAST_COLUMNS))
_DOCUMENT_AT = chain.FORECAST_COLUMNS.index("document_id")
_RESOLUTION_ROW = operator.itemgetter(*chain.RESOLUTION_COLUMNS)


def _multirow(rows: list[tuple], parameters: int) -> Iterator[tuple[str, list[Any]]]:
    """(placeholders, flat parameters) for one INSERT ... VALUES statement per MULTIROW rows
    (or as many as `parameters`, the most a statement may bind, allow).

    A statement whose table has triggers that may abort (the append-only triggers) opens a
    statement journal each time it runs; one statement for many rows opens one where executemany
    opened one per row, which made the inserts two to three times slower. The rows are the same,
    inserted in the same order, and refused by the same constraints.
    """
    if not rows:
        return
    width = len(rows[0])
    size = max(1, min(MULTIROW, parameters // width))
    one = "(" + ", ".join("?" * width) + ")"
    full = ", ".join([one] * size)
    for start in range(0, len(rows), size):
        chunk = rows[start : start + size]
        marks = full if len(chunk) == size else ", ".join([one] * len(chunk))  # placeholders only
        yield marks, list(itertools.chain.from_iterable(chunk))


@attrs.frozen
class Item:
    """One record to write: its forecast, and its question with the question's history when the
    record creates the question (`question` None: the forecast joins a question already written)."""

    where: str | None
    question: Question | None
    forecast: Forecast
    history: tuple[Resolution, ...] = ()


@attrs.define
class Writer:
    conn: sqlite3.Connection
    chain: chain.Chain
    next_rid: int
    touched: set[str] = attrs.field(factory=set)  # questions whose weights and forecaster count may be stale
    # The full-text index (fts.py) is brought up to date by refresh(), once for all the rows
    # written since the last: the rows after `indexed` (the last rowids then), or, in a ledger that
    # was empty (a bulk import, a new ledger), all of them, built in one pass ('rebuild').
    indexed: dict[str, int] | None = None
    written: bool = False
    parameters: int = 999  # the most one statement may bind (the connection's limit, read by `of`)

    @classmethod
    def of(cls, conn: sqlite3.Connection) -> "Writer":
        next_rid = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM resolutions").fetchone()[0]
        writer = cls(conn, chain.Chain.of(conn), next_rid, parameters=conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))
        writer.indexed = None if writer.chain.seq == 0 else fts.last_rowids(conn)
        return writer

    def write(self, items: list[Item]) -> None:
        """Insert the items' rows and entries, in order. Raises sqlite3.IntegrityError on a refusal."""
        if not items:
            return
        documents: dict[str, dict[str, Any]] = {}
        questions, tags, forecasts, resolutions, entries = [], [], [], [], []
        for item in items:
            question = item.question
            forecast_record = item.forecast.to_record()
            if question is not None:
                record = question.to_record()
                if question.id == item.forecast.id:  # one entry: the forecast with its own question
                    entries.append(self.chain.entry(
                        "forecast", item.forecast.id, chain.v1_forecast_record(record, forecast_record), shape=1
                    ))  # fmt: skip
                else:
                    entries.append(self.chain.entry("question", question.id, record))
                    entries.append(self.chain.entry("forecast", item.forecast.id, forecast_record))
                current = item.history[-1] if item.history else None
                questions.append((
                    *_QUESTION_ROW(record),
                    current.outcome if current else None,
                    current.resolved_on.isoformat() if current else None,
                ))  # fmt: skip
                tags.extend((question.id, tag) for tag in question.tags)
            else:
                self.touched.add(item.forecast.question_id)
                entries.append(self.chain.entry("forecast", item.forecast.id, forecast_record))
            row = _FORECAST_ROW(forecast_record)
            document = item.forecast.document
            if document is not None:
                documents[document.id] = forecast_record["document"]
                row = (*row[:_DOCUMENT_AT], document.id, *row[_DOCUMENT_AT + 1 :])
            forecasts.append(row)
            if question is not None:
                for resolution in item.history:
                    resolutions.append(self._resolution_row(resolution, entries))
        self.conn.executemany(
            f"INSERT OR IGNORE INTO documents ({_DOCUMENT_INSERT}) VALUES ({', '.join('?' * len(chain.DOCUMENT_COLUMNS))})",
            [(doc_id, *(d[c] for c in chain.DOCUMENT_COLUMNS[1:])) for doc_id, d in documents.items()],
        )
        for marks, values in _multirow(questions, self.parameters):
            self.conn.execute(f"INSERT INTO questions ({_QUESTION_INSERT}) VALUES {marks}", values)
        self.conn.executemany("INSERT INTO question_tags VALUES (?, ?)", tags)
        for marks, values in _multirow(forecasts, self.parameters):
            self.conn.execute(f"INSERT INTO forecasts ({_FORECAST_INSERT}) VALUES {marks}", values)
        self._insert_resolutions(resolutions)
        self._insert_entries(entries)
        self.written = True

    def resolve(self, resolution: Resolution) -> None:
        """Append one resolution (or correction) of a question already written."""
        entries: list[tuple] = []
        self._insert_resolutions([self._resolution_row(resolution, entries)])
        self._insert_entries(entries)
        self.conn.execute(
            "UPDATE questions SET outcome = ?, resolved_on = ? WHERE id = ?",
            [resolution.outcome, resolution.resolved_on.isoformat(), resolution.question_id],
        )
        self.touched.add(resolution.question_id)  # its end date, and so its pairs' weights, may move

    def refresh(self) -> None:
        """Recompute the projections of the questions touched: each forecast's share of its pair's
        days (scoring.pair_weights_sql) and each question's count of sources; and build the
        full-text index (`indexed`). Every write path calls it before its transaction commits."""
        if self.written:
            fts.rebuild(self.conn) if self.indexed is None else fts.index_since(self.conn, self.indexed)
            self.indexed, self.written = fts.last_rowids(self.conn), False
        ids = sorted(self.touched)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            weights = pair_weights_sql(f"f.question_id IN ({marks})")
            self.conn.execute(
                f"UPDATE forecasts SET weight = w.weight FROM ({weights}) AS w "
                "WHERE w.id = forecasts.id AND forecasts.weight IS NOT w.weight",
                chunk,
            )
            self.conn.execute(
                f"UPDATE questions SET forecasters = ({chain.FORECASTERS_SQL}) WHERE id IN ({marks})", chunk
            )
        self.touched.clear()

    def _resolution_row(self, resolution: Resolution, entries: list[tuple]) -> tuple:
        record = resolution.to_record()
        entries.append(self.chain.entry("resolution", resolution.question_id, record, self.next_rid))
        row = (self.next_rid, *_RESOLUTION_ROW(record))
        self.next_rid += 1
        return row

    def _insert_resolutions(self, rows: list[tuple]) -> None:
        for marks, values in _multirow(rows, self.parameters):
            self.conn.execute(f"INSERT INTO resolutions ({_RESOLUTION_INSERT}) VALUES {marks}", values)

    def _insert_entries(self, rows: list[tuple]) -> None:
        for marks, values in _multirow(rows, self.parameters):
            self.conn.execute(f"INSERT INTO entries ({_ENTRY_INSERT}) VALUES {marks}", values)
