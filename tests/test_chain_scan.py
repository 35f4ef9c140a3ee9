"""verify's one-pass check (chain_scan.rows_agree) says "all agree" exactly when the steps it
stands in for (the chain, questions, forecasts, resolutions, order, rows outside the chain) find
nothing, and otherwise steps aside, so that those steps find and word every problem.

A sound ledger of every shape (documents, tags, a question of its own, forecasts joining it,
corrections, -0.0) must take the one pass with the steps' own counts and head; a ledger edited by
raw SQL in any one cell of any table (a float moved by one unit in the last place, a flag made
0.5, a text made a number, a row deleted, moved or added) must not.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from predictions import Ledger, chain, chain_scan
from predictions.model import canonical_json

from .conftest import TODAY
from .test_import_speed_paths import RECORDED_AT, _records


def _sound(db: Path) -> None:
    records = _records(40)
    records += [  # a question of its own (the first forecast on it names it), then others on it
        {"id": "late-one", "question_id": "q-shared", "source": "S1", "claim": "Shared claim",
         "resolution_criteria": "YES if so.", "made_on": "2025-02-01", "deadline": "2026-06-30", "probability": 0.4},
        {"id": "late-two", "question_id": "q-shared", "source": "S2", "resolution_criteria": "YES if so.",
         "made_on": "2025-02-03", "deadline": "2026-06-30", "probability": 0.6},
    ]  # fmt: skip
    with Ledger(db) as ledger:
        ledger.import_records([(f"in:{i}", r) for i, r in enumerate(records, 1)], recorded_at=RECORDED_AT, today=TODAY)
        ledger.resolve("q-shared", "yes", on="2026-03-01", evidence="It did", today=TODAY)


@pytest.fixture(scope="module")
def sound(tmp_path_factory):
    db = tmp_path_factory.mktemp("scan") / "sound.db"
    _sound(db)
    return db


def _legacy(db: Path):
    """verify with the one pass switched off: the steps one by one."""
    original = chain_scan.rows_agree
    chain_scan.rows_agree = lambda conn, contains: None
    try:
        with Ledger(db, read_only=True) as ledger:
            return ledger.verify()
    finally:
        chain_scan.rows_agree = original


def _scan(db: Path, contains=None):
    with Ledger(db, read_only=True) as ledger:
        return chain_scan.rows_agree(ledger.conn, contains)


def test_a_sound_ledger_of_every_shape_takes_the_one_pass(sound):
    legacy = _legacy(sound)
    assert legacy.ok
    kinds = {row[0] for row in sqlite3.connect(sound).execute("SELECT DISTINCT kind || shape FROM entries")}
    assert kinds == {"forecast1", "forecast2", "question2", "resolution2"}
    agreed = _scan(sound, contains=legacy.head)
    assert agreed == {"entries": legacy.entries, "questions": legacy.questions, "forecasts": legacy.forecasts,
                      "resolutions": legacy.resolutions, "head": legacy.head, "found": True}  # fmt: skip
    with Ledger(sound, read_only=True) as ledger:
        assert ledger.verify() == legacy


def _edit(db: Path, *statements: str) -> None:
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("PRAGMA ignore_check_constraints = ON")
        conn.execute("BEGIN")
        triggers = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall()
        for name, _ in triggers:
            conn.execute(f'DROP TRIGGER "{name}"')
        for statement in statements:
            conn.execute(statement)
        for _, sql in triggers:
            conn.execute(sql)
        conn.execute("COMMIT")
    finally:
        conn.close()


# One cell of one row set to a value: what raw SQL can do to each table the one pass reads.
_TABLES = {
    "forecasts": [c for c in chain.FORECAST_COLUMNS] + ["weight"],
    "questions": [c for c in chain.QUESTION_COLUMNS],
    "resolutions": list(chain.RESOLUTION_COLUMNS),
    "documents": list(chain.DOCUMENT_COLUMNS),
    "question_tags": ["tag"],
    "entries": ["kind", "shape", "subject_id", "resolution_id", "prev_hash"],
}
_VALUES = st.sampled_from([
    "NULL", "0", "1", "0.5", "'x'", "'1'", "''", "X'00'", "'2026-06-30'", "'yes'", "'no'", "'q-shared'",
    "'rec-0001'", "'S1'", "'assigned'", "{column} || ' '", "{column} + 1", "-{column}",
    "{column} * (1 + 2.220446049250313e-16)",  # one unit in the last place: SQLite prints 15 digits
    "{column} * 1.0",  # an integer column made REAL
])  # fmt: skip


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(table=st.sampled_from(sorted(_TABLES)), data=st.data())
def test_any_edit_the_steps_find_makes_the_one_pass_step_aside(sound, tmp_path, table, data):
    column = data.draw(st.sampled_from(_TABLES[table]))
    value = data.draw(_VALUES).format(column=column)
    row = data.draw(st.integers(1, 60))
    db = tmp_path / f"edited-{table}-{column}-{row}.db"
    db.unlink(missing_ok=True)
    shutil.copy(sound, db)
    rowid = "rowid" if table != "question_tags" else "(SELECT count(*) FROM question_tags t WHERE t.question_id <= question_tags.question_id)"
    try:
        _edit(db, f"UPDATE {table} SET {column} = {value} WHERE {rowid} = {row}")
    except sqlite3.IntegrityError:  # NOT NULL, a primary key, a foreign key: SQLite refuses it anyway
        assume(False)
    legacy = _legacy(db)
    with Ledger(db, read_only=True) as ledger:
        assert ledger.verify() == legacy  # the same report, whichever way it was reached
    if any(p.seq is not None for p in legacy.problems):  # found by a step the one pass stands in for
        assert _scan(db) is None, (table, column, value, row, legacy.problems)


@pytest.mark.parametrize("statements", [
    ["DELETE FROM forecasts WHERE id = 'rec-0003'"],
    ["DELETE FROM question_tags WHERE (question_id, tag) IN (SELECT question_id, tag FROM question_tags LIMIT 1)"],
    ["INSERT INTO resolutions SELECT 999, question_id, outcome, resolved_on, evidence, note, correction_reason, "
     "early_reason, recorded_at, recorded_by FROM resolutions LIMIT 1"],
    # rows moved out of chain order: the same rows, the first forecast written again last
    ["CREATE TEMP TABLE keep AS SELECT * FROM forecasts WHERE rowid = 1", "DELETE FROM forecasts WHERE rowid = 1",
     "INSERT INTO forecasts SELECT * FROM keep"],
    ["CREATE TEMP TABLE keep AS SELECT * FROM questions WHERE rowid = 1", "DELETE FROM questions WHERE rowid = 1",
     "INSERT INTO questions SELECT * FROM keep"],
    ["UPDATE entries SET kind = 'forecast' WHERE kind = 'question'"],
    ["UPDATE forecasts SET probability = probability + 1e-15 WHERE rowid = 2"],
    # one unit in the last place, which SQLite's own 15-digit printing of a REAL would not show
    ["UPDATE forecasts SET probability = probability * (1 + 2.220446049250313e-16) WHERE probability = 0.75"],
])  # fmt: skip
def test_rows_missing_added_or_out_of_order_make_it_step_aside(sound, tmp_path, statements):
    db = tmp_path / "edited.db"
    shutil.copy(sound, db)
    _edit(db, *statements)
    assert _legacy(db).problems
    assert _scan(db) is None
    with Ledger(db, read_only=True) as ledger:
        assert ledger.verify() == _legacy(db)  # the steps' own report, word for word


def test_a_schema_problem_runs_the_steps(sound, tmp_path):
    db = tmp_path / "schema.db"
    shutil.copy(sound, db)
    _edit(db, "CREATE VIEW json_each AS SELECT 1")
    calls = []
    original = chain_scan.rows_agree
    chain_scan.rows_agree = lambda *a: calls.append(a) or original(*a)
    try:
        with Ledger(db, read_only=True) as ledger:
            assert not ledger.verify().ok
    finally:
        chain_scan.rows_agree = original
    assert calls == []  # the one pass relies on the schema being the ledger's


def test_an_infinite_cell_makes_it_step_aside_without_an_exception_in_sqlite(sound, tmp_path, monkeypatch):
    """A REAL has no JSON form when it is infinite: the one pass must refuse it inside SQLite.
    An exception raised in the registered function would reach sys.unraisablehook wherever
    callback tracebacks are on (Datasette, imported in the same process, turns them on)."""
    db = tmp_path / "infinite.db"
    shutil.copy(sound, db)
    _edit(db, "UPDATE forecasts SET probability = 9e999 WHERE rowid = 1")
    unraisable = []
    monkeypatch.setattr("sys.unraisablehook", unraisable.append)
    sqlite3.enable_callback_tracebacks(True)
    try:
        assert _scan(db) is None
        report = Ledger(db, read_only=True).verify()
    finally:
        sqlite3.enable_callback_tracebacks(False)
    assert unraisable == []
    assert not report.ok and any("probability" in p.message for p in report.problems)
    assert [chain_scan._real_json(x) for x in (0.1, 1e-05, -0.0)] == [canonical_json(x) for x in (0.1, 1e-05, -0.0)]
