"""The import's fast paths write exactly what the plain path writes, and refuse exactly the same.

An import into an empty ledger builds the secondary indexes after its rows (importing._drop/_create_
secondary_indexes); inserts go MULTIROW rows per statement; text fields are checked by a fast test
that falls back to `model._checked_text`. None of that may change a row, a chain entry, the schema
or an error message. Speed itself is shown only by benchmarks/import_and_score.py.
"""

from __future__ import annotations

import gc
import json
import sqlite3
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from predictions import Ledger, importing, writer
from predictions.errors import LedgerError, ValidationError
from predictions.model import _checked_text, _text_checker, parse_probability

from .conftest import TODAY, empty_ledger, forecast_fields

RECORDED_AT = "2026-11-22T01:02:03.000000Z"


def _records(n: int = 130):
    """Varied records: documents, tags, phrases, flat outcomes, histories with corrections, -0.0."""
    out = []
    for i in range(n):
        record = {
            "id": f"rec-{i:04d}", "source": f"Source {i % 7}", "claim": f"Claim {i}\nsecond line\tand a tab",
            "resolution_criteria": "YES if so.", "made_on": "2025-01-15", "deadline": "2026-06-30",
        }  # fmt: skip
        if i % 5 == 0:
            record["phrase"] = "likely"
        else:
            record["probability"] = [0.25, "0.5", 1, -0.0, 0.0][i % 5]
        if i % 3 == 0:
            record["tags"] = ["bulk", f"t{i % 4}"]
        if i % 4 == 0:
            record["document"] = {"title": f"Title {i % 8}", "url": "https://example.org/a", "published_on": "2025-01-14"}
        if i % 6 == 1:
            record.update(outcome="yes", resolved_on="2026-01-10", evidence="Figure published")
        elif i % 6 == 2:
            record["resolutions"] = [
                {"outcome": "yes", "resolved_on": "2026-03-01", "evidence": "It did"},
                {"outcome": "no", "resolved_on": "2026-07-02", "evidence": "Misread", "correction_reason": "misread"},
            ]
        if i % 11 == 0:
            del record["id"]  # a content id
        out.append(record)
    return out


def _import(db, records, *, start: int = 1):
    with Ledger(db) as ledger:
        pairs = [(f"in.jsonl:{start + k}", r) for k, r in enumerate(records)]
        return ledger.import_records(pairs, recorded_at=RECORDED_AT, today=TODAY)


def _contents(db):
    """Every row of every table (with rowids where tables have them) and the schema."""
    conn = sqlite3.connect(db)
    try:
        tables = {
            name: conn.execute(f"SELECT * FROM {name} ORDER BY 1, 2").fetchall()  # noqa: S608 (test-only names)
            for name in ("documents", "forecasts", "question_tags", "resolutions", "entries")
        }
        tables["forecast_rowids"] = conn.execute("SELECT rowid, id FROM forecasts ORDER BY rowid").fetchall()
        tables["schema"] = conn.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name <> 'sqlite_sequence' ORDER BY name"
        ).fetchall()
        return tables
    finally:
        conn.close()


def _schema(db):
    return _contents(db)["schema"]


@pytest.fixture
def one_row_statements(monkeypatch):
    """The plain path: one row per INSERT statement, as executemany did."""
    monkeypatch.setattr(writer, "MULTIROW", 1)


def test_bulk_load_into_an_empty_ledger_equals_record_by_record_writes(tmp_path, monkeypatch):
    records = _records()
    bulk = _import(tmp_path / "bulk.db", records)
    monkeypatch.setattr(writer, "MULTIROW", 1)
    plain = tmp_path / "plain.db"
    _import(plain, records[:1])  # the ledger is then not empty: every later record takes the plain path
    for k, record in enumerate(records[1:], start=2):
        summary = _import(plain, [record], start=k)
    assert summary.head == bulk.head
    assert _contents(tmp_path / "bulk.db") == _contents(plain)
    with Ledger(plain) as ledger:
        assert ledger.verify().ok


@pytest.mark.parametrize("multirow", [1, 7, 250])
def test_statement_size_changes_nothing(tmp_path, monkeypatch, multirow):
    monkeypatch.setattr(writer, "MULTIROW", multirow)
    monkeypatch.setattr(importing, "BATCH_SIZE", 40)  # several batches, each with a partial statement
    records = _records()
    _import(tmp_path / "first.db", records[:50])
    summary = _import(tmp_path / "first.db", records[50:], start=51)  # into a non-empty ledger
    monkeypatch.setattr(writer, "MULTIROW", 250)
    monkeypatch.setattr(importing, "BATCH_SIZE", 2000)
    reference = tmp_path / "reference.db"
    _import(reference, records[:50])
    assert _import(reference, records[50:], start=51).head == summary.head
    assert _contents(tmp_path / "first.db") == _contents(reference)


def test_a_bulk_loaded_ledger_has_the_schema_of_a_fresh_one(tmp_path):
    empty_ledger(tmp_path / "fresh.db")
    _import(tmp_path / "bulk.db", _records(5))
    assert _schema(tmp_path / "bulk.db") == _schema(tmp_path / "fresh.db")
    with sqlite3.connect(tmp_path / "bulk.db") as conn:
        plan = " ".join(r[3] for r in conn.execute("EXPLAIN QUERY PLAN SELECT id FROM forecasts WHERE source = 'x'"))
    assert "forecasts_source" in plan


def _error(db, records, start: int = 1) -> str:
    with pytest.raises(LedgerError) as caught:
        _import(db, records, start=start)
    return str(caught.value)


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"probability": 1.5}, "in.jsonl:61: field probability: 1.5 is outside [0, 1]"),
        ({"claim": "   "}, "in.jsonl:61: field claim: must not be empty"),
        ({"source": "two\nlines"}, "in.jsonl:61: field source: must be a single line"),
        ({"claim": "nul\x00"}, "in.jsonl:61: field claim: contains a control character (such as NUL); remove it"),
        ({"claim": "bad \ud800"}, "in.jsonl:61: field claim: is not valid Unicode text"),
        ({"source": "x" * 301}, "in.jsonl:61: field source: is 301 characters long; the limit is 300"),
        ({"id": "rec-0010"}, "in.jsonl:61: field id: 'rec-0010' appears twice in this input"),
    ],
)
def test_errors_are_the_same_into_an_empty_and_a_non_empty_ledger(tmp_path, bad, message):
    records = _records(100)
    records[60] = {**records[60], **bad}
    empty = tmp_path / "empty.db"
    empty_ledger(empty)
    fresh_schema = _schema(empty)
    assert _error(empty, records).startswith(message)
    assert _contents(empty)["forecasts"] == [] and _schema(empty) == fresh_schema  # indexes back, nothing written

    used = tmp_path / "used.db"
    with Ledger(used) as ledger:
        ledger.add(**forecast_fields(id="already-here"))
        before = _contents(used)
    assert _error(used, records).startswith(message)
    assert _contents(used) == before


def test_a_duplicate_of_a_stored_id_names_the_line(tmp_path):
    db = tmp_path / "l.db"
    _import(db, _records(10))
    with pytest.raises(ValidationError, match=r"^in.jsonl:3: field id: 'rec-0004' is already in the ledger$"):
        _import(db, [{**r, "id": f"new-{k}"} for k, r in enumerate(_records(2))] + [_records(5)[4]])


def test_add_of_a_duplicate_names_the_field_not_the_method(ledger):
    ledger.add(**forecast_fields(id="dup-one"))
    with pytest.raises(ValidationError) as caught:
        ledger.add(**forecast_fields(id="dup-one"))
    assert str(caught.value) == "field id: 'dup-one' is already in the ledger"


def test_id_prefixes_are_case_insensitive(ledger):
    ledger.add(**forecast_fields(id="c100-widgets"))
    assert ledger.resolve_id("C100") == "c100-widgets"
    assert ledger.get(" C100-WIDGETS ").id == "c100-widgets"


def test_negative_zero_is_normalised_where_it_is_parsed():
    for value in (-0.0, "-0.0", "-0"):
        p = parse_probability(value)
        assert p == 0.0 and json.dumps(p) == "0.0"


TEXT = st.one_of(
    st.text(max_size=20),
    st.text(alphabet=st.sampled_from(" \t\n\r\x00\x1f\x7f\x85\xa0\u2028\u3000\ud800a\u00e9"), max_size=6),
    st.sampled_from(["", " ", "x" * 300, "x" * 301, "y" * 20_001]),
    st.none(),
    st.integers(),
)


@settings(max_examples=400, deadline=None)
@given(value=TEXT, optional=st.booleans(), single_line=st.booleans())
def test_the_fast_text_check_agrees_with_checked_text(value, optional, single_line):
    def outcome(check):
        try:
            return ("ok", check(value))
        except ValidationError as exc:
            return ("error", str(exc))

    fast = _text_checker("f", optional=optional, single_line=single_line)
    slow = lambda v: _checked_text(v, "f", optional=optional, single_line=single_line)  # noqa: E731
    assert outcome(fast) == outcome(slow)


def test_opening_an_existing_ledger_does_not_import_sqlite_utils(tmp_path):
    db = tmp_path / "l.db"
    empty_ledger(db)
    code = (
        "import sys, predictions, cli.main; from predictions import Ledger; "
        f"Ledger({str(db)!r}).close(); print('sqlite_utils' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def _watched(records, seen):
    """The records, noting the collector's state as the import reads each."""
    for where, record in records:
        seen.append((gc.isenabled(), gc.get_threshold()[0]))
        yield where, record


@pytest.mark.parametrize("refused", [False, True])
def test_an_import_runs_the_collector_rarely_and_restores_it(tmp_path, refused):
    records = [(f"in.jsonl:{k}", r) for k, r in enumerate(_records(20), start=1)]
    if refused:
        records.append(("in.jsonl:21", {**records[0][1], "made_on": "not a date"}))
    before, seen = gc.get_threshold(), []
    with Ledger(tmp_path / "l.db") as ledger:
        if refused:
            with pytest.raises(ValidationError):
                ledger.import_records(_watched(records, seen), recorded_at=RECORDED_AT, today=TODAY)
        else:
            ledger.import_records(_watched(records, seen), recorded_at=RECORDED_AT, today=TODAY)
    assert seen and set(seen) == {(True, importing.IMPORT_GC_THRESHOLD)}  # still on: cycles are collected
    assert gc.get_threshold() == before


def test_an_import_leaves_a_collector_switched_off_by_threshold_off(tmp_path):
    before, seen = gc.get_threshold(), []
    gc.set_threshold(0, *before[1:])
    try:
        with Ledger(tmp_path / "l.db") as ledger:
            records = [(f"in.jsonl:{k}", r) for k, r in enumerate(_records(5), start=1)]
            ledger.import_records(_watched(records, seen), recorded_at=RECORDED_AT, today=TODAY)
        assert {threshold for _, threshold in seen} == {0}
        assert gc.get_threshold()[0] == 0
    finally:
        gc.set_threshold(*before)


def test_imports_in_two_threads_restore_the_collector_whichever_ends_first(tmp_path):
    """A starts, B starts, A ends, B ends: B must not restore the threshold A had raised."""
    import threading

    before = gc.get_threshold()
    a_started, b_started, a_done = threading.Event(), threading.Event(), threading.Event()
    errors = []

    def records(started, wait_for, n):
        started.set()
        assert wait_for.wait(10)
        yield from ((f"in.jsonl:{k}", r) for k, r in enumerate(_records(n), start=1))

    def run(name, started, wait_for, done=None):
        try:
            with Ledger(tmp_path / f"{name}.db") as ledger:
                ledger.import_records(records(started, wait_for, 5), recorded_at=RECORDED_AT, today=TODAY)
        except BaseException as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)
        finally:
            if done is not None:
                done.set()

    a = threading.Thread(target=run, args=("a", a_started, b_started, a_done))
    b = threading.Thread(target=run, args=("b", b_started, a_done))
    a.start()
    assert a_started.wait(10)
    b.start()
    a.join(20)
    b.join(20)
    assert not errors
    assert gc.get_threshold() == before


def test_statements_stay_within_the_connections_parameter_limit(tmp_path, monkeypatch):
    """MULTIROW rows a statement, or fewer where the connection allows fewer parameters (999
    before SQLite 3.32): the same rows and chain."""
    records = _records()
    reference = _import(tmp_path / "ref.db", records).head
    real_of = writer.Writer.of.__func__
    limits = []

    def of(cls, conn):
        conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 600)  # the look-ups bind 500; 46 forecast rows a statement
        made = real_of(cls, conn)
        limits.append(made.parameters)
        return made

    monkeypatch.setattr(writer.Writer, "of", classmethod(of))
    assert _import(tmp_path / "small.db", records).head == reference
    assert limits == [600]
    assert _contents(tmp_path / "small.db") == _contents(tmp_path / "ref.db")
