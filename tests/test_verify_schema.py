"""verify and the schema: what the chain does not hash (indexes, triggers, views, the file itself),
payloads and columns the tool cannot read (deep nesting, bytes that are not UTF-8, blobs), and
ledgers whose indexes were dropped. docs/integrity.md states each rule tested here."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from predictions import Ledger

from .conftest import forecast_fields
from .test_integrity import assert_broken, build, run

SCRIPT = Path(sys.executable).with_name("predictions")


@pytest.fixture
def built(db_path):
    build(db_path)
    return db_path


def _raw(db: Path, *statements, writable_schema: bool = False) -> None:
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        if writable_schema:
            conn.execute("PRAGMA writable_schema = ON")
        for statement in statements:
            statement(conn) if callable(statement) else conn.execute(statement)
        if writable_schema:
            conn.execute("PRAGMA writable_schema = OFF")
    finally:
        conn.close()


def _ok(db: Path):
    result = run(db, "verify")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("OK: all 6 chain entries check out")


def _scored(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT count(*) FROM scored").fetchone()[0]
    finally:
        conn.close()


# --- class 3: index contents, schema objects by type and name, user objects that change rules ------


def test_an_index_whose_contents_do_not_match_its_definition_is_reported(built):
    # A partial index holding only the 'yes' rows, relabelled through writable_schema as a full
    # one: every query the planner sends through it loses the 'no' rows. The schema text is a plain
    # index of the user's own, so only the index's contents give it away.
    scored = _scored(built)
    _raw(built, "CREATE INDEX by_outcome ON questions(outcome) WHERE outcome = 'yes'")
    _raw(built, "UPDATE sqlite_master SET sql = 'CREATE INDEX by_outcome ON questions(outcome)' "
                "WHERE name = 'by_outcome'", writable_schema=True)  # fmt: skip
    assert _scored(built) < scored  # the attack works: 'no' rows vanished from scored
    assert_broken(built, None, "SQLite's integrity check", "missing from index by_outcome")


def test_swapped_index_rootpages_are_reported(built):
    def swap(conn):
        (a,), (b,) = conn.execute("SELECT rootpage FROM sqlite_master WHERE name IN "
                                  "('forecasts_source', 'forecasts_document') ORDER BY name").fetchall()  # fmt: skip
        conn.execute("UPDATE sqlite_master SET rootpage = ? WHERE name = 'forecasts_document'", [b])
        conn.execute("UPDATE sqlite_master SET rootpage = ? WHERE name = 'forecasts_source'", [a])

    _raw(built, swap, writable_schema=True)
    assert_broken(built, None, "SQLite's integrity check")


def test_an_index_missing_some_rows_is_reported(built):
    # The ledger's own index, emptied of rows by pointing it at a fresh b-tree of the same shape.
    _raw(built, "CREATE INDEX spare ON forecasts(source) WHERE 0")

    def repoint(conn):
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'spare'").fetchone()[0]
        conn.execute("UPDATE sqlite_master SET rootpage = ? WHERE name = 'forecasts_source'", [root])
        conn.execute("DELETE FROM sqlite_master WHERE name = 'spare'")

    _raw(built, repoint, writable_schema=True)
    assert_broken(built, None, "SQLite's integrity check", "forecasts_source")


@pytest.mark.parametrize("name", ["sqlite_stat1", "sqlite_autoindex_forecasts_9", "sqlite_sequence", "_sqlite_migrations"])
def test_a_trigger_named_like_an_internal_object_is_reported(built, name):
    sql = (f"CREATE TRIGGER {name} BEFORE INSERT ON resolutions WHEN NEW.outcome = 'no' "
           "BEGIN SELECT RAISE(ABORT, 'database is locked'); END")  # fmt: skip
    _raw(built, lambda c: c.execute("INSERT INTO sqlite_master VALUES ('trigger', ?, 'resolutions', 0, ?)", [name, sql]),
         writable_schema=True)  # fmt: skip
    assert_broken(built, None, f"the trigger {name} is not part of the ledger's schema")


def test_objects_named_like_sqlites_own_are_reported(built):
    _raw(built, lambda c: c.execute("INSERT INTO sqlite_master VALUES ('view', 'sqlite_stat1', 'sqlite_stat1', 0, "
                                    "'CREATE VIEW sqlite_stat1 AS SELECT 1 AS tbl, 2 AS idx, 3 AS stat')"),
         writable_schema=True)  # fmt: skip
    assert_broken(built, None, "the view sqlite_stat1 is named like one of SQLite's own tables")


@pytest.mark.parametrize(
    ("statement", "words"),
    [
        ("CREATE UNIQUE INDEX one_claim ON forecasts(claim)", "the index one_claim on forecasts is UNIQUE"),
        ("CREATE UNIQUE INDEX one_per_day ON resolutions(resolved_on)", "the index one_per_day on resolutions is UNIQUE"),
        ("CREATE INDEX yes_only ON questions(outcome) WHERE outcome = 'yes'", "the index yes_only on questions is partial"),
        ("CREATE INDEX lowered ON forecasts(lower(source))", "the index lowered on forecasts indexes an expression"),
        ("CREATE UNIQUE INDEX one_run ON _sqlite_migrations(name)", "the index one_run on _sqlite_migrations is UNIQUE"),
    ],
)  # fmt: skip
def test_a_users_index_that_can_change_a_rule_is_reported(built, statement, words):
    _raw(built, statement)
    assert_broken(built, None, words)


def test_an_index_with_a_collation_this_process_lacks_is_reported(built):
    def with_collation(conn):
        conn.create_collation("reversed", lambda a, b: (a < b) - (a > b))
        conn.execute("CREATE INDEX odd_order ON forecasts(source COLLATE reversed)")

    _raw(built, with_collation)
    with Ledger(built) as ledger:  # the attack: every write to forecasts now fails
        with pytest.raises(Exception):
            ledger.add(**forecast_fields(id="new-one"))
    assert_broken(built, None, "the index odd_order on forecasts uses the collation reversed")


@pytest.mark.parametrize(
    ("statement", "words"),
    [
        ("CREATE VIEW json_each AS SELECT 1 AS value", "the view json_each stands in for SQLite's built-in json_each"),
        ("CREATE TABLE pragma_table_info (cid, name)", "the table pragma_table_info stands in for SQLite's built-in"),
    ],
)
def test_a_view_or_table_shadowing_a_builtin_is_reported(built, statement, words):
    _raw(built, statement)
    assert_broken(built, None, words)


def test_the_users_own_objects_that_change_no_rule_are_accepted(built):
    # Each kind of object docs/integrity.md accepts, all at once.
    _raw(
        built,
        "CREATE INDEX my_source_nocase ON forecasts(source COLLATE NOCASE, made_on DESC)",
        "CREATE INDEX my_evidence ON resolutions(evidence COLLATE RTRIM)",
        "CREATE TABLE my_notes (id INTEGER PRIMARY KEY AUTOINCREMENT, forecast_id TEXT UNIQUE, text TEXT)",
        "INSERT INTO my_notes (forecast_id, text) VALUES ('alpha-one', 'hm')",  # sqlite_sequence appears
        "CREATE UNIQUE INDEX my_notes_text ON my_notes(text) WHERE text <> ''",
        "CREATE VIEW my_late AS SELECT id FROM questions WHERE deadline < '2026-06-01'",
        "ANALYZE",
    )
    _ok(built)


def test_every_trigger_is_reported_even_on_a_users_table(built):
    _raw(built, "CREATE TABLE my_notes (text TEXT)",
         "CREATE TRIGGER my_notes_log AFTER INSERT ON my_notes BEGIN SELECT 1; END")  # fmt: skip
    assert_broken(built, None, "the trigger my_notes_log is not part of the ledger's schema")


def test_an_unreadable_schema_object_is_a_finding_not_a_crash(built):
    # An index using a collation nobody defines, written straight into the schema: SQLite cannot
    # even run its integrity check on the file.
    _raw(built, lambda c: c.execute("INSERT INTO sqlite_master VALUES ('index', 'ghost', 'forecasts', 0, "
                                    "'CREATE INDEX ghost ON forecasts(source COLLATE nowhere)')"),
         writable_schema=True)  # fmt: skip
    report = assert_broken(built, None, "the index ghost on forecasts uses the collation nowhere")
    assert any("integrity check" in p["message"] or "could not be read" in p["message"] for p in report["problems"])


@pytest.mark.parametrize(("kind", "name"), [("index", "sqlite_autoindex_forecasts_2"), ("bogus", "thing")])
def test_a_schema_sqlite_cannot_read_is_refused_in_one_line(built, kind, name):
    # An automatic index no constraint made, an object of no known type: SQLite refuses the file.
    def plant(conn):
        conn.execute("CREATE INDEX spare ON forecasts(source)")
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'spare'").fetchone()[0]
        conn.execute("PRAGMA writable_schema = ON")
        conn.execute("DELETE FROM sqlite_master WHERE name = 'spare'")
        conn.execute("INSERT INTO sqlite_master VALUES (?, ?, 'forecasts', ?, NULL)", [kind, name, root])

    _raw(built, plant)
    result = run(built, "verify")
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "malformed database schema" in result.stderr


# --- class 8: a dropped index neither stalls verify nor goes unreported ------------------------------

_DROPPABLE = ["forecasts_document", "forecasts_question", "forecasts_source", "question_tags_tag",
              "questions_deadline", "questions_shared", "questions_unscored", "resolutions_question"]  # fmt: skip


def test_the_droppable_indexes_are_every_index_a_new_ledger_has(built):
    conn = sqlite3.connect(built)
    names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                                        "AND tbl_name <> '_sqlite_migrations' ORDER BY name")]  # fmt: skip
    conn.close()
    assert names == _DROPPABLE


@pytest.mark.parametrize("index", _DROPPABLE)
def test_each_dropped_index_is_reported_first(built, index):
    _raw(built, f"DROP INDEX {index}")
    result = run(built, "verify")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0] == f"FAILED ledger: the index {index} is missing from the schema"
    assert_broken(built, None, f"the index {index} is missing from the schema")


def test_a_missing_object_is_reported_before_the_chain_is_read(built):
    _raw(built, "DROP INDEX resolutions_question")
    statements, heard_after = [], []
    with Ledger(built) as ledger:
        ledger.conn.set_trace_callback(statements.append)
        result = ledger.verify(on_problem=lambda p: heard_after.append(list(statements)))
    assert "the index resolutions_question is missing" in str(result.problems[0])
    first = heard_after[0]
    assert not any("FROM entries" in s or "integrity_check" in s for s in first), first


def _loops_that_scan_inside_a_loop(plan) -> list[str]:
    """From an EXPLAIN QUERY PLAN: full scans run once per row of an outer loop (a join's inner
    table, or the body of a correlated subquery). A scan in a MATERIALIZE or LIST SUBQUERY runs once;
    `SCAN (subquery-N)` reads a co-routine's rows for the current outer row only."""
    details = {node: detail for node, _, _, detail in plan}
    children = defaultdict(list)
    for node, parent, _, detail in plan:
        children[parent].append(detail)
    def full(detail):  # a SEARCH with no index ("SEARCH resolutions") reads the whole table too
        return detail.startswith("SCAN") or (detail.startswith("SEARCH") and " USING " not in detail)

    bad = []
    for parent, kids in children.items():
        loops = [d for d in kids if d.startswith(("SCAN", "SEARCH"))
                 and d != "SCAN CONSTANT ROW" and not d.startswith("SCAN (subquery-")]
        if "CORRELATED" in details.get(parent, ""):
            bad += [d for d in loops if full(d)]
        bad += [d for d in loops[1:] if full(d)]
    return bad


def test_no_query_of_verify_needs_a_secondary_index(built):
    # Linear whatever indexes exist: with every droppable index gone, no query verify runs scans
    # a table inside a loop (the latest-resolution check used to, once per forecast).
    from predictions import chain

    conn = sqlite3.connect(built)
    for index in _DROPPABLE:
        conn.execute(f"DROP INDEX {index}")
    seen = []
    conn.set_trace_callback(seen.append)
    chain.verify(conn)
    conn.set_trace_callback(None)
    # (The full-text check's temporary copy is gone once verify returns: its reads are not replayed.)
    selects = [s for s in seen if s.lstrip().upper().startswith(("SELECT", "WITH")) and "temp." not in s]
    assert len(selects) >= 8
    for statement in selects:
        plan = conn.execute("EXPLAIN QUERY PLAN " + statement).fetchall()
        assert _loops_that_scan_inside_a_loop(plan) == [], statement
    conn.close()


def test_the_plan_check_sees_a_scan_inside_a_loop(built):
    conn = sqlite3.connect(built)
    conn.execute("DROP INDEX resolutions_question")
    for query in ("SELECT q.id FROM questions q WHERE q.outcome IS NOT "
                  "(SELECT outcome FROM resolutions r WHERE r.question_id = q.id ORDER BY id DESC LIMIT 1)",
                  # the latest-resolution check verify used to run
                  "SELECT q.id, r.outcome FROM questions q LEFT JOIN resolutions r "
                  "ON r.id = (SELECT max(id) FROM resolutions WHERE question_id = q.id) WHERE q.outcome IS NOT r.outcome"):  # fmt: skip
        assert _loops_that_scan_inside_a_loop(conn.execute("EXPLAIN QUERY PLAN " + query).fetchall()), query
    conn.close()


@pytest.mark.parametrize("command", [["export"], ["list"], ["show", "beta-two"], ["history", "beta-two"]])
def test_export_and_list_without_the_history_index_fail_at_once_with_one_line(built, command):
    # They read each forecast's history through resolutions_question: without it, a scan of every
    # resolution per forecast (minutes at 200k). Named in the query, its absence is an error at once.
    _raw(built, "DROP INDEX resolutions_question")
    refused = run(built, "report", "--for", "2026")  # it verifies first, which names the index
    assert refused.exit_code == 1 and "the index resolutions_question is missing" in refused.stderr
    result = run(built, *command)
    assert result.exit_code == 1
    assert "unexpected" not in result.stderr
    assert "resolutions_question" in result.stderr and "predictions verify" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


# --- class 5: what the tool cannot read is a finding (verify) or one clear line (the others) -------


def _replace_last_payload(payload: bytes, *, as_blob: bool = False):
    """Entry 6's payload replaced, with a hash right for its bytes (a forger who knows the format)."""

    def replace(conn):
        prev = conn.execute("SELECT prev_hash FROM entries WHERE seq = 6").fetchone()[0]
        digest = hashlib.sha256(prev.encode() + b"\n" + payload).hexdigest()
        trigger = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'entries_no_update'").fetchone()[0]
        conn.execute("DROP TRIGGER entries_no_update")
        value = "?" if as_blob else "CAST(? AS TEXT)"  # CAST keeps the bytes, UTF-8 or not
        conn.execute(f"UPDATE entries SET payload = {value}, hash = ? WHERE seq = 6", [payload, digest])
        conn.execute(trigger)

    return replace


DEEP = ("[" * 100_000 + "]" * 100_000).encode()


@pytest.mark.parametrize(
    ("payload", "as_blob", "words"),
    [
        (DEEP, False, "not a JSON object (or is nested too deeply to read)"),
        ('{"claim":"caf\xff"}'.encode("latin-1"), False, "its payload is not valid UTF-8 text"),
        (b'{"id":"delta-four"}', True, "its payload is a blob, not text"),
    ],
    ids=["deeply-nested", "invalid-utf8", "blob"],
)
def test_an_unreadable_payload_is_a_finding_naming_the_entry(built, payload, as_blob, words):
    _raw(built, _replace_last_payload(payload, as_blob=as_blob))
    report = assert_broken(built, 6, words)
    assert "unexpected" not in json.dumps(report)
    head = run(built, "head")  # head is meant to work on a damaged ledger
    assert head.exit_code == 0, head.output
    assert len(head.stdout.strip()) == 64
    for command in (["head", "--json"], ["list"], ["export"]):  # they do not read the payloads
        result = run(built, *command)
        assert result.exit_code == 0, (command, result.output)
    refused = run(built, "report", "--for", "2026")  # it verifies first
    assert refused.exit_code == 1 and "failed verification" in refused.stderr and "entry 6" in refused.stderr


def test_invalid_utf8_in_the_entries_own_columns_is_a_finding_and_head_still_prints(built):
    def garble(conn):
        conn.execute("DROP TRIGGER entries_no_update")
        conn.execute("UPDATE entries SET hash = CAST(X'1b5b324a4f4bff' AS TEXT), subject_id = CAST(X'ff1b' AS TEXT) "
                     "WHERE seq = 6")  # fmt: skip
        conn.execute("CREATE TRIGGER entries_no_update BEFORE UPDATE ON entries "
                     "BEGIN SELECT RAISE(ABORT, 'entries are append-only'); END")  # fmt: skip

    _raw(built, garble)
    assert_broken(built, 6)
    result = run(built, "verify")
    assert "\x1b" not in result.stdout + result.stderr
    head = run(built, "head")
    assert head.exit_code == 0
    assert head.stdout == "\\x1b[2JOK\\xff\n"  # the bytes, escaped: no terminal sequence runs
    as_json = run(built, "head", "--json")
    assert json.loads(as_json.stdout)["hash"] == "\x1b[2JOK\\xff"
    assert "\x1b" not in as_json.stdout


@pytest.mark.parametrize("column", ["claim", "source"])
def test_invalid_utf8_in_a_table_column_is_named_by_verify_and_one_line_elsewhere(built, column):
    def garble(conn):
        conn.execute("DROP TRIGGER forecasts_no_edit")
        conn.execute(f"UPDATE forecasts SET {column} = CAST(X'4761646765747320ff' AS TEXT) WHERE id = 'beta-two'")
        conn.execute("CREATE TRIGGER forecasts_no_edit BEFORE UPDATE OF "
                     "id, source, source_kind, document_id, claim, quote, question, resolution_criteria, "
                     "made_on, deadline, deadline_text, deadline_assumed, probability, probability_basis, "
                     "phrase, note, recorded_at ON forecasts "
                     "BEGIN SELECT RAISE(ABORT, 'a recorded forecast cannot be changed'); END")  # fmt: skip

    _raw(built, garble)
    assert_broken(built, 2, "forecast beta-two", f"{column} is")
    for command in (["list"], ["show", "beta-two"], ["export"], ["report", "--for", "2026"], ["score"]):
        result = run(built, *command)
        lines = result.stderr.strip().splitlines()
        assert "unexpected" not in result.stderr and "Traceback" not in result.output, (command, result.output)
        if result.exit_code:  # one line: the column (or, for report, which verifies first, the entry)
            assert len(lines) == 1 and ("not UTF-8" in lines[0] or "entry 2" in lines[0]), (command, lines)


def test_crash_paths_through_the_installed_command(built, tmp_path):
    _raw(built, _replace_last_payload(DEEP))
    for command in (["verify"], ["verify", "--json"], ["head"], ["report", "--for", "2026"]):
        done = subprocess.run([str(SCRIPT), "--db", str(built), *command], capture_output=True, text=True,
                              timeout=120)  # fmt: skip
        assert "unexpected" not in done.stderr and "Traceback" not in done.stderr, (command, done.stderr)
        assert done.returncode == (0 if command[0] == "head" else 1), (command, done.stderr)
        if command == ["verify"]:
            assert "entry 6 (forecast delta-four): the chain's payload is not a JSON object" in done.stderr


def test_blobs_and_numbers_in_the_entries_own_columns_are_findings_in_text_and_json(built):
    def garble(conn):
        conn.execute("DROP TRIGGER entries_no_update")
        conn.execute("UPDATE entries SET subject_id = X'00ff1b' WHERE seq = 2")
        conn.execute("UPDATE entries SET subject_id = 42 WHERE seq = 4")
        conn.execute("UPDATE entries SET hash = X'1b5b324a' WHERE seq = 6")
        conn.execute("CREATE TRIGGER entries_no_update BEFORE UPDATE ON entries "
                     "BEGIN SELECT RAISE(ABORT, 'entries are append-only'); END")  # fmt: skip

    _raw(built, garble)
    report = assert_broken(built, 2, "forecast b'\\x00\\xff\\x1b'")
    assert {"b'\\x00\\xff\\x1b'", "42"} <= {p["forecast_id"] for p in report["problems"]}
    assert report["head"] == "b'\\x1b[2J'"
    assert "\x1b" not in run(built, "verify").stdout
