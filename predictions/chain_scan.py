"""One pass over the chain that tells whether `verify`'s chain and row steps would find anything.

`chain.verify` checks the chain (contiguous, linked, every hash), then every question, forecast
and resolution against its entry, the tables' order and the rows outside the chain, each step a
scan of its own that names what differs. On a sound ledger they all find nothing, and their time
went to reading the entries table six times and rebuilding each row's record in Python to encode
it. `rows_agree` reads the entries once, in chain order, each joined to its row through the
tables' primary keys; SQLite builds each row's record as JSON (`json_object`, keys in sorted
order, a 0/1 flag as false/true as chain._bool does, any REAL printed by Python's own
canonical_json: SQLite prints 15 digits) and compares it with the payload, so that Python only
follows the chain and its hashes, as the floor loop does, and checks that each table's rows come
in chain order, one per entry, none besides.

It answers the counts and head only if every check of those steps passes with byte-identical JSON.
On None (anything at all: a problem, JSON equal only after verify's normalising of -0.0, a SQLite
that escapes text otherwise, text SQLite cannot decode, a damaged page) the caller runs the
steps, which find and word every problem as before. Equal JSON text means equal values (the
escaping of text is one-to-one, numbers are printed as canonical_json prints them; a column of
TEXT affinity, which the schema check has confirmed, holds no REAL), so this pass decides no
message and can only make a sound ledger's verify faster. tests/test_chain_scan.py edits cells
of every table and checks that verify's report is the same either way.
"""

from __future__ import annotations

import functools
import hashlib
import sqlite3
from typing import Any

from . import chain
from .model import Document, canonical_json

_FUNCTION = "predictions_canonical_json"  # registered on the connection for the query's REALs


def _text_affinity(declared: str) -> bool:
    """SQLite's rule: a column declared with CHAR, CLOB or TEXT (and not INT) has TEXT affinity, and
    stores any number written to it as text, so it never holds a REAL."""
    declared = declared.upper()
    return "INT" not in declared and any(word in declared for word in ("CHAR", "CLOB", "TEXT"))


def _text_columns(conn: sqlite3.Connection) -> frozenset[str]:
    found = set()
    for table, alias in (("questions", "q"), ("forecasts", "f"), ("documents", "d"), ("resolutions", "r")):
        for _cid, name, declared, *_rest in conn.execute("SELECT * FROM pragma_table_info(?)", [table]):
            if _text_affinity(declared or ""):
                found.add(f"{alias}.{name}")
    return frozenset(found)


@functools.lru_cache(maxsize=4)
def _sql(text: frozenset[str]) -> str:
    """The query, for a schema whose columns `text` ("f.claim") have TEXT affinity."""

    def value(column: str) -> str:  # a column's value as its record holds it, as JSON for json_object
        if column in text:
            return column  # text, NULL or a blob (which json_object refuses: the four steps then run)
        return f"CASE WHEN typeof({column}) = 'real' THEN json({_FUNCTION}({column})) ELSE {column} END"

    def flag(column: str) -> str:  # chain._bool: a 0 or 1 (integer or real) is false or true
        return (f"CASE WHEN typeof({column}) IN ('integer', 'real') AND {column} IN (0, 1) "
                f"THEN json(CASE WHEN {column} THEN 'true' ELSE 'false' END) ELSE {value(column)} END")  # fmt: skip

    def columns(alias: str, names: tuple[str, ...]) -> dict[str, str]:
        return {name: (flag if name in chain._BOOLEANS else value)(f"{alias}.{name}") for name in names}

    def record(pairs: dict[str, str]) -> str:  # json_object in canonical (sorted) key order
        return "json_object(" + ", ".join(f"'{key}', {pairs[key]}" for key in sorted(pairs)) + ")"

    tags = ("json((SELECT json_group_array(tag) FROM (SELECT tag FROM question_tags t "
            "WHERE t.question_id = q.id ORDER BY tag)))")  # fmt: skip
    document = f"CASE WHEN f.document_id IS NULL THEN NULL ELSE {record(columns('d', Document.FIELDS))} END"
    # The records of chain.question_record_from_row, forecast_record_from_row and
    # resolution_record_from_row, and the shape-1 forms of v1_forecast_record and v1_resolution_record.
    question = {**columns("q", chain.QUESTION_COLUMNS), "tags": tags}
    forecast = {**columns("f", tuple(c for c in chain.FORECAST_COLUMNS if c != "document_id")), "document": document}
    v1_forecast = {k: v for k, v in {**question, **forecast}.items() if k != "question_id"}
    resolution = columns("r", chain.RESOLUTION_COLUMNS)
    v1_resolution = {("forecast_id" if k == "question_id" else k): v for k, v in resolution.items()}
    # Per entry: the chain's columns and whether its row says what its payload says (1 for a kind
    # that has no row). The question joins on a question entry's subject or a forecast's
    # question_id; every join goes through a primary key.
    return f"""
SELECT e.seq, e.kind, e.shape, e.resolution_id, e.payload, e.prev_hash, e.hash, f.rowid, q.rowid,
  CASE e.kind
    WHEN 'question' THEN q.id IS NOT NULL AND {record(question)} = e.payload
    WHEN 'forecast' THEN f.id IS NOT NULL AND q.id IS NOT NULL AND CASE WHEN e.shape = 1
      THEN q.id = f.id AND q.recorded_at IS f.recorded_at AND {record(v1_forecast)} = e.payload
      ELSE {record(forecast)} = e.payload END
    WHEN 'resolution' THEN r.id IS NOT NULL AND e.subject_id IS r.question_id AND CASE WHEN e.shape = 1
      THEN {record(v1_resolution)} ELSE {record(resolution)} END = e.payload
    ELSE 1
  END
FROM entries e
LEFT JOIN forecasts f ON e.kind = 'forecast' AND f.id = e.subject_id
LEFT JOIN documents d ON d.id = f.document_id
LEFT JOIN questions q ON q.id = CASE e.kind WHEN 'question' THEN e.subject_id WHEN 'forecast' THEN f.question_id END
LEFT JOIN resolutions r ON e.kind = 'resolution' AND r.id = e.resolution_id
ORDER BY e.seq
"""


def _real_json(value: float) -> str:
    """A REAL as canonical_json prints it. An infinity (a cell written around the schema's CHECKs)
    has no JSON form: its text here is not JSON, so SQLite's json() refuses it and the row cannot
    agree. Raising inside the function would do the same, but sqlite3 reports an exception raised
    in a callback as unraisable where callback tracebacks are on (Datasette turns them on)."""
    try:
        return canonical_json(value)
    except ValueError:
        return "not finite"


def rows_agree(conn: sqlite3.Connection, contains: str | None) -> dict[str, Any] | None:
    """The counts, head and whether `contains` was found, if the chain and every row recorded in
    it pass every check of verify's chain, question, forecast and resolution steps; else None."""
    try:
        conn.create_function(_FUNCTION, 1, _real_json, deterministic=True)
        try:
            return _scan(conn, contains)
        finally:
            conn.create_function(_FUNCTION, 1, None)
    except sqlite3.OperationalError as exc:
        if "Could not decode" in str(exc):
            raise  # text that is not UTF-8: verify reads everything again, keeping such bytes
        return None
    except (sqlite3.DatabaseError, UnicodeEncodeError):
        return None


def _scan(conn: sqlite3.Connection, contains: str | None) -> dict[str, Any] | None:
    sha256 = hashlib.sha256
    prev, expected_seq, last_resolution_id = chain.GENESIS, 1, 0
    entries = questions = forecasts = resolutions = 0
    found = False
    last_forecast = last_question = 0  # rowids: each table in chain order, each row recorded once
    rows = conn.execute(_sql(_text_columns(conn)))
    for seq, kind, shape, resolution_id, payload, prev_hash, stored_hash, forecast_at, question_at, agrees in rows:
        if agrees != 1 or seq != expected_seq or prev_hash != prev or type(payload) is not str:
            return None
        if sha256(f"{prev_hash}\n{payload}".encode("utf-8")).hexdigest() != stored_hash:
            return None
        if stored_hash == contains:
            found = True
        prev, expected_seq = stored_hash, seq + 1
        entries += 1
        if kind == "forecast":
            forecasts += 1
            if forecast_at <= last_forecast:
                return None
            last_forecast = forecast_at
            if shape == 1:
                questions += 1
                if question_at <= last_question:
                    return None
                last_question = question_at
        elif kind == "resolution":
            resolutions += 1
            if type(resolution_id) is not int or resolution_id <= last_resolution_id:
                return None
            last_resolution_id = resolution_id
        elif kind == "question":
            questions += 1
            if question_at <= last_question:
                return None
            last_question = question_at
    # Each entry has its own row (rowids rise), so equal counts mean no row outside the chain.
    in_tables = conn.execute(
        "SELECT (SELECT count(*) FROM forecasts), (SELECT count(*) FROM questions), (SELECT count(*) FROM resolutions)"
    ).fetchone()
    if in_tables != (forecasts, questions, resolutions):
        return None
    return {"entries": entries, "questions": questions, "forecasts": forecasts, "resolutions": resolutions,
            "found": found, "head": prev}  # fmt: skip
