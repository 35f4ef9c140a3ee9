"""The hash chain that makes the ledger tamper-evident: building its entries, and verifying them.

Every change to what the ledger says (a question, a forecast, a resolution, a correction) is an
entry: its payload is the canonical JSON of the value's record (see `model.canonical_json`), and

    hash = sha256( prev_hash + "\\n" + payload )   (UTF-8, lower-case hex; the first prev_hash is 64 zeros)

so each hash commits to the entry and to everything before it. Entries are built here
(`Chain.entry`) and checked here (`verify`), from the same record functions, so the rule that
writes a payload is the rule that reads it back.

Payload shapes (the entry's `shape`): a forecast of shape 1 holds its own question's fields too
(the question has the forecast's id). Every forecast written before the question model (migration
m004) has that shape, and so does every question recorded together with its first forecast since,
so a lone forecast's payload is what it always was. A forecast of shape 2 names a question
recorded before (`question_id`): another source's forecast on it, or an update; a question whose
id is not its first forecast's is an entry of its own (kind `question`). A resolution of shape 1
(before m004) names `forecast_id`, of shape 2 `question_id`. Entries are never rewritten, so
every head published before stays valid; `verify` checks each entry in its shape.
docs/integrity.md explains what this proves and what it cannot.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from typing import Any, Callable

import attrs

from .errors import ValidationError
from .model import Document, Forecast, Question, Resolution, canonical_json

GENESIS = "0" * 64
INTEGRITY_MESSAGES = 20  # PRAGMA integrity_check stops after this many

# Column lists, derived from the attrs classes: a record's key is its column's name, except the
# document (a row of its own, referred to by document_id) and the tags (a table of their own).
QUESTION_COLUMNS = tuple(name for name in Question.FIELDS if name != "tags")
FORECAST_COLUMNS = tuple("document_id" if name == "document" else name for name in Forecast.FIELDS)
RESOLUTION_COLUMNS = Resolution.FIELDS
DOCUMENT_COLUMNS = ("id", *Document.FIELDS)
ENTRY_COLUMNS = ("seq", "kind", "shape", "subject_id", "resolution_id", "payload", "prev_hash", "hash")
_BOOLEANS = frozenset({"deadline_assumed", "published_on_estimated"})

QUESTION_SELECT = (
    ", ".join(f"q.{c}" for c in QUESTION_COLUMNS)
    + ", (SELECT json_group_array(tag) FROM (SELECT tag FROM question_tags t WHERE t.question_id = q.id "
    "ORDER BY tag)) AS tags_json"
)
FORECAST_SELECT = ", ".join(
    [f"f.{c}" for c in FORECAST_COLUMNS] + [f"d.{c} AS d_{c}" for c in Document.FIELDS]
)
FORECAST_FROM = "forecasts f LEFT JOIN documents d ON d.id = f.document_id"
RESOLUTION_SELECT = ", ".join(f"r.{c}" for c in RESOLUTION_COLUMNS)
# The same columns prefixed, to read a forecast and its question in one row.
QUESTION_SELECT_PREFIXED = (
    ", ".join(f"q.{c} AS q_{c}" for c in QUESTION_COLUMNS)
    + ", (SELECT json_group_array(tag) FROM (SELECT tag FROM question_tags t WHERE t.question_id = q.id "
    "ORDER BY tag)) AS q_tags_json"
)


# A forecast without a claim of its own (an update, or another source's) is shown by the claim of
# its question's first forecast that has one; looked up only for such a forecast.
FIRST_CLAIM = """CASE WHEN f.claim IS NULL THEN (SELECT o.claim FROM forecasts o
    WHERE o.question_id = f.question_id AND o.claim IS NOT NULL ORDER BY o.rowid LIMIT 1) END"""


def chain_hash(prev_hash: str, payload: str) -> str:
    return hashlib.sha256(f"{prev_hash}\n{payload}".encode("utf-8")).hexdigest()


def published_hash(value: Any) -> str:
    """A head hash as published: 64 hexadecimal digits; case and surrounding blanks do not matter."""
    text = value.strip().lower() if isinstance(value, str) else ""
    if not re.fullmatch(r"[0-9a-f]{64}", text):
        raise ValidationError("contains", "a chain hash is 64 hexadecimal digits, as a published head is")
    return text


def _bool(name: str, value: Any) -> Any:
    return bool(value) if name in _BOOLEANS and value in (0, 1) else value


def question_record_from_row(row: Any, prefix: str = "") -> dict[str, Any]:
    """Question.to_record() rebuilt from a QUESTION_SELECT row, without validating it."""
    record = {c: _bool(c, row[prefix + c]) for c in QUESTION_COLUMNS}
    record["tags"] = json.loads(row[prefix + "tags_json"])
    return record


def forecast_record_from_row(row: Any) -> dict[str, Any]:
    """Forecast.to_record() rebuilt from a FORECAST_SELECT row, without validating it."""
    record = {}
    for column in FORECAST_COLUMNS:
        if column == "document_id":
            record["document"] = None if row["document_id"] is None else {
                c: _bool(c, row[f"d_{c}"]) for c in Document.FIELDS
            }
        else:
            record[column] = row[column]
    return record


def resolution_record_from_row(row: Any) -> dict[str, Any]:
    return {c: row[c] for c in RESOLUTION_COLUMNS}


def v1_forecast_record(question: dict[str, Any], forecast: dict[str, Any]) -> dict[str, Any]:
    """A shape-1 forecast payload: the forecast with its question's fields, without question_id."""
    record = {**question, **forecast}
    del record["question_id"]
    return record


def v1_resolution_record(resolution: dict[str, Any]) -> dict[str, Any]:
    """A shape-1 resolution payload names the forecast (whose id its question took)."""
    record = dict(resolution)
    record["forecast_id"] = record.pop("question_id")
    return record


@attrs.define
class Chain:
    """The chain's state while entries are appended: the last seq and hash."""

    seq: int
    prev: str

    @classmethod
    def of(cls, conn: sqlite3.Connection) -> "Chain":
        row = conn.execute("SELECT seq, hash FROM entries ORDER BY seq DESC LIMIT 1").fetchone()
        return cls(*row) if row else cls(0, GENESIS)

    def entry(self, kind: str, subject_id: str, record: dict[str, Any], resolution_id: int | None = None,
              shape: int = 2) -> tuple:  # fmt: skip
        """The entries row that records `record` (a value's to_record(), or v1_forecast_record()),
        chained after the last."""
        payload = canonical_json(record)
        digest = chain_hash(self.prev, payload)
        self.seq += 1
        row = (self.seq, kind, shape, subject_id, resolution_id, payload, self.prev, digest)
        self.prev = digest
        return row


# --- verification ---------------------------------------------------------------------------


@attrs.frozen
class Problem:
    seq: int | None  # the chain entry concerned, where there is one
    forecast_id: str | None
    message: str
    question_id: str | None = None

    def __str__(self) -> str:
        where = f"entry {self.seq}" if self.seq is not None else "ledger"
        if self.forecast_id:
            about = f" (forecast {self.forecast_id})"
        elif self.question_id:
            about = f" (question {self.question_id})"
        else:
            about = ""
        return f"{where}{about}: {self.message}"


@attrs.frozen
class Verification:
    entries: int
    forecasts: int
    resolutions: int
    head: str
    problems: tuple[Problem, ...]
    contains: str | None = None  # a published hash checked for, if any
    contains_found: bool | None = None
    questions: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems and self.contains_found is not False

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "questions": self.questions,
            "forecasts": self.forecasts,
            "resolutions": self.resolutions,
            "head": self.head,
            "first_problem": str(self.problems[0]) if self.problems else None,
            "problems": [
                {"entry": p.seq, "forecast_id": p.forecast_id, "question_id": p.question_id, "message": p.message}
                for p in self.problems
            ],
            "contains": self.contains,
            "contains_found": self.contains_found,
        }


def _zero(value: Any) -> Any:
    """-0.0 as 0.0, everywhere in a record: SQLite keeps no negative zero, so neither side may."""
    if isinstance(value, float) and value == 0.0:
        return 0.0
    if isinstance(value, dict):
        return {k: _zero(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_zero(v) for v in value]
    return value


# What a payload or a row edited with raw SQL can make the JSON functions raise: NaN or infinity
# (ValueError), bytes (TypeError), nesting deeper than Python's recursion limit (RecursionError).
_UNREADABLE = (TypeError, ValueError, RecursionError)


def _canonical(value: Any) -> str | None:
    try:
        return canonical_json(_zero(value))
    except _UNREADABLE:
        return None


def _canonical_as_is(value: Any) -> str | None:
    """canonical_json without the -0.0 normalisation: the form the payload was written in."""
    try:
        return canonical_json(value)
    except _UNREADABLE:
        return None


def _parsed(payload: Any) -> Any:
    try:
        return json.loads(payload)
    except _UNREADABLE:
        return None


def _mismatch(stored: dict[str, Any], payload: Any) -> str | None:
    """None if the table's record says what the chain's payload says, else what differs."""
    try:
        if canonical_json(stored) == payload:  # the fast path: byte-identical
            return None
    except _UNREADABLE:
        pass
    if not isinstance(payload, str):
        return f"the chain's payload is {_kind(payload)}, not text: the entry was edited"
    recorded = _parsed(payload)
    if not isinstance(recorded, dict):
        return "the chain's payload is not a JSON object (or is nested too deeply to read): the entry was edited"
    if _canonical_as_is(recorded) != payload:  # spacing, key order or a repeated key: readers may disagree
        return "the chain's payload is not canonical JSON: the entry was rewritten"
    text = _canonical(stored)
    if text is not None and text == _canonical(recorded):
        return None
    return _differences(stored, recorded)


def _differences(stored: dict[str, Any], recorded: dict[str, Any]) -> str:
    keys = sorted(set(stored) | set(recorded))
    changed = [k for k in keys if _canonical(stored.get(k)) != _canonical(recorded.get(k))
               or _canonical(stored.get(k)) is None]
    if not changed:
        return "differs from the chain"
    key = changed[0]
    more = f" (and {len(changed) - 1} more field{'s' if len(changed) > 2 else ''})" if len(changed) > 1 else ""
    return f"{key} is {_short(stored.get(key))} in the table but {_short(recorded.get(key))} in the chain{more}"


def _short(value: Any) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False)
    except _UNREADABLE:
        try:
            text = repr(value)[:60]
        except RecursionError:
            text = "(a value nested too deeply to show)"
    return text if len(text) <= 60 else text[:57] + "..."


def _kind(value: Any) -> str:
    return {bytes: "a blob", int: "a number", float: "a number", type(None): "null"}.get(type(value), type(value).__name__)


def verify(
    conn: sqlite3.Connection,
    *,
    contains: str | None = None,
    limit: int = 20,
    on_problem: Callable[[Problem], None] | None = None,
    reopen: Callable[[], sqlite3.Connection] | None = None,
) -> Verification:
    """Check the schema, the file's own integrity, the chain and every row against it.

    Collects up to `limit` problems; `on_problem` (if given) hears of each as soon as it is found,
    so a damaged schema is known before the long steps run. Every query here reads the tables in
    rowid order or through their primary keys (which no DROP INDEX can remove), so a dropped or
    added secondary index changes neither the answers nor how long they take.

    `reopen` (`sqlite_file.reopener`) opens a second connection to the file, exactly as `conn`
    was: the steps that are pure SQL then run on it in a thread, in the same snapshot, proven
    (verify_parallel), while `conn` reads the chain. `conn` must not yet have read anything in
    its current transaction (its first read below is its snapshot).
    """
    if contains is not None:
        contains = published_hash(contains)
    seen: set[Problem] = set()

    def heard(problem: Problem) -> None:
        if on_problem is not None and problem not in seen:  # once, even when the steps run again below
            seen.add(problem)
            on_problem(problem)

    try:
        return _verify(conn, contains, limit, heard, reopen)
    except sqlite3.OperationalError as exc:
        if "Could not decode" not in str(exc):
            raise
    # Some text in the file is not UTF-8. Read everything again with such bytes kept as lone
    # surrogates (they cannot match a payload the tool wrote, nor be hashed): slower, and only for
    # a damaged file.
    factory = conn.text_factory
    conn.text_factory = _lenient_text
    try:
        return _verify(conn, contains, limit, heard, None)  # sequential: rare, and only a damaged file
    finally:
        conn.text_factory = factory


def _lenient_text(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def _verify(conn, contains, limit, heard, reopen) -> Verification:
    # Only verify needs these: imported here, a command such as `list` (which imports this module
    # for its column lists) starts without them.
    from .schema_check import schema_differences
    from .verify_parallel import JOBS, SecondReader, Steps

    problems: list[Problem] = []

    def report(seq, forecast_id, message, question_id=None):
        if len(problems) < limit:
            if forecast_id is not None and not isinstance(forecast_id, str):  # a blob or a number, by raw SQL
                forecast_id = _short(forecast_id)
            if question_id is not None and not isinstance(question_id, str):
                question_id = _short(question_id)
            problem = Problem(seq, forecast_id, message, question_id)
            problems.append(problem)
            heard(problem)

    steps = Steps(report)
    counts = {"entries": 0, "questions": 0, "forecasts": 0, "resolutions": 0, "head": GENESIS, "found": False}

    # 1. The schema, first and fast: a missing or foreign object is named before the long steps.
    def schema():
        for difference in schema_differences(conn):
            report(None, None, difference)

    # 2. The file's own integrity: every index holds exactly the rows its definition says (an index
    #    edited through writable_schema, a swapped rootpage, one holding only some rows would
    #    change the answers of the queries that read through it), every page is sound, every
    #    CHECK holds. Linear in the file's size.
    def integrity():
        rows = [row[0] for row in rows_of("integrity")]
        if rows != ["ok"]:
            for message in rows:
                report(None, None, f"SQLite's integrity check: {message}")

    # 3. The chain itself: contiguous, linked, each hash matching its payload.
    def entries():
        prev, expected_seq, last_resolution_id = GENESIS, 1, 0
        for seq, kind, _shape, subject_id, resolution_id, payload, prev_hash, stored_hash in conn.execute(
            f"SELECT {', '.join(ENTRY_COLUMNS)} FROM entries ORDER BY seq"
        ):
            counts["entries"] += 1
            about = (subject_id, None) if kind == "forecast" else (None, subject_id)
            if seq != expected_seq:
                report(seq, about[0], f"the chain jumps from entry {expected_seq - 1} to {seq}: entries are missing", about[1])
            elif prev_hash != prev:
                report(seq, about[0], "does not follow the entry before it: an entry was removed, inserted or reordered", about[1])
            elif not isinstance(payload, str):
                report(seq, about[0], f"its payload is {_kind(payload)}, not text: the entry was edited", about[1])
            else:
                try:
                    matches = chain_hash(prev_hash, payload) == stored_hash
                except UnicodeEncodeError:  # bytes that are not UTF-8, read as lone surrogates
                    report(seq, about[0], "its payload is not valid UTF-8 text: the entry was edited", about[1])
                else:
                    if not matches:
                        report(seq, about[0], "its content does not match its hash: the entry was edited", about[1])
            if kind == "resolution":
                if not isinstance(resolution_id, int) or resolution_id <= last_resolution_id:
                    report(seq, None, "resolutions are out of order", subject_id)
                else:
                    last_resolution_id = resolution_id
            if contains is not None and stored_hash == contains:
                counts["found"] = True
            prev, expected_seq = stored_hash, seq + 1
        counts["head"] = prev if isinstance(prev, str) else _short(prev)  # a blob or number, by raw SQL

    # 4. Every question recorded in an entry of its own is in the tables exactly as recorded.
    def questions():
        cursor = conn.execute(
            f"""SELECT e.seq, e.subject_id AS entry_subject, e.payload, q.id AS qid, {QUESTION_SELECT}
                FROM entries e LEFT JOIN questions q ON q.id = e.subject_id
                WHERE e.kind = 'question' ORDER BY e.seq"""
        )
        cursor.row_factory = sqlite3.Row
        for row in cursor:
            counts["questions"] += 1
            if row["qid"] is None:
                report(row["seq"], None, "the question was deleted from the questions table", row["entry_subject"])
                continue
            mismatch = _mismatch(question_record_from_row(row), row["payload"])
            if mismatch:
                report(row["seq"], None, mismatch, row["qid"])

    # 5. Every forecast likewise, in its shape; one of shape 1 covers its question too (same id).
    def forecasts():
        cursor = conn.execute(
            f"""SELECT e.seq, e.shape, e.subject_id AS entry_subject, e.payload, f.id AS fid,
                       {FORECAST_SELECT}, {QUESTION_SELECT_PREFIXED}
                FROM entries e LEFT JOIN forecasts f ON f.id = e.subject_id
                     LEFT JOIN documents d ON d.id = f.document_id LEFT JOIN questions q ON q.id = f.question_id
                WHERE e.kind = 'forecast' ORDER BY e.seq"""
        )
        cursor.row_factory = sqlite3.Row
        for row in cursor:
            counts["forecasts"] += 1
            if row["fid"] is None:
                report(row["seq"], row["entry_subject"], "the forecast was deleted from the forecasts table")
                continue
            record = forecast_record_from_row(row)
            if row["shape"] == 1:
                if row["q_id"] is None or row["q_id"] != row["fid"]:
                    report(row["seq"], row["fid"], "the forecast was recorded with its own question, but the "
                           f"table puts it on {_short(row['question_id'])}")  # fmt: skip
                    continue
                question = question_record_from_row(row, "q_")
                if question["recorded_at"] != record["recorded_at"]:
                    report(row["seq"], row["fid"], f"its question's recorded_at is {_short(question['recorded_at'])} "
                           f"in the table but {_short(record['recorded_at'])} in the chain")  # fmt: skip
                record = v1_forecast_record(question, record)
                counts["questions"] += 1
            elif row["q_id"] is None:
                report(row["seq"], row["fid"], f"its question {_short(row['question_id'])} is not in the questions table")
            mismatch = _mismatch(record, row["payload"])
            if mismatch:
                report(row["seq"], row["fid"], mismatch)

    # 6. Every resolution likewise.
    def resolutions():
        cursor = conn.execute(
            f"""SELECT e.seq, e.shape, e.subject_id AS entry_subject, e.payload, r.id AS rid, {RESOLUTION_SELECT}
                FROM entries e LEFT JOIN resolutions r ON r.id = e.resolution_id
                WHERE e.kind = 'resolution' ORDER BY e.seq"""
        )
        cursor.row_factory = sqlite3.Row
        for row in cursor:
            counts["resolutions"] += 1
            if row["rid"] is None:
                report(row["seq"], None, "the resolution was deleted from the resolutions table", row["entry_subject"])
                continue
            record = resolution_record_from_row(row)
            mismatch = _mismatch(v1_resolution_record(record) if row["shape"] == 1 else record, row["payload"])
            if mismatch:
                report(row["seq"], None, mismatch, row["question_id"])
            elif row["entry_subject"] != row["question_id"]:  # the entry's own columns are not hashed
                report(row["seq"], None, f"the entry names this question, but its resolution is of {row['question_id']}",
                       row["entry_subject"])  # fmt: skip

    # 7. The questions and forecasts tables hold them in the order the chain recorded them
    #    (export, and so an export -> import copy, follows that order).
    def order():
        for table, clause in (("forecasts", "kind = 'forecast'"),
                              ("questions", "kind = 'question' OR (kind = 'forecast' AND shape = 1)")):  # fmt: skip
            table_order = conn.execute(f"SELECT id FROM {table} ORDER BY rowid")
            chain_order = conn.execute(f"SELECT seq, subject_id FROM entries WHERE {clause} ORDER BY seq")
            for (table_id,), (seq, chain_id) in zip(table_order, chain_order):
                if table_id != chain_id:
                    message = f"the {table} table is out of the chain's order here (it has {table_id} instead)"
                    if table == "forecasts":
                        report(seq, chain_id, message)
                    else:
                        report(seq, None, message, chain_id)
                    break

    # 8. No rows the chain does not know, none it knows twice. Each subquery is computed once (a
    #    sort): no plan here looks anything up in a secondary index of the file.
    def unchained():
        for seq, subject_id in conn.execute(
            "SELECT max(seq), subject_id FROM entries WHERE kind = 'forecast' GROUP BY subject_id HAVING count(*) > 1 LIMIT 5"
        ):
            report(seq, subject_id, "the forecast is recorded in the chain more than once")
        for seq, subject_id in conn.execute(
            "SELECT max(seq), subject_id FROM entries WHERE kind = 'question' OR (kind = 'forecast' AND shape = 1) "
            "GROUP BY subject_id HAVING count(*) > 1 LIMIT 5"
        ):
            report(seq, None, "the question is recorded in the chain more than once", subject_id)
        for (forecast_id,) in conn.execute(
            "SELECT id FROM forecasts WHERE id NOT IN (SELECT subject_id FROM entries WHERE kind = 'forecast') LIMIT 5"
        ):
            report(None, forecast_id, "is in the forecasts table but was never recorded in the chain")
        for (question_id,) in conn.execute(
            "SELECT id FROM questions WHERE id NOT IN (SELECT subject_id FROM entries "
            "WHERE kind = 'question' OR (kind = 'forecast' AND shape = 1)) LIMIT 5"
        ):
            report(None, None, "is in the questions table but was never recorded in the chain", question_id)
        for rid, question_id in conn.execute(
            "SELECT id, question_id FROM resolutions WHERE id NOT IN "
            "(SELECT resolution_id FROM entries WHERE kind = 'resolution') LIMIT 5"
        ):
            report(None, None, f"resolution {rid} was never recorded in the chain", question_id)

    # 9. The projections the queries read say what the history says: each question's current
    #    outcome is its latest resolution, its forecaster count is right, and each forecast's
    #    scoring weight is its share of its pair's days. The subqueries are computed once and
    #    joined through indexes SQLite builds for this query alone.
    def projections():
        for question_id, outcome, resolved_on, latest_outcome, latest_on in rows_of("outcome"):
            report(
                None, None,
                f"the current outcome says {outcome or 'unresolved'} ({resolved_on or '-'}) but the "
                f"resolution history says {latest_outcome or 'unresolved'} ({latest_on or '-'})",
                question_id,
            )  # fmt: skip
        for question_id, stored, counted in rows_of("forecasters"):
            report(None, None, f"says {stored} sources forecast it, but its forecasts have {counted}", question_id)
        for forecast_id, stored, computed in rows_of("weights"):
            report(None, forecast_id, f"its scoring weight is {stored} in the table but its days in force give {computed}")

    # Steps 2, 9 and 10 are pure SQL (verify_parallel.JOBS). With a second connection proven to
    # read the same snapshot they run there while the one pass (steps 3-8) runs here, and their
    # rows are replayed to the steps in order; else each runs here, as the step's own query.
    from .chain_scan import rows_agree  # here: chain_scan reads this module's column lists

    second = SecondReader(reopen) if reopen is not None else None
    try:
        if second is not None and not second.start():
            second.close()
            second = None

        def rows_of(name):
            return second.result(name, conn) if second is not None else iter(JOBS[name](conn))

        steps.run("the schema", schema)  # the first read of `conn`: its snapshot
        early = None  # the one pass, run while the thread checks the file
        if second is not None:
            second.go(conn)
            if not problems:
                try:
                    early = (rows_agree(conn, contains), None)
                except sqlite3.OperationalError as exc:  # raised only where the steps would call it
                    early = (None, exc)
        steps.run("the file", integrity)
        # Steps 3-8 in one pass that only says whether they would all find nothing (chain_scan: it
        # relies on the schema and file checked above); if not, or if it cannot tell, they run one
        # by one and find and word whatever there is.
        if problems:
            agreed = None
        elif early is None:
            agreed = rows_agree(conn, contains)
        elif early[1] is not None:
            raise early[1]
        else:
            agreed = early[0]
        if agreed is not None:
            counts.update(agreed)
        else:
            steps.run("the chain", entries)
            steps.run("the questions", questions)
            steps.run("the forecasts", forecasts)
            steps.run("the resolutions", resolutions)
            steps.run("the order of questions and forecasts", order)
            steps.run("the rows outside the chain", unchained)
        steps.run("the projections", projections)

        # 10. The full-text index (fts.py) holds the words of its table's rows, and only those.
        def fulltext():
            for message in rows_of("fulltext"):
                report(None, None, message)

        steps.run("the full-text index", fulltext)
        return Verification(
            entries=counts["entries"],
            forecasts=counts["forecasts"],
            resolutions=counts["resolutions"],
            head=counts["head"],
            problems=tuple(sorted(problems, key=lambda p: (p.seq is None, p.seq or 0))),
            contains=contains,
            contains_found=counts["found"] if contains is not None else None,
            questions=counts["questions"],
        )
    finally:
        if second is not None:
            second.close()


FORECASTERS_SQL = "SELECT count(DISTINCT source) FROM forecasts WHERE question_id = questions.id"
