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
import sqlite3
from typing import Any

import attrs

from .migrations import schema_differences
from .model import canonical_json

GENESIS = "0" * 64


def chain_hash(prev_hash: str, payload: str) -> str:
    return hashlib.sha256(f"{prev_hash}\n{payload}".encode("utf-8")).hexdigest()


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


def _canonical(value: Any) -> str | None:
    try:
        return canonical_json(_zero(value))
    except (TypeError, ValueError):  # NaN or infinity written into the table with raw SQL
        return None


def _canonical_as_is(value: Any) -> str | None:
    """canonical_json without the -0.0 normalisation: the form the payload was written in."""
    try:
        return canonical_json(value)
    except (TypeError, ValueError):
        return None


def _parsed(payload: Any) -> Any:
    try:
        return json.loads(payload)
    except (TypeError, ValueError):
        return None


def _mismatch(stored: dict[str, Any], payload: Any) -> str | None:
    """None if the table's record says what the chain's payload says, else what differs."""
    try:
        if canonical_json(stored) == payload:  # the fast path: byte-identical
            return None
    except (TypeError, ValueError):
        pass
    recorded = _parsed(payload)
    if not isinstance(recorded, dict):
        return "the chain's payload is not a JSON object: the entry was edited"
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
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def verify(conn: sqlite3.Connection, *, contains: str | None = None, limit: int = 20) -> Verification:
    """Recompute the chain and compare every table row with it. Collects up to `limit` problems."""
    problems: list[Problem] = []
    if contains is not None:
        contains = contains.strip().lower()

    def report(seq, forecast_id, message):
        if len(problems) < limit:
            problems.append(Problem(seq, forecast_id, message))

    # 1. The chain itself: contiguous, linked, each hash matching its payload.
    prev, expected_seq, entries, found = GENESIS, 1, 0, False
    last_resolution_id = 0
    for seq, kind, forecast_id, resolution_id, payload, prev_hash, stored_hash in conn.execute(
        "SELECT seq, kind, forecast_id, resolution_id, payload, prev_hash, hash FROM entries ORDER BY seq"
    ):
        entries += 1
        if seq != expected_seq:
            report(seq, forecast_id, f"the chain jumps from entry {expected_seq - 1} to {seq}: entries are missing")
        elif prev_hash != prev:
            report(seq, forecast_id, "does not follow the entry before it: an entry was removed, inserted or reordered")
        elif chain_hash(prev_hash, payload) != stored_hash:
            report(seq, forecast_id, "its content does not match its hash: the entry was edited")
        if kind == "resolution":
            if not isinstance(resolution_id, int) or resolution_id <= last_resolution_id:
                report(seq, forecast_id, "resolutions are out of order")
            else:
                last_resolution_id = resolution_id
        if contains is not None and stored_hash == contains:
            found = True
        prev, expected_seq = stored_hash, seq + 1

    # 2. Every forecast recorded in the chain is in the tables exactly as recorded.
    forecasts = 0
    cursor = conn.execute(
        f"""SELECT e.seq, e.forecast_id AS entry_forecast, e.payload, x.*
            FROM entries e LEFT JOIN ({FORECAST_RECORD_SQL}) x ON x.id = e.forecast_id
            WHERE e.kind = 'forecast' ORDER BY e.seq"""
    )
    cursor.row_factory = sqlite3.Row
    for row in cursor:
        forecasts += 1
        if row["id"] is None:
            report(row["seq"], row["entry_forecast"], "the forecast was deleted from the forecasts table")
            continue
        mismatch = _mismatch(forecast_record_from_row(row), row["payload"])
        if mismatch:
            report(row["seq"], row["id"], mismatch)

    # 3. Every resolution likewise.
    resolutions = 0
    cursor = conn.execute(
        f"""SELECT e.seq, e.forecast_id AS entry_forecast, e.payload, r.id AS rid,
                   {", ".join("r." + c for c in RESOLUTION_COLUMNS)}
            FROM entries e LEFT JOIN resolutions r ON r.id = e.resolution_id
            WHERE e.kind = 'resolution' ORDER BY e.seq"""
    )
    cursor.row_factory = sqlite3.Row
    for row in cursor:
        resolutions += 1
        if row["rid"] is None:
            report(row["seq"], row["entry_forecast"], "the resolution was deleted from the resolutions table")
            continue
        mismatch = _mismatch(resolution_record_from_row(row), row["payload"])
        if mismatch:
            report(row["seq"], row["forecast_id"], mismatch)
        elif row["entry_forecast"] != row["forecast_id"]:  # the entry's own columns are not hashed
            report(row["seq"], row["entry_forecast"], f"the entry names this forecast, but its resolution is of {row['forecast_id']}")

    # 4. The forecasts table holds them in the order the chain recorded them (export, and so an
    #    export -> import copy, follows that order).
    table_order = conn.execute("SELECT id FROM forecasts ORDER BY rowid")
    chain_order = conn.execute("SELECT seq, forecast_id FROM entries WHERE kind = 'forecast' ORDER BY seq")
    for (table_id,), (seq, chain_id) in zip(table_order, chain_order):
        if table_id != chain_id:
            report(seq, chain_id, f"the forecasts table is out of the chain's order here (it has {table_id} instead)")
            break

    # 5. No rows the chain does not know, none it knows twice, and each forecast's current outcome
    #    is its latest resolution.
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
        """SELECT f.id, f.outcome, f.resolved_on, r.outcome, r.resolved_on
           FROM forecasts f LEFT JOIN resolutions r
             ON r.id = (SELECT max(id) FROM resolutions WHERE forecast_id = f.id)
           WHERE f.outcome IS NOT r.outcome OR f.resolved_on IS NOT r.resolved_on LIMIT 5"""
    ):
        report(
            None,
            forecast_id,
            f"the current outcome says {outcome or 'unresolved'} ({resolved_on or '-'}) but the "
            f"resolution history says {latest_outcome or 'unresolved'} ({latest_on or '-'})",
        )

    # 6. The schema is this version's: the chain does not cover views, triggers or indexes.
    for difference in schema_differences(conn):
        report(None, None, difference)

    return Verification(
        entries=entries,
        forecasts=forecasts,
        resolutions=resolutions,
        head=prev,
        problems=tuple(sorted(problems, key=lambda p: (p.seq is None, p.seq or 0))),
        contains=contains,
        contains_found=found if contains is not None else None,
    )
