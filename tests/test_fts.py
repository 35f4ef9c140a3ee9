"""The full-text index (migration m005, predictions/fts.py): made as sqlite-utils makes it, kept
current by every write path inside its transaction (built once at the end of a bulk load), and
checked by verify, which reports a tampered index, another virtual table or a stray shadow table."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from predictions import Ledger, LedgerError, chain, fts
from predictions.schema_check import _expected_schema

from .conftest import TODAY, forecast_fields
from .test_integrity import assert_broken, build, run

ROOT = Path(__file__).resolve().parent.parent
COMMAND = Path(sys.executable).with_name("predictions")


def consistent(conn: sqlite3.Connection) -> None:
    """FTS5's own check of each index against its table (rank 1: against the content too)."""
    for index in fts.FULL_TEXT:
        conn.execute(f"INSERT INTO {index} ({index}, rank) VALUES ('integrity-check', 1)")


def search(db: Path, index: str, words: str) -> list[str]:
    table = fts.FULL_TEXT[index][0]
    conn = sqlite3.connect(db)
    try:
        consistent(conn)
        return [r[0] for r in conn.execute(
            f"SELECT id FROM {table} WHERE rowid IN (SELECT rowid FROM {index} WHERE {index} MATCH ?) ORDER BY id",
            [words])]  # fmt: skip
    finally:
        conn.close()


@pytest.fixture
def built(db_path):
    build(db_path)
    return db_path


def _raw(db: Path, *statements: str) -> None:
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        for statement in statements:
            conn.execute(statement)
    finally:
        conn.close()


# --- the tables -------------------------------------------------------------------------------------


def test_the_migration_makes_the_tables_fts_maintains_as_sqlite_utils_names_them():
    schema = _expected_schema()
    for index, (table, columns) in fts.FULL_TEXT.items():
        assert index == f"{table}_fts"  # sqlite-utils' name, which Datasette's docs use
        sql = schema[("table", index)][3]
        assert sql.startswith(f"CREATE VIRTUAL TABLE [{index}] USING FTS5") and f"content=[{table}]" in sql
        conn = sqlite3.connect(":memory:")
        conn.execute(sql.replace(f"content=[{table}]", "content=''"))
        assert tuple(r[1] for r in conn.execute(f"PRAGMA table_info({index})")) == columns
        for suffix in fts.SHADOW_SUFFIXES:
            assert ("table", f"{index}_{suffix}") in schema
        assert ("table", f"{index}_content") not in schema  # external content: the table is the content


def test_datasette_detects_the_index_by_its_own_query(built):
    # Datasette's detect_fts (datasette/utils/__init__.py): the virtual table naming the table as content.
    conn = sqlite3.connect(built)
    for index, (table, _) in fts.FULL_TEXT.items():
        found = conn.execute(
            "SELECT name FROM sqlite_master WHERE rootpage = 0 AND (sql LIKE ? OR sql LIKE ?)",
            [f'%VIRTUAL TABLE%USING FTS%content="{table}"%', f"%VIRTUAL TABLE%USING FTS%content=[{table}]%"],
        ).fetchall()
        assert found == [(index,)]
    conn.close()


# --- every write path keeps it current ---------------------------------------------------------------


def test_add_indexes_each_forecast_and_its_question(db_path):
    with Ledger(db_path) as ledger:
        first = ledger.add(**forecast_fields(claim="Zeppelins return", quote="airships are back"))
        assert search(db_path, "forecasts_fts", "zeppelins") == [first.id]
        second = ledger.add(**forecast_fields(claim="Hovercraft cross", resolution_criteria="YES if a hovercraft ferry runs."))
        on_question = ledger.add(question=first.id, source="Other Outlet", made_on="2026-02-01", probability=0.4)
    assert search(db_path, "forecasts_fts", "airships") == [first.id]
    assert search(db_path, "questions_fts", "hovercraft") == [second.question_id]
    assert on_question.id not in search(db_path, "forecasts_fts", "zeppelins")  # no claim of its own


def test_resolve_and_a_refused_write_leave_the_index_as_it_was(built):
    with Ledger(built) as ledger:
        ledger.resolve("delta-four", "no", on="2026-03-01", evidence="Cog report", early_reason="cogs banned",
                       today=TODAY)  # fmt: skip
        with pytest.raises(LedgerError):
            ledger.import_records([("in.jsonl:1", {**forecast_fields(id="epsilon-five", claim="Quokkas win"),
                                                   "made_on": "2026-01-15", "deadline": "2026-12-31"}),
                                   ("in.jsonl:2", {"id": "alpha-one"})])  # fmt: skip
    assert search(built, "forecasts_fts", "quokkas") == []
    assert search(built, "forecasts_fts", "cogs") == ["delta-four"]


def _records(n: int, word: str) -> list[tuple[str, dict]]:
    return [(f"in.jsonl:{i + 1}", {**forecast_fields(id=f"r{i:04d}", claim=f"{word} number {i}"),
                                   "made_on": "2026-01-15", "deadline": "2026-12-31"}) for i in range(n)]  # fmt: skip


def _traced_import(db: Path, records) -> list[str]:
    statements: list[str] = []
    with Ledger(db) as ledger:
        ledger.conn.set_trace_callback(statements.append)
        ledger.import_records(records)
    return statements


def test_a_bulk_import_into_an_empty_ledger_builds_the_index_once_at_the_end(db_path):
    statements = _traced_import(db_path, _records(4500, "walrus"))  # three batches
    rebuilds = [s for s in statements if "VALUES ('rebuild')" in s]
    assert len(rebuilds) == len(fts.FULL_TEXT)
    assert not [s for s in statements if "INSERT INTO forecasts_fts (rowid" in s]
    assert len(search(db_path, "forecasts_fts", "walrus")) == 4500


def test_an_import_into_a_ledger_with_forecasts_indexes_the_new_rows_once_at_the_end(built):
    statements = _traced_import(built, _records(4500, "narwhal"))  # three batches, one statement per index
    assert not [s for s in statements if "'rebuild'" in s]
    assert len([s for s in statements if "INSERT INTO forecasts_fts (rowid" in s]) == 1
    assert len([s for s in statements if "INSERT INTO questions_fts (rowid" in s]) == 1
    assert len(search(built, "forecasts_fts", "narwhal")) == 4500
    assert search(built, "forecasts_fts", "sprockets") == ["gamma-three"]


def test_seed_and_the_example_ledger_are_indexed(tmp_path):
    db = tmp_path / "seeded.db"
    result = subprocess.run([str(COMMAND), "--db", str(db), "seed", str(ROOT / "seeds")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    conn = sqlite3.connect(db)
    n = conn.execute("SELECT count(*) FROM forecasts").fetchone()[0]
    conn.close()
    assert len(search(db, "forecasts_fts", "anthropic OR claude OR amazon OR openai OR google OR microsoft")) > n // 2
    example = tmp_path / "example.db"
    shutil.copy(ROOT / "ledger.db.example", example)
    assert search(example, "forecasts_fts", "anthropic") == search(db, "forecasts_fts", "anthropic")


# --- verify ------------------------------------------------------------------------------------------


def test_a_tampered_index_is_reported_in_one_line(built):
    conn = sqlite3.connect(built)
    rowid, claim, quote = conn.execute("SELECT rowid, claim, quote FROM forecasts WHERE id = 'gamma-three'").fetchone()
    conn.close()
    # The words of one row swapped for others: a search for "sprockets" misses it, "bribes" finds it.
    _raw(built, f"INSERT INTO forecasts_fts (forecasts_fts, rowid, claim, quote) VALUES ('delete', {rowid}, "
                f"'{claim}', {'NULL' if quote is None else repr(quote)})",
         f"INSERT INTO forecasts_fts (rowid, claim) VALUES ({rowid}, 'bribes paid')")  # fmt: skip
    assert_broken(built, None, "the full-text index forecasts_fts does not match the forecasts table",
                  "VALUES ('rebuild')")  # fmt: skip
    result = subprocess.run([str(COMMAND), "--db", str(built), "verify"], capture_output=True, text=True)
    assert result.returncode == 1 and result.stderr.count("\n") == 1 and "forecasts_fts" in result.stderr
    _raw(built, "INSERT INTO forecasts_fts (forecasts_fts) VALUES ('rebuild')")  # what the message says to do
    assert run(built, "verify").exit_code == 0


def test_a_changed_index_setting_is_reported(built):
    _raw(built, "INSERT INTO questions_fts (questions_fts, rank) VALUES ('rank', 'bm25(10.0, 0.0)')")
    assert_broken(built, None, "the full-text index questions_fts has settings the migrations do not make")


def test_a_row_added_behind_the_tools_back_is_missing_from_the_index(built):
    # Raw SQL adding a question (and so also outside the chain) is reported; the index check says
    # that its words are not indexed either.
    _raw(built, "INSERT INTO questions (id, resolution_criteria, deadline, recorded_at) "
                "VALUES ('sneaky', 'YES if it sneaks in.', '2026-12-31', '2026-01-01T00:00:00Z')")  # fmt: skip
    result = run(built, "verify", "--json")
    messages = [p["message"] for p in json.loads(result.stdout)["problems"]]
    assert any("questions_fts does not match the questions table" in m for m in messages), messages


@pytest.mark.parametrize("query", ["?mode=ro", "?mode=ro&immutable=1"])
def test_verify_checks_the_index_on_a_read_only_connection_and_leaves_nothing(built, query):
    before = built.read_bytes()
    conn = sqlite3.connect(f"file:{built}{query}", uri=True, isolation_level=None)
    conn.execute("PRAGMA query_only = ON")
    for _ in range(2):  # twice on one connection: the temporary copy is gone after each
        assert chain.verify(conn).ok
        assert conn.execute("SELECT name FROM temp.sqlite_master").fetchall() == []
        assert conn.execute("PRAGMA query_only").fetchone()[0] == 1
        assert not conn.in_transaction
    conn.close()
    assert built.read_bytes() == before


def test_verify_inside_a_read_transaction_keeps_it_open(built):
    with Ledger(built, read_only=True) as ledger:
        ledger.conn.execute("BEGIN")
        assert chain.verify(ledger.conn).ok
        assert ledger.conn.in_transaction
        ledger.conn.execute("ROLLBACK")


@pytest.mark.parametrize(
    ("statements", "words"),
    [
        (["CREATE VIRTUAL TABLE my_search USING fts5(claim, content='forecasts')"],
         "the virtual table my_search is not part of the ledger's schema"),
        (["create virtual table my_rtree using rtree(id, x0, x1)"], "the virtual table my_rtree is not part"),
        (["CREATE TABLE forecasts_fts_content (id INTEGER PRIMARY KEY, c0, c1)"],
         "the table forecasts_fts_content is named like a shadow table of forecasts_fts"),
        (["DROP TABLE questions_fts"], "the table questions_fts is missing from the schema"),
        (["DROP TABLE forecasts_fts",
          "CREATE VIRTUAL TABLE forecasts_fts USING fts5(claim, quote, content=forecasts, tokenize=porter)",
          "INSERT INTO forecasts_fts (forecasts_fts) VALUES ('rebuild')"],
         "the table forecasts_fts differs from the one the migrations create"),
    ],
)  # fmt: skip
def test_other_virtual_and_shadow_tables_are_reported(built, statements, words):
    _raw(built, *statements)
    assert_broken(built, None, words)


def test_a_users_virtual_table_is_named_once_not_with_each_of_its_shadow_tables(built):
    _raw(built, "CREATE VIRTUAL TABLE my_search USING fts5(claim)")
    problems = json.loads(run(built, "verify", "--json").stdout)["problems"]
    assert [p["message"] for p in problems if "my_search" in p["message"]] == [
        "the virtual table my_search is not part of the ledger's schema (a full-text index Datasette "
        "could search instead of the ledger's, or a module's table)"
    ]


def test_the_users_own_plain_objects_are_still_accepted(built):
    _raw(built, "CREATE TABLE my_notes (text TEXT)", "CREATE VIEW my_claims AS SELECT claim FROM forecasts",
         "CREATE INDEX my_fts_docs ON forecasts_fts_docsize(sz)")  # fmt: skip
    assert run(built, "verify").exit_code == 0


def test_a_bulk_loaded_ledger_and_one_written_row_by_row_search_alike(tmp_path):
    records = _records(50, "ocelot")
    bulk, one_by_one = tmp_path / "bulk.db", tmp_path / "rows.db"
    with Ledger(bulk) as ledger:
        ledger.import_records(records)
    with Ledger(one_by_one) as ledger:
        ledger.add(**forecast_fields(id="zz-first", claim="An ocelot first"))
        for where, record in records:
            ledger.import_records([(where, record)])
    ids = [record["id"] for _, record in records]
    assert search(bulk, "forecasts_fts", "ocelot") == ids
    assert search(one_by_one, "forecasts_fts", "ocelot") == [*ids, "zz-first"]
    for db in (bulk, one_by_one):
        assert run(db, "verify").exit_code == 0



def test_a_write_into_a_damaged_index_is_refused_in_one_line_and_writes_nothing(built):
    # A structure record FTS5 cannot read: it answers the insert with a constraint failure, after
    # which SQLite has rolled the whole transaction back.
    _raw(built, "UPDATE forecasts_fts_data SET block = x'00ff00ff' WHERE id = 10")
    before = subprocess.run([str(COMMAND), "--db", str(built), "export"], capture_output=True, text=True).stdout
    result = subprocess.run([str(COMMAND), "--db", str(built), "add", "--source", "X", "--made-on", "2026-05-12",
                             "--claim", "Yaks fly", "--deadline", "2026-12-31", "--criteria", "YES if yaks fly.",
                             "--probability", "0.5"], capture_output=True, text=True)  # fmt: skip
    assert result.returncode == 1 and result.stdout == "" and result.stderr.count("\n") == 1
    assert "the full-text index forecasts_fts is damaged" in result.stderr and fts.rebuild_sql("forecasts_fts") in result.stderr
    after = subprocess.run([str(COMMAND), "--db", str(built), "export"], capture_output=True, text=True).stdout
    assert after == before
    _raw(built, fts.rebuild_sql("forecasts_fts"))
    with Ledger(built) as ledger:
        ledger.add(**forecast_fields(claim="Yaks fly"))
    assert len(search(built, "forecasts_fts", "yaks")) == 1 and run(built, "verify").exit_code == 0


WORDS = ["alpaca", "bison", "caribou", "dingo", "emu", "ferret"]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.tuples(st.sampled_from(["add", "join", "import", "resolve"]), st.sampled_from(WORDS),
                                st.integers(1, 5)), min_size=1, max_size=8))  # fmt: skip
def test_any_sequence_of_writes_keeps_the_index_exact(tmp_path_factory, steps):
    """Whatever the tool writes, in whatever order, a search for a word finds exactly the forecasts
    and questions whose text holds it, and FTS5's check passes."""
    db = tmp_path_factory.mktemp("seq") / "ledger.db"
    claims: dict[str, str] = {}
    criteria: dict[str, str] = {}
    with Ledger(db) as ledger:
        for number, (kind, word, k) in enumerate(steps):
            fid = f"f{number:02d}"
            if kind == "add" or not criteria:
                ledger.add(**forecast_fields(id=fid, claim=f"The {word} wins", resolution_criteria=f"YES if a {word} wins."))
                claims[fid], criteria[fid] = word, word
            elif kind == "join":
                ledger.add(question=sorted(criteria)[k % len(criteria)], source=f"S{number}", made_on="2026-02-01",
                           probability=0.5, id=fid)  # fmt: skip
                claims[fid] = ""
            elif kind == "import":
                records = [(f"in:{i}", {**forecast_fields(id=f"{fid}-{i}", claim=f"An {word} {i}"),
                                        "made_on": "2026-01-15", "deadline": "2026-12-31"}) for i in range(k)]  # fmt: skip
                ledger.import_records(records)
                claims.update({f"{fid}-{i}": word for i in range(k)})
                criteria.update({f"{fid}-{i}": "widget" for i in range(k)})
            else:
                open_ = [q for q in sorted(criteria) if ledger.get_question(q).current is None]
                if open_:
                    ledger.resolve(open_[k % len(open_)], "yes", on="2026-03-01", evidence="Seen")
    for word in WORDS:
        assert search(db, "forecasts_fts", word) == sorted(i for i, w in claims.items() if w == word)
        assert search(db, "questions_fts", word) == sorted(q for q, w in criteria.items() if w == word)
