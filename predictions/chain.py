"""The hash chain that makes the ledger tamper-evident, and its verification.

Every change to what the ledger says (a forecast recorded, a resolution, a correction) is an entry:
its payload is the canonical JSON of the value (see `model.canonical_json`), and

    hash = sha256( prev_hash + "\\n" + payload )   (UTF-8, lower-case hex; the first prev_hash is 64 zeros)

so each hash commits to the entry and to everything before it. `verify` recomputes the chain and
checks that the readable tables (forecasts, documents, forecast_tags, resolutions) say exactly what
the chain recorded. docs/integrity.md explains what this proves and what it cannot.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from typing import Any, Callable

import attrs

from .errors import ValidationError
from .schema_check import schema_differences
from .model import canonical_json

GENESIS = "0" * 64
INTEGRITY_MESSAGES = 20  # PRAGMA integrity_check stops after this many


def chain_hash(prev_hash: str, payload: str) -> str:
    return hashlib.sha256(f"{prev_hash}\n{payload}".encode("utf-8")).hexdigest()


def published_hash(value: Any) -> str:
    """A head hash as published: 64 hexadecimal digits; case and surrounding blanks do not matter."""
    text = value.strip().lower() if isinstance(value, str) else ""
    if not re.fullmatch(r"[0-9a-f]{64}", text):
        raise ValidationError("contains", "a chain hash is 64 hexadecimal digits, as a published head is")
    return text


@attrs.frozen
class Problem:
    seq: int | None  # the chain entry concerned, where there is one
    forecast_id: str | None
    message: str

    def __str__(self) -> str:
        where = f"entry {self.seq}" if self.seq is not None else "ledger"
        about = f" (forecast {self.forecast_id})" if self.forecast_id else ""
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

    @property
    def ok(self) -> bool:
        return not self.problems and self.contains_found is not False

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "forecasts": self.forecasts,
            "resolutions": self.resolutions,
            "head": self.head,
            "first_problem": str(self.problems[0]) if self.problems else None,
            "problems": [
                {"entry": p.seq, "forecast_id": p.forecast_id, "message": p.message}
                for p in self.problems
            ],
            "contains": self.contains,
            "contains_found": self.contains_found,
        }


# The readable state of one forecast, rebuilt from the tables in the shape of Forecast.to_record().
FORECAST_COLUMNS = """
       f.id, f.source, f.source_kind, f.claim, f.quote, f.question, f.resolution_criteria,
       f.made_on, f.deadline, f.deadline_text, f.deadline_assumed, f.probability,
       f.probability_basis, f.phrase, f.note, f.recorded_at,
       d.title AS d_title, d.outlet AS d_outlet, d.author AS d_author, d.url AS d_url,
       d.published_on AS d_published_on, d.published_on_estimated AS d_published_on_estimated,
       d.published_text AS d_published_text, d.note AS d_note, d.file AS d_file,
       f.document_id,
       (SELECT json_group_array(tag) FROM
            (SELECT tag FROM forecast_tags t WHERE t.forecast_id = f.id ORDER BY tag)) AS tags_json"""
FORECAST_FROM = "FROM forecasts f LEFT JOIN documents d ON d.id = f.document_id"
FORECAST_RECORD_SQL = f"SELECT {FORECAST_COLUMNS} {FORECAST_FROM}"

_DOCUMENT_KEYS = ("title", "outlet", "author", "url", "published_on", "published_on_estimated",
                  "published_text", "note", "file")  # fmt: skip


def forecast_record_from_row(row: sqlite3.Row) -> dict[str, Any]:
    """Rebuild Forecast.to_record() from a FORECAST_RECORD_SQL row, without validating it."""
    document = None
    if row["document_id"] is not None:
        document = {key: row[f"d_{key}"] for key in _DOCUMENT_KEYS}
        if document["published_on_estimated"] is not None:
            document["published_on_estimated"] = bool(document["published_on_estimated"])
    assumed = row["deadline_assumed"]
    return {
        "id": row["id"],
        "source": row["source"],
        "source_kind": row["source_kind"],
        "document": document,
        "claim": row["claim"],
        "quote": row["quote"],
        "question": row["question"],
        "resolution_criteria": row["resolution_criteria"],
        "made_on": row["made_on"],
        "deadline": row["deadline"],
        "deadline_text": row["deadline_text"],
        "deadline_assumed": bool(assumed) if assumed in (0, 1) else assumed,
        "probability": row["probability"],
        "probability_basis": row["probability_basis"],
        "phrase": row["phrase"],
        "tags": json.loads(row["tags_json"]),
        "note": row["note"],
        "recorded_at": row["recorded_at"],
    }


RESOLUTION_COLUMNS = ("forecast_id", "outcome", "resolved_on", "evidence", "note",
                      "correction_reason", "early_reason", "recorded_at", "recorded_by")  # fmt: skip


def resolution_record_from_row(row: sqlite3.Row) -> dict[str, Any]:
    return {key: row[key] for key in RESOLUTION_COLUMNS}


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
) -> Verification:
    """Check the schema, the file's own integrity, the chain and every row against it.

    Collects up to `limit` problems; `on_problem` (if given) hears of each as soon as it is found,
    so a damaged schema is known before the long steps run. Every query here reads the tables in
    rowid order or through their primary keys (which no DROP INDEX can remove), so a dropped or
    added secondary index changes neither the answers nor how long they take.
    """
    if contains is not None:
        contains = published_hash(contains)
    seen: set[Problem] = set()

    def heard(problem: Problem) -> None:
        if on_problem is not None and problem not in seen:  # once, even when the steps run again below
            seen.add(problem)
            on_problem(problem)

    try:
        return _verify(conn, contains, limit, heard)
    except sqlite3.OperationalError as exc:
        if "Could not decode" not in str(exc):
            raise
    # Some text in the file is not UTF-8. Read everything again with such bytes kept as lone
    # surrogates (they cannot match a payload the tool wrote, nor be hashed): slower, and only for
    # a damaged file.
    factory = conn.text_factory
    conn.text_factory = _lenient_text
    try:
        return _verify(conn, contains, limit, heard)
    finally:
        conn.text_factory = factory


def _lenient_text(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


class _Steps:
    """Runs each step of verify; a step that SQLite cannot finish is a finding, not a crash."""

    def __init__(self, report):
        self.report = report

    def run(self, what: str, step: Callable[[], None]) -> None:
        try:
            step()
        except sqlite3.OperationalError as exc:
            if "Could not decode" in str(exc):
                raise  # text that is not UTF-8: verify reads the file again, keeping such bytes
            self.report(None, None, f"{what} could not be read ({exc}): the file is damaged")
        except sqlite3.DatabaseError as exc:
            self.report(None, None, f"{what} could not be read ({exc}): the file is damaged")


def _verify(conn, contains, limit, heard) -> Verification:
    problems: list[Problem] = []

    def report(seq, forecast_id, message):
        if len(problems) < limit:
            problem = Problem(seq, forecast_id, message)
            problems.append(problem)
            heard(problem)

    steps = _Steps(report)
    counts = {"entries": 0, "forecasts": 0, "resolutions": 0, "head": GENESIS, "found": False}

    # 1. The schema, first and fast: a missing or foreign object is named before the long steps.
    def schema():
        for difference in schema_differences(conn):
            report(None, None, difference)

    # 2. The file's own integrity: every index holds exactly the rows its definition says (an index
    #    edited through writable_schema, a swapped rootpage, one holding only some rows would
    #    change the answers of the queries that read through it), every page is sound, every
    #    CHECK holds. Linear in the file's size.
    def integrity():
        rows = [row[0] for row in conn.execute(f"PRAGMA integrity_check({INTEGRITY_MESSAGES})")]
        if rows != ["ok"]:
            for message in rows:
                report(None, None, f"SQLite's integrity check: {message}")

    # 3. The chain itself: contiguous, linked, each hash matching its payload.
    def entries():
        prev, expected_seq, last_resolution_id = GENESIS, 1, 0
        for seq, kind, forecast_id, resolution_id, payload, prev_hash, stored_hash in conn.execute(
            "SELECT seq, kind, forecast_id, resolution_id, payload, prev_hash, hash FROM entries ORDER BY seq"
        ):
            counts["entries"] += 1
            if seq != expected_seq:
                report(seq, forecast_id, f"the chain jumps from entry {expected_seq - 1} to {seq}: entries are missing")
            elif prev_hash != prev:
                report(seq, forecast_id, "does not follow the entry before it: an entry was removed, inserted or reordered")
            elif not isinstance(payload, str):
                report(seq, forecast_id, f"its payload is {_kind(payload)}, not text: the entry was edited")
            else:
                try:
                    matches = chain_hash(prev_hash, payload) == stored_hash
                except UnicodeEncodeError:  # bytes that are not UTF-8, read as lone surrogates
                    report(seq, forecast_id, "its payload is not valid UTF-8 text: the entry was edited")
                else:
                    if not matches:
                        report(seq, forecast_id, "its content does not match its hash: the entry was edited")
            if kind == "resolution":
                if not isinstance(resolution_id, int) or resolution_id <= last_resolution_id:
                    report(seq, forecast_id, "resolutions are out of order")
                else:
                    last_resolution_id = resolution_id
            if contains is not None and stored_hash == contains:
                counts["found"] = True
            prev, expected_seq = stored_hash, seq + 1
        counts["head"] = prev

    # 4. Every forecast recorded in the chain is in the tables exactly as recorded.
    def forecasts():
        cursor = conn.execute(
            f"""SELECT e.seq, e.forecast_id AS entry_forecast, e.payload, x.*
                FROM entries e LEFT JOIN ({FORECAST_RECORD_SQL}) x ON x.id = e.forecast_id
                WHERE e.kind = 'forecast' ORDER BY e.seq"""
        )
        cursor.row_factory = sqlite3.Row
        for row in cursor:
            counts["forecasts"] += 1
            if row["id"] is None:
                report(row["seq"], row["entry_forecast"], "the forecast was deleted from the forecasts table")
                continue
            mismatch = _mismatch(forecast_record_from_row(row), row["payload"])
            if mismatch:
                report(row["seq"], row["id"], mismatch)

    # 5. Every resolution likewise.
    def resolutions():
        cursor = conn.execute(
            f"""SELECT e.seq, e.forecast_id AS entry_forecast, e.payload, r.id AS rid,
                       {", ".join("r." + c for c in RESOLUTION_COLUMNS)}
                FROM entries e LEFT JOIN resolutions r ON r.id = e.resolution_id
                WHERE e.kind = 'resolution' ORDER BY e.seq"""
        )
        cursor.row_factory = sqlite3.Row
        for row in cursor:
            counts["resolutions"] += 1
            if row["rid"] is None:
                report(row["seq"], row["entry_forecast"], "the resolution was deleted from the resolutions table")
                continue
            mismatch = _mismatch(resolution_record_from_row(row), row["payload"])
            if mismatch:
                report(row["seq"], row["forecast_id"], mismatch)
            elif row["entry_forecast"] != row["forecast_id"]:  # the entry's own columns are not hashed
                report(row["seq"], row["entry_forecast"], f"the entry names this forecast, but its resolution is of {row['forecast_id']}")

    # 6. The forecasts table holds them in the order the chain recorded them (export, and so an
    #    export -> import copy, follows that order).
    def order():
        table_order = conn.execute("SELECT id FROM forecasts ORDER BY rowid")
        chain_order = conn.execute("SELECT seq, forecast_id FROM entries WHERE kind = 'forecast' ORDER BY seq")
        for (table_id,), (seq, chain_id) in zip(table_order, chain_order):
            if table_id != chain_id:
                report(seq, chain_id, f"the forecasts table is out of the chain's order here (it has {table_id} instead)")
                break

    # 7. No rows the chain does not know, none it knows twice, and each forecast's current outcome
    #    is its latest resolution. Each subquery is computed once (a sort), and the latest
    #    resolutions are joined through an index SQLite builds for this query alone: no plan here
    #    looks anything up in a secondary index of the file.
    def unchained():
        for seq, forecast_id in conn.execute(
            "SELECT max(seq), forecast_id FROM entries WHERE kind = 'forecast' GROUP BY forecast_id HAVING count(*) > 1 LIMIT 5"
        ):
            report(seq, forecast_id, "the forecast is recorded in the chain more than once")
        for (forecast_id,) in conn.execute(
            "SELECT id FROM forecasts WHERE id NOT IN (SELECT forecast_id FROM entries WHERE kind = 'forecast') LIMIT 5"
        ):
            report(None, forecast_id, "is in the forecasts table but was never recorded in the chain")
        for (rid, forecast_id) in conn.execute(
            "SELECT id, forecast_id FROM resolutions WHERE id NOT IN "
            "(SELECT resolution_id FROM entries WHERE kind = 'resolution') LIMIT 5"
        ):
            report(None, forecast_id, f"resolution {rid} was never recorded in the chain")
        for forecast_id, outcome, resolved_on, latest_outcome, latest_on in conn.execute(
            """WITH latest AS MATERIALIZED (
                   SELECT forecast_id, outcome, resolved_on, max(id) FROM resolutions GROUP BY forecast_id)
               SELECT f.id, f.outcome, f.resolved_on, r.outcome, r.resolved_on
               FROM forecasts f LEFT JOIN latest r ON r.forecast_id = f.id
               WHERE f.outcome IS NOT r.outcome OR f.resolved_on IS NOT r.resolved_on LIMIT 5"""
        ):
            report(
                None,
                forecast_id,
                f"the current outcome says {outcome or 'unresolved'} ({resolved_on or '-'}) but the "
                f"resolution history says {latest_outcome or 'unresolved'} ({latest_on or '-'})",
            )

    steps.run("the schema", schema)
    steps.run("the file", integrity)
    steps.run("the chain", entries)
    steps.run("the forecasts", forecasts)
    steps.run("the resolutions", resolutions)
    steps.run("the forecasts' order", order)
    steps.run("the rows outside the chain", unchained)
    return Verification(
        entries=counts["entries"],
        forecasts=counts["forecasts"],
        resolutions=counts["resolutions"],
        head=counts["head"],
        problems=tuple(sorted(problems, key=lambda p: (p.seq is None, p.seq or 0))),
        contains=contains,
        contains_found=counts["found"] if contains is not None else None,
    )
