"""Importing records into a ledger: validated, checked against what is there, written in one transaction.

`Ledger.import_records` (and `add`, `seeds` and the first write's merge into a ledger another process
created meanwhile) come here. `_validated` is the one place a record is validated
(`records.forecast_from_record`); `_write` joins records to questions already recorded and writes them.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections import Counter
from typing import TYPE_CHECKING, Any, Iterable

import attrs

from . import chain
from .errors import LedgerError, ValidationError
from .migrations import SECONDARY_INDEXES
from .model import Question, Resolution
from .records import QUESTION_KEYS, forecast_from_record
from .writer import Item, Writer

if TYPE_CHECKING:
    from .store import Ledger

BATCH_SIZE = 2000
_NO_FORECAST = None  # an Item read back from the ledger carries its question, not a forecast


@attrs.frozen
class ImportSummary:
    forecasts: int
    resolutions: int
    head: str
    questions: int = 0


QUESTION_FIELDS_SQL = f"SELECT {chain.QUESTION_SELECT} FROM questions q"  # through its primary key only
HISTORY_SQL = (
    f"SELECT {chain.RESOLUTION_SELECT} FROM resolutions r INDEXED BY resolutions_question "
    "WHERE r.question_id = ? ORDER BY r.id"
)


def import_records(ledger: Ledger, records: Iterable[tuple[str, Any]], *, recorded_at: str, today: dt.date) -> ImportSummary:
    """`Ledger.import_records` once its `recorded_at` and `today` are checked."""
    forecasts = resolutions = questions = 0
    with ledger._writing() as written:
        writer = Writer.of(ledger.conn)
        bulk = writer.chain.seq == 0 and ledger.count() == 0
        # Without the secondary indexes (a bulk load), a question's history cannot be read
        # back cheaply: a record repeating it is checked once they are rebuilt, at the end.
        deferred: list[tuple[str, Item]] | None = [] if bulk else None
        if bulk:
            _drop_secondary_indexes(ledger)
        batch: list[Item] = []
        for where, record in records:
            batch.append(_validated(where, record, recorded_at, today))
            if len(batch) >= BATCH_SIZE:
                counts = _write(ledger, batch, writer=writer, refresh=False, deferred=deferred)
                forecasts, questions, resolutions = forecasts + counts[0], questions + counts[1], resolutions + counts[2]
                batch = []
        counts = _write(ledger, batch, writer=writer, refresh=False, deferred=deferred)
        forecasts, questions, resolutions = forecasts + counts[0], questions + counts[1], resolutions + counts[2]
        if bulk:
            _create_secondary_indexes(ledger)
            for question_id, item in deferred:
                _check_same_history(_history_of(ledger, question_id), item)
        writer.refresh()
    head = written.head or writer.chain.prev
    return ImportSummary(forecasts=forecasts, resolutions=resolutions, head=head, questions=questions)


def _validated(where: str | None, record: Any, recorded_at: str, today: dt.date, typed: bool = False) -> Item:
    try:
        question, forecast, history = forecast_from_record(record, recorded_at=recorded_at, today=today, typed=typed)
    except ValidationError as exc:
        raise exc.located(where) if where else exc from None
    return Item(where, question, forecast, tuple(history))


def _write(ledger: Ledger, items: list[Item], *, writer: Writer | None = None, refresh: bool = True,
           derived_id: bool = False, deferred: list[tuple[str, Item]] | None = None) -> tuple[int, int, int]:  # fmt: skip
    """Write items whose questions may already exist (in the ledger or earlier in `items`):
    such an item's question must be the same, and it then joins it. Inside a transaction.
    Returns (forecasts, new questions, resolutions) written."""
    if not items:
        return 0, 0, 0
    writer = writer or Writer.of(ledger.conn)
    existing = _existing_questions(ledger, {item.question.id for item in items})
    seen: dict[str, Item] = {}
    joined = []
    for item in items:
        qid = item.question.id
        earlier = seen.get(qid) or existing.get(qid)
        if earlier is None:
            seen[qid] = item
            joined.append(item)
            continue
        if item.forecast.id == qid:  # only a question's first forecast has its id: this one is again
            raise _explain_refusal(ledger, items[: items.index(item) + 1], None, derived_id) from None
        try:
            _check_same_question(earlier, item)
            if item.history and earlier.history is None:  # a question read back from the ledger
                if deferred is not None:
                    deferred.append((qid, item))
                else:
                    _check_same_history(_history_of(ledger, qid), item)
            elif item.history:
                _check_same_history(earlier.history, item)
        except ValidationError:
            if ledger._is_forecast(item.forecast.id):  # the forecast itself is there: say that first
                raise _explain_refusal(ledger, [item], None, derived_id) from None
            raise
        joined.append(attrs.evolve(item, question=None, history=()))
    ledger.conn.execute("SAVEPOINT batch")
    try:
        writer.write(joined)
    except sqlite3.IntegrityError as exc:
        ledger.conn.execute("ROLLBACK TO batch")
        raise _explain_refusal(ledger, items, exc, derived_id) from None
    ledger.conn.execute("RELEASE batch")
    per_question = Counter(i.forecast.question_id for i in joined)  # one pass: a scan per question was quadratic
    writer.touched.update(qid for qid in seen if per_question[qid] > 1)
    if refresh:
        writer.refresh()
    new = [i for i in joined if i.question is not None]
    return len(items), len(new), sum(len(i.history) for i in new)


def _existing_questions(ledger: Ledger, ids: set[str]) -> dict[str, Item]:
    """The questions among `ids` already in the ledger, as Items (the history not read: None)."""
    found: dict[str, Item] = {}
    ordered = sorted(ids)
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        marks = ", ".join("?" * len(chunk))
        cursor = ledger.conn.execute(f"{QUESTION_FIELDS_SQL} WHERE q.id IN ({marks})", chunk)
        cursor.row_factory = sqlite3.Row
        for row in cursor:
            with ledger._stored(row["id"]):
                question = Question.from_record(chain.question_record_from_row(row))
            found[question.id] = Item(None, question, _NO_FORECAST, None)
    return found


def _history_of(ledger: Ledger, question_id: str) -> tuple[Resolution, ...]:
    cursor = ledger.conn.execute(HISTORY_SQL, [question_id])
    cursor.row_factory = sqlite3.Row
    with ledger._stored(question_id):
        return tuple(Resolution.from_record(chain.resolution_record_from_row(row)) for row in cursor)


# A bulk load into an empty ledger builds the secondary indexes once, sorted, at the end, rather
# than inserting into them row by row. Both happen inside the import's transaction: other
# connections never see the ledger without them, and a failed or killed import leaves them as
# they were. The statements are the migrations' own (migrations.SECONDARY_INDEXES; a test
# compares the schema of a ledger loaded this way with that of a fresh one).

def _drop_secondary_indexes(ledger: Ledger) -> None:
    for name in SECONDARY_INDEXES:
        ledger.conn.execute(f"DROP INDEX {name}")


def _create_secondary_indexes(ledger: Ledger) -> None:
    for statement in SECONDARY_INDEXES.values():
        ledger.conn.execute(statement)


def _explain_refusal(ledger: Ledger, items: list[Item], exc: sqlite3.IntegrityError | None, derived_id: bool) -> LedgerError:
    """Name the record behind a database refusal (almost always a duplicate id)."""
    ids = [item.forecast.id for item in items]
    existing = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ", ".join("?" * len(chunk))
        existing.update(r[0] for r in ledger.conn.execute(f"SELECT id FROM forecasts WHERE id IN ({marks})", chunk))
    seen: Counter[str] = Counter()
    for item in items:
        forecast_id = item.forecast.id
        seen[forecast_id] += 1
        if forecast_id in existing:
            if derived_id:  # `add` without --id: the id is the content's, so the content is there
                return ValidationError(None, f"the same forecast is already recorded, as {forecast_id}", item.where)
            return ValidationError("id", f"{forecast_id!r} is already in the ledger", item.where)
        if seen[forecast_id] > 1:
            return ValidationError("id", f"{forecast_id!r} appears twice in this input", item.where)
    return LedgerError(f"the database refused the change ({exc}); nothing was written")


def _check_same_question(earlier: Item, item: Item) -> None:
    """A record on a question already recorded (`earlier`) must say the same of it."""
    old, new = earlier.question.to_record(), item.question.to_record()
    for key in QUESTION_KEYS:
        if old[key] != new[key]:
            raise ValidationError(
                key, f"is {new[key]!r} but question {item.question.id} has {old[key]!r} "
                f"(records sharing a question_id carry the same question)", item.where,
            )  # fmt: skip


def _check_same_history(history: tuple[Resolution, ...], item: Item) -> None:
    """A record repeating its question's resolution history must repeat it exactly."""
    if [r.to_record() for r in item.history] != [r.to_record() for r in history]:
        raise ValidationError(
            "resolutions", f"differ from question {item.question.id}'s recorded history "
            "(records sharing a question_id carry the same resolutions)", item.where,
        )  # fmt: skip

