"""Importing records into a ledger: validated, checked against what is there, written in one transaction.

`Ledger.import_records` (and `add`, `seeds` and the first write's merge into a ledger another process
created meanwhile) come here. `_validated` is the one place a record is validated
(`records.forecast_from_record`, after `fast_records` for the common record); `_write` joins
records to questions already recorded and writes them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import sqlite3
import threading
import weakref
from collections import Counter
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator

import attrs

from . import chain, fast_records
from .errors import LedgerError, ValidationError, shown
from .migrations import SECONDARY_INDEXES
from .model import Forecast, Question, Resolution, check_resolution, parse_date
from .records import QUESTION_KEYS, forecast_from_record
from .writer import Item, Writer

if TYPE_CHECKING:
    from .store import Ledger

BATCH_SIZE = 2000
# The cyclic collector's first threshold while an import runs (see `_rare_collections`).
IMPORT_GC_THRESHOLD = 50_000
MAX_DIFFERENCES = 1000  # listed in a summary; beyond that only counted
PLATFORMS = ("fatebook", "predictionbook", "metaculus", "manifold")  # what `import --from` reads (.platforms)
_NO_FORECAST = None  # an Item read back from the ledger carries its question, not a forecast


@attrs.frozen
class ImportDifference:
    """A record already in the ledger that the file says otherwise about, kept as it was recorded:
    `id` is the question's or forecast's, `where` the file's line, `fields` what differs."""

    id: str
    where: str | None
    fields: tuple[str, ...]
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "where": self.where, "fields": list(self.fields), "reason": self.reason}


@attrs.frozen
class ImportSummary:
    """What an import wrote: `forecasts`, `questions` (new ones) and `resolutions` added,
    `corrections` recorded (a platform's resolution that changed), `skipped_existing` records
    already in the ledger with the same content, `differs` those kept as recorded although the
    file says otherwise (the first MAX_DIFFERENCES of `differs_total`), and `skipped` what a platform file held that is not imported
    ({"multiple-choice questions": 4}); `head` is the chain head after it."""

    forecasts: int
    resolutions: int
    head: str
    questions: int = 0
    corrections: int = 0
    skipped_existing: int = 0
    differs: tuple[ImportDifference, ...] = ()
    differs_total: int = 0
    skipped: dict[str, int] = attrs.field(factory=dict)
    platform: str | None = None

    @property
    def platform_name(self) -> str | None:
        """The platform as it spells itself: "Fatebook", "PredictionBook", ..."""
        from .platforms.records import NAMES

        return NAMES[self.platform] if self.platform else None

    def skipped_lines(self) -> list[str]:
        """The platform's skipped kinds in words: ["skipped 4 multiple-choice questions", ...]."""
        from .platforms.common import Skipped  # loaded only where a summary is shown

        skipped = Skipped()
        for what, n in self.skipped.items():
            skipped.add(what, n)
        return skipped.lines()

    def to_json(self) -> dict[str, Any]:
        """The `--json` summary; its keys are documented in docs/import.md and stay as they are."""
        return {
            "forecasts": self.forecasts, "questions": self.questions, "resolutions": self.resolutions,
            "corrections": self.corrections, "skipped_existing": self.skipped_existing,
            "differs": [d.to_json() for d in self.differs], "differs_total": self.differs_total,
            "skipped": dict(self.skipped),
            "platform": self.platform, "head": self.head,
        }  # fmt: skip


QUESTION_FIELDS_SQL = f"SELECT {chain.QUESTION_SELECT} FROM questions q"  # through its primary key only
HISTORY_SQL = (
    f"SELECT {chain.RESOLUTION_SELECT} FROM resolutions r INDEXED BY resolutions_question "
    "WHERE r.question_id = ? ORDER BY r.id"
)


def import_records(
    ledger: Ledger, records: Iterable[tuple[str, Any]], *, recorded_at: str, today: dt.date,
    skip_existing: bool = False, platform: str | None = None, skipped: Callable[[], dict[str, int]] | None = None,
) -> ImportSummary:
    """`Ledger.import_records` once its `recorded_at` and `today` are checked.

    `skip_existing` (the own format): a record whose forecast is already in the ledger with the
    same content is skipped and counted; with other content it is refused. `platform` (records
    from `platforms.records.to_records`): the re-import rules of docs/import.md, `_Rules`.
    `skipped`: called once the records are read, the platform parser's skipped kinds."""
    forecasts = resolutions = questions = 0
    # Two imports of one export racing to create a ledger: the loser's replay skips what the winner wrote.
    with _rare_collections(), ledger._writing(skip_existing=skip_existing or platform is not None) as written:
        writer = Writer.of(ledger.conn)
        bulk = writer.chain.seq == 0 and ledger.count() == 0
        rules = _Rules(ledger, platform, today, bulk) if skip_existing or platform else None
        # Without the secondary indexes (a bulk load), a question's history cannot be read
        # back cheaply: a record repeating it is checked once they are rebuilt, at the end.
        deferred: list[tuple[str, Item]] | None = [] if bulk else None
        if bulk:
            _drop_secondary_indexes(ledger)
        batch: list[Item] = []
        for where, record in records:
            batch.append(_validated(where, record, recorded_at, today))
            if len(batch) >= BATCH_SIZE:
                counts = _write(ledger, batch, writer=writer, refresh=False, deferred=deferred, rules=rules)
                forecasts, questions, resolutions = forecasts + counts[0], questions + counts[1], resolutions + counts[2]
                batch = []
        counts = _write(ledger, batch, writer=writer, refresh=False, deferred=deferred, rules=rules)
        forecasts, questions, resolutions = forecasts + counts[0], questions + counts[1], resolutions + counts[2]
        if bulk:
            _create_secondary_indexes(ledger)
            for question_id, item in deferred:
                _check_same_history(_history_of(ledger, question_id), item)
        writer.refresh()
    head = written.head or writer.chain.prev
    summary = ImportSummary(forecasts=forecasts, resolutions=resolutions, head=head, questions=questions,
                            skipped=skipped() if skipped else {}, platform=platform)  # fmt: skip
    if rules is None:
        return summary
    return attrs.evolve(summary, resolutions=resolutions + rules.resolutions, corrections=rules.corrections,
                        skipped_existing=rules.skipped, differs=tuple(rules.differs),
                        differs_total=rules.differs_total)  # fmt: skip


@contextlib.contextmanager
def _rare_collections() -> Iterator[None]:
    """The cyclic garbage collector runs rarely while an import runs, and as before after it.

    An import allocates and frees a dozen containers a record (values, records, rows) and keeps a
    batch of them; at the default threshold (700 more allocations than frees) the collector ran
    every few dozen records and re-scanned the batch each time, 4-5% of an import's CPU. Nothing
    an import keeps forms a cycle, so those runs found nothing. It stays enabled: garbage cycles,
    if any formed, still trigger it once IMPORT_GC_THRESHOLD of them pile up, so memory stays bounded.
    The threshold is the process's: imports in several threads (or nested) share one raised
    threshold, and the last to end restores the one the first found.
    """
    global _imports_running, _threshold_before
    with _threshold_lock:
        if _imports_running == 0:
            _threshold_before = gc.get_threshold()
            if 0 < _threshold_before[0] < IMPORT_GC_THRESHOLD:  # 0: collection is off, and stays off
                gc.set_threshold(IMPORT_GC_THRESHOLD, *_threshold_before[1:])
        _imports_running += 1
    try:
        yield
    finally:
        with _threshold_lock:
            _imports_running -= 1
            if _imports_running == 0:
                gc.set_threshold(*_threshold_before)


_threshold_lock = threading.Lock()
_imports_running = 0
_threshold_before = gc.get_threshold()


def import_platform(
    ledger: Ledger, platform: str, paths: Any, *, source: str | None, progress: Callable[[int], None] | None,
    recorded_at: str, today: dt.date,
) -> ImportSummary:
    """`Ledger.import_platform`: read with `platforms.read_platform`, written with the re-import rules."""
    from .platforms import read_platform
    from .platforms.records import in_file_terms, to_records

    batch = read_platform(platform, paths, source=source, progress=progress)  # an unknown platform: refused here
    try:
        return import_records(ledger, to_records(batch), recorded_at=recorded_at, today=today, platform=platform,
                              skipped=lambda: dict(batch.skipped.counts))  # fmt: skip
    except ValidationError as exc:  # the parsers name the file's fields; the ledger's rules its own
        raise in_file_terms(platform, exc) from None


def _validated(where: str | None, record: Any, recorded_at: str, today: dt.date, typed: bool = False) -> Item:
    # The common import record first (fast_records: the same converters and checks, and None,
    # so that this runs the one checker, for anything else and for every refusal).
    fast = None if typed else fast_records.validated(record, recorded_at=recorded_at, today=today)
    if fast is not None:
        return Item(where, fast[0], fast[1], tuple(fast[2]))
    try:
        question, forecast, history = forecast_from_record(record, recorded_at=recorded_at, today=today, typed=typed)
    except ValidationError as exc:
        raise exc.located(where) if where else exc from None
    return Item(where, question, forecast, tuple(history))


def _write(ledger: Ledger, items: list[Item], *, writer: Writer | None = None, refresh: bool = True,
           derived_id: bool = False, deferred: list[tuple[str, Item]] | None = None,
           rules: _Rules | None = None) -> tuple[int, int, int]:  # fmt: skip
    """Write items whose questions may already exist (in the ledger or earlier in `items`):
    such an item's question must be the same, and it then joins it. Inside a transaction.
    `rules` first sets aside what the re-import rules skip. Returns (forecasts, new questions,
    resolutions) written."""
    if rules is not None:
        items = rules.sift(items)
    if not items:
        if rules is not None:
            rules.flush(writer)
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
    if rules is not None:
        rules.flush(writer)  # after the batch's forecasts: a resolution follows what it settles
    per_question = Counter(i.forecast.question_id for i in joined)  # one pass: a scan per question was quadratic
    writer.touched.update(qid for qid in seen if per_question[qid] > 1)
    if refresh:
        writer.refresh()
    new = [i for i in joined if i.question is not None]
    return len(items), len(new), sum(len(i.history) for i in new)


class _Rules:
    """The re-import rules (docs/import.md), applied to each batch before it is written.

    Only what was in the ledger before this import counts as there (rows up to the rowids it
    started from): a record repeated within the file is refused as today, never skipped.
    Own format (`platform` None, `--skip-existing`): a record whose forecast is there with the
    same content (every field but recorded_at; its question's fields; its history, if it gives
    one) is skipped; with other content it is refused, naming the field. A platform file: a
    forecast already there is skipped (or, if it differs, kept as recorded and reported); on a
    question already there, an edit of its fields is reported, a first resolution is added, and
    a resolution whose outcome or date changed is recorded as a correction "changed on PLATFORM".
    """

    def __init__(self, ledger: Ledger, platform: str | None, today: dt.date, bulk: bool):
        self.ledger, self.platform, self.today = ledger, platform, today
        if platform is not None:
            from .platforms.keys import KeyStore
            from .platforms.records import NAMES, from_platform

            self.name, self._from_platform = NAMES[platform], from_platform
            # the questions already reported as edited ("edited\n" + id), as resolved here but open
            # on the platform ("open\n"), and given a resolution by this file ("resolved\n"): a
            # KeyStore, whose memory stays flat however many questions a re-import touches
            self._marks = KeyStore()
            weakref.finalize(self, self._marks.close)
        conn = ledger.conn
        # a bulk load starts from an empty ledger: nothing was there before it
        self.last_forecast = 0 if bulk else conn.execute("SELECT coalesce(max(rowid), 0) FROM forecasts").fetchone()[0]
        self.last_question = 0 if bulk else conn.execute("SELECT coalesce(max(rowid), 0) FROM questions").fetchone()[0]
        self.skipped = self.corrections = self.resolutions = 0
        self.differs: list[ImportDifference] = []  # the first MAX_DIFFERENCES; differs_total counts all
        self.differs_total = 0
        self._pending: list[Resolution] = []

    def sift(self, items: list[Item]) -> list[Item]:
        """The items to write; the rest are counted, reported or refused here."""
        if not self.last_forecast:
            return items
        known = self._forecasts({item.forecast.id for item in items})
        prior = self._questions({item.question.id for item in items})
        kept = []
        for item in items:
            if self.platform is None:
                stored = known.get(item.forecast.id)
                if stored is None:
                    kept.append(item)
                else:
                    self._same_record(stored, prior.get(stored.question_id), item)
                    self.skipped += 1
                continue
            on_prior = prior.get(item.question.id)
            joined = self._on_question(on_prior, item) if on_prior is not None else item
            stored = known.get(item.forecast.id)
            if stored is not None:
                fields = _differing(stored.to_record(), item.forecast.to_record(), _PLATFORM_FORECAST_KEYS)
                if fields:
                    self._differ(ImportDifference(stored.id, item.where, fields,
                                                   f"forecast changed on {self.name}; kept as recorded"))  # fmt: skip
                else:
                    self.skipped += 1
            elif on_prior is not None and item.forecast.made_on > on_prior[0].deadline:  # after an edited deadline
                self._differ(ImportDifference(item.forecast.id, item.where, ("made_on",), (
                    f"made after the question's recorded deadline {on_prior[0].deadline}; not imported")))  # fmt: skip
            else:
                kept.append(joined)
        return kept

    def _differ(self, difference: ImportDifference) -> None:
        self.differs_total += 1
        if len(self.differs) < MAX_DIFFERENCES:  # memory stays bounded whatever the file says
            self.differs.append(difference)

    def flush(self, writer: Writer | None) -> None:
        writer = writer or Writer.of(self.ledger.conn)
        for resolution in self._pending:
            writer.resolve(resolution)
        self._pending.clear()

    def _same_record(self, stored: Forecast, question: tuple[Question, str | None] | None, item: Item) -> None:
        """An own-format record whose forecast is there: the same content, or refused."""
        old, new = stored.to_record(), item.forecast.to_record()
        fields = _differing(old, new, Forecast.FIELDS)
        if not fields and question is not None:
            old, new = question[0].to_record(), item.question.to_record()
            fields = _differing(old, new, QUESTION_KEYS)
        if fields:
            field = fields[0]
            raise ValidationError(
                field, f"{stored.id!r} is already in the ledger with {field} {shown(old[field])}, here "
                f"{shown(new[field])} (--skip-existing skips only identical records)", item.where,
            )  # fmt: skip
        if item.history:
            recorded = _history_of(self.ledger, stored.question_id)
            if [_content(r) for r in recorded] != [_content(r) for r in item.history]:
                raise ValidationError("resolutions", f"{stored.id!r} is already in the ledger with other "
                                      "resolutions (--skip-existing skips only identical records)", item.where)  # fmt: skip

    def _on_question(self, prior: tuple[Question, str | None], item: Item) -> Item:
        """A platform record on a question recorded before: the question's fields stay as recorded
        (an edit is reported), its resolution is brought up to date, and a new forecast joins it."""
        question, outcome = prior
        qid = question.id
        fields = _differing(question.to_record(), item.question.to_record(), QUESTION_KEYS)
        if fields and self._marks.add("edited\n" + qid):
            self._differ(ImportDifference(qid, item.where, fields, f"question edited on {self.name}; kept as recorded"))
        if item.history:
            self._marks.add("resolved\n" + qid)
            self._resolve(question, item)
        elif outcome is not None and "resolved\n" + qid not in self._marks and self._marks.add("open\n" + qid):
            self._differ(ImportDifference(qid, item.where, ("outcome",),
                                           f"resolved {outcome} in the ledger, open on {self.name}; kept as recorded"))  # fmt: skip
        return attrs.evolve(item, question=question, history=())

    def _resolve(self, question: Question, item: Item) -> None:
        new = item.history[-1]
        recorded = _history_of(self.ledger, question.id)
        current = recorded[-1] if recorded else None
        if current is not None and (current.outcome, current.resolved_on) == (new.outcome, new.resolved_on):
            return  # the same resolution (its evidence's wording is not compared)
        if any((r.outcome, r.resolved_on) == (new.outcome, new.resolved_on) for r in recorded[:-1]):
            # a state the ledger has already moved on from: an older export, which never undoes a correction
            self._differ(ImportDifference(question.id, item.where, ("outcome", "resolved_on"), (
                f"resolved {new.outcome} on {new.resolved_on} on {self.name}, as the ledger had it before its "
                f"{current.outcome} on {current.resolved_on} (an older export?); kept as recorded")))  # fmt: skip
            return
        if current is not None and not self._from_platform(self.platform, current.evidence):
            # resolved by hand in the ledger: the platform did not change it, and it is not overwritten
            self._differ(ImportDifference(question.id, item.where, ("outcome", "resolved_on"), (
                f"resolved {current.outcome} on {current.resolved_on} in the ledger (not from {self.name}), "
                f"{new.outcome} on {new.resolved_on} on {self.name}; kept as recorded")))  # fmt: skip
            return
        if current is not None:
            new = attrs.evolve(new, correction_reason=f"changed on {self.name}")
        first_made_on = self.ledger.conn.execute(
            "SELECT min(made_on) FROM forecasts WHERE question_id = ?", [question.id]
        ).fetchone()[0]
        try:
            check_resolution(question, parse_date(first_made_on, "made_on"), current, new, self.today)
        except ValidationError as exc:
            raise exc.located(item.where) from None
        self._pending.append(new)
        if current is None:
            self.resolutions += 1
        else:
            self.corrections += 1

    def _forecasts(self, ids: set[str]) -> dict[str, Forecast]:
        found = {}
        for chunk in _chunks(sorted(ids)):
            marks = ", ".join("?" * len(chunk))
            cursor = self.ledger.conn.execute(
                f"SELECT {chain.FORECAST_SELECT} FROM {chain.FORECAST_FROM} WHERE f.id IN ({marks}) AND f.rowid <= ?",
                [*chunk, self.last_forecast],
            )
            cursor.row_factory = sqlite3.Row
            for row in cursor:
                with self.ledger._stored(row["id"]):
                    found[row["id"]] = Forecast.from_record(chain.forecast_record_from_row(row))
        return found

    def _questions(self, ids: set[str]) -> dict[str, tuple[Question, str | None]]:
        """The questions among `ids` recorded before this import, with their current outcome."""
        found = {}
        for chunk in _chunks(sorted(ids)):
            marks = ", ".join("?" * len(chunk))
            cursor = self.ledger.conn.execute(
                f"SELECT {chain.QUESTION_SELECT}, q.outcome AS current_outcome FROM questions q "
                f"WHERE q.id IN ({marks}) AND q.rowid <= ?",
                [*chunk, self.last_question],
            )
            cursor.row_factory = sqlite3.Row
            for row in cursor:
                with self.ledger._stored(row["id"]):
                    found[row["id"]] = (Question.from_record(chain.question_record_from_row(row)), row["current_outcome"])
        return found


# A platform forecast's own content: its claim and document are its question's title and URL,
# whose edit is reported once, on the question, not again on each forecast.
_PLATFORM_FORECAST_KEYS = tuple(k for k in Forecast.FIELDS if k not in ("claim", "document"))


def _chunks(ids: list[str], size: int = 500) -> Iterator[list[str]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _differing(old: dict[str, Any], new: dict[str, Any], keys: Iterable[str]) -> tuple[str, ...]:
    return tuple(k for k in keys if k != "recorded_at" and old[k] != new[k])


def _content(resolution: Resolution) -> dict[str, Any]:
    return {k: v for k, v in resolution.to_record().items() if k != "recorded_at"}


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

