"""Tamper evidence: every way of changing what the ledger says behind its back is caught by `verify`.

The schema refuses UPDATE and DELETE with triggers; an attacker with the file simply drops them
(`_tamper` does exactly that) and edits rows with raw SQL. Each case below asserts that `verify`
exits 1 and names the first broken entry and what differs; one case shows the limit (a rewrite of
the whole chain) and how a published head closes it (`verify --contains`).
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from predictions import Ledger
from predictions.chain import GENESIS, chain_hash
from predictions import escape_terminal as terminal
from predictions.model import canonical_json
from predictions_cli.main import cli

from .conftest import TODAY, forecast_fields

DOCS = Path(__file__).resolve().parent.parent / "docs" / "integrity.md"
VERIFY_JSON_KEYS = {"ok", "entries", "questions", "forecasts", "resolutions", "head", "first_problem", "problems",
                    "contains", "contains_found"}  # fmt: skip


def run(db: Path, *args: str):
    """The CLI in-process, with a fixed --today; stdout and stderr kept apart."""
    return CliRunner().invoke(cli, ["--db", str(db), "--today", TODAY.isoformat(), *args])


def build(db: Path) -> None:
    """Six entries: three forecasts (one with a document and tags), a resolution, a correction, a fourth forecast.

    chain: 1 alpha-one, 2 beta-two, 3 resolution 1 (beta-two yes), 4 gamma-three,
           5 resolution 2 (beta-two corrected to no), 6 delta-four
    """
    with Ledger(db) as ledger:
        ledger.add(**forecast_fields(id="alpha-one", probability=0.7, tags=["econ", "widgets"],
                                     document={"title": "Widget outlook", "author": "A. Writer",
                                               "url": "https://example.org/w"}))  # fmt: skip
        ledger.add(**forecast_fields(id="beta-two", claim="Gadgets halve", probability=0.2))
        ledger.resolve("beta-two", "yes", on="2026-03-01", evidence="Gadget report", today=TODAY)
        ledger.add(**forecast_fields(id="gamma-three", claim="Sprockets rise", probability=0.55, tags=["econ"]))
        ledger.resolve("beta-two", "no", on="2026-03-02", evidence="Revised gadget report",
                       correction="first report was wrong", early_reason="the series was discontinued",
                       today=TODAY)  # fmt: skip
        ledger.add(**forecast_fields(id="delta-four", claim="Cogs fall", probability=0.1))


@pytest.fixture
def built(db_path):
    build(db_path)
    return db_path


def _tamper(db: Path, *statements, ignore_checks: bool = False) -> None:
    """What an attacker with the file does: drop the append-only triggers, edit with raw SQL, and
    put the triggers back (verify compares the schema too; see test_a_changed_schema_is_reported).

    A statement may be a callable taking the connection (to recompute hashes like a careful forger).
    """
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        if ignore_checks:
            conn.execute("PRAGMA ignore_check_constraints = ON")
        conn.execute("BEGIN")
        triggers = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall()
        for name, _ in triggers:
            conn.execute(f'DROP TRIGGER "{name}"')
        for statement in statements:
            statement(conn) if callable(statement) else conn.execute(statement)
        for _, sql in triggers:
            conn.execute(sql)
        conn.execute("COMMIT")
    finally:
        conn.close()


def _rechain(conn: sqlite3.Connection, start: int = 1) -> None:
    """Recompute every hash from entry `start` on: a consistent forgery the chain alone cannot see."""
    prev = GENESIS if start == 1 else conn.execute("SELECT hash FROM entries WHERE seq = ?", [start - 1]).fetchone()[0]
    for seq, payload in conn.execute("SELECT seq, payload FROM entries WHERE seq >= ? ORDER BY seq", [start]).fetchall():
        digest = chain_hash(prev, payload)
        conn.execute("UPDATE entries SET prev_hash = ?, hash = ? WHERE seq = ?", [prev, digest, seq])
        prev = digest


def _set_payload(seq: int, **changes):
    def edit(conn):
        payload = json.loads(conn.execute("SELECT payload FROM entries WHERE seq = ?", [seq]).fetchone()[0])
        payload.update(changes)
        conn.execute("UPDATE entries SET payload = ? WHERE seq = ?", [canonical_json(payload), seq])

    return edit


def _rehash(seq: int):
    def rehash(conn):
        prev, payload = conn.execute("SELECT prev_hash, payload FROM entries WHERE seq = ?", [seq]).fetchone()
        conn.execute("UPDATE entries SET hash = ? WHERE seq = ?", [chain_hash(prev, payload), seq])

    return rehash


def assert_broken(db: Path, entry: int | None, *words: str) -> dict:
    """verify exits 1, its last stderr line names `entry` and `words`; --json says the same."""
    result = run(db, "verify")
    assert result.exit_code == 1, result.output
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: verification failed: ")
    where = f"entry {entry}" if entry is not None else "ledger"
    assert f"failed: {where}" in last, last
    for word in words:
        assert word in last, (word, last)
    assert "Traceback" not in result.output
    as_json = run(db, "verify", "--json")
    assert as_json.exit_code == 1
    report = json.loads(as_json.stdout)
    assert set(report) == VERIFY_JSON_KEYS
    assert report["ok"] is False
    assert report["problems"][0]["entry"] == entry
    assert terminal(report["first_problem"]) == last.removeprefix("Error: verification failed: ")  # escaped there
    return report


# --- what the tool writes verifies ----------------------------------------------------------------


def test_a_ledger_the_tool_wrote_verifies(built):
    result = run(built, "verify")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("OK: all 6 chain entries check out (4 forecasts, 2 resolutions and corrections); head ")
    report = json.loads(run(built, "verify", "--json").stdout)
    assert set(report) == VERIFY_JSON_KEYS
    assert report | {"head": None} == {
        "ok": True, "entries": 6, "questions": 4, "forecasts": 4, "resolutions": 2, "head": None,
        "first_problem": None, "problems": [], "contains": None, "contains_found": None,
    }  # fmt: skip
    head = run(built, "head")
    assert head.exit_code == 0
    assert head.stdout.strip() == report["head"]
    assert re.fullmatch(r"[0-9a-f]{64}", report["head"])
    head_json = json.loads(run(built, "head", "--json").stdout)
    assert head_json["hash"] == report["head"] and head_json["entries"] == 6 and head_json["forecasts"] == 4


def test_each_entry_hash_is_sha256_of_prev_newline_canonical_payload(built):
    """The documented form, spelled out: an outsider's arithmetic gives the stored hashes."""
    conn = sqlite3.connect(built)
    prev = "0" * 64
    for seq, kind, payload, prev_hash, stored in conn.execute(
        "SELECT seq, kind, payload, prev_hash, hash FROM entries ORDER BY seq"
    ):
        value = json.loads(payload)
        assert payload == json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert prev_hash == prev
        assert stored == hashlib.sha256((prev + "\n" + payload).encode("utf-8")).hexdigest()
        prev = stored
    conn.close()


@pytest.mark.parametrize("fmt", ["jsonl", "json", "csv"])
def test_export_then_import_into_a_new_file_verifies_and_says_the_same(built, tmp_path, fmt):
    exported = tmp_path / f"out.{fmt}"
    assert run(built, "export", "--format", fmt, "-o", str(exported)).exit_code == 0
    copy = tmp_path / "copy.db"
    imported = run(copy, "import", str(exported))
    assert imported.exit_code == 0, imported.output
    assert run(copy, "verify").exit_code == 0
    assert run(copy, "export").stdout == run(built, "export").stdout


def test_negative_zero_probability_still_verifies(db_path):
    """SQLite stores -0.0 as 0.0: a chain recording -0.0 would disagree with its own table."""
    with Ledger(db_path) as ledger:
        ledger.add(**forecast_fields(probability=-0.0))
        ledger.import_records([("x:1", {**forecast_fields(probability="-0.0", id="neg-zero"),
                                        "made_on": "2026-01-15", "deadline": "2026-12-31"})])  # fmt: skip
        assert ledger.verify().ok, ledger.verify().problems


_text = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Cf", "Zl", "Zp")) | st.sampled_from("\n\t"), min_size=1, max_size=40)


@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])  # fmt: skip
@given(
    forecasts=st.lists(
        st.fixed_dictionaries({
            "claim": _text.filter(str.strip),
            "source": st.text(st.characters(blacklist_categories=("Cs", "Cc", "Cf", "Zl", "Zp")), min_size=1, max_size=30).filter(str.strip),
            "probability": st.one_of(st.just(-0.0), st.just(5e-324), st.floats(0.0, 1.0)),
            "note": st.none() | _text,
            "tags": st.lists(st.from_regex(r"[a-z0-9][a-z0-9._-]{0,8}", fullmatch=True), max_size=3),
        }),
        min_size=1, max_size=4,
    ),
    resolve=st.lists(st.booleans(), min_size=4, max_size=4),
)  # fmt: skip
def test_any_ledger_the_tool_writes_verifies_and_rechecks_independently(tmp_path_factory, forecasts, resolve):
    db = tmp_path_factory.mktemp("any") / "ledger.db"
    with Ledger(db) as ledger:
        for number, fields in enumerate(forecasts):
            added = ledger.add(**forecast_fields(**fields, id=f"f-{number:03d}"))
            if resolve[number]:
                ledger.resolve(added.id, "yes", on="2026-02-01", evidence=fields["claim"], today=TODAY)
        verification = ledger.verify()
        head = ledger.head().hash
    assert verification.ok, verification.problems
    assert independent_recheck(db) == (0, head)


# --- the independent re-checker in docs/integrity.md -------------------------------------------------


def recheck_script() -> str:
    """The Python block of docs/integrity.md that follows the 'Re-checking without this tool' heading."""
    text = DOCS.read_text(encoding="utf-8")
    section = text[text.index("## Re-checking without this tool"):]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def independent_recheck(db: Path) -> tuple[int, str]:
    result = subprocess.run([sys.executable, "-I", "-c", recheck_script(), str(db)],
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    return result.returncode, (result.stdout.strip() if result.returncode == 0 else result.stderr.strip())


def test_the_documented_rechecker_uses_no_project_code():
    script = recheck_script()
    imported = set(re.findall(r"^\s*(?:import|from)\s+([\w.]+)", script, re.M))
    assert imported <= {"hashlib", "json", "sqlite3", "sys"}, imported
    assert not re.search(r"(import|from)\s+predictions", script)


def test_the_documented_rechecker_agrees_with_head(built):
    code, out = independent_recheck(built)
    assert code == 0, out
    assert out == run(built, "head").stdout.strip()


@pytest.mark.parametrize(
    "statements",
    [
        ["UPDATE forecasts SET probability = 0.9 WHERE id = 'alpha-one'"],
        ["UPDATE questions SET deadline = '2027-12-31' WHERE id = 'gamma-three'"],
        ["UPDATE resolutions SET outcome = 'yes' WHERE id = 2"],
        ["UPDATE questions SET outcome = 'yes' WHERE id = 'beta-two'"],
        ["DELETE FROM entries WHERE seq = 3"],
        ["UPDATE entries SET payload = replace(payload, '0.7', '0.9') WHERE seq = 1"],
    ],
    ids=["probability", "deadline", "outcome", "current-outcome", "deleted-entry", "payload"],
)
def test_the_documented_rechecker_catches_tampering(built, statements):
    _tamper(built, *statements)
    code, message = independent_recheck(built)
    assert code != 0 and message, message


# --- tampering with raw SQL is detected ------------------------------------------------------------


def test_the_triggers_refuse_edits_and_deletes(built):
    conn = sqlite3.connect(built)
    for statement in [
        "UPDATE entries SET payload = '{}' WHERE seq = 1",
        "DELETE FROM entries WHERE seq = 6",
        "UPDATE resolutions SET outcome = 'yes' WHERE id = 2",
        "DELETE FROM resolutions WHERE id = 1",
        "UPDATE forecasts SET probability = 0.9 WHERE id = 'alpha-one'",
        "UPDATE forecasts SET claim = 'x' WHERE id = 'alpha-one'",
        "DELETE FROM forecasts WHERE id = 'delta-four'",
        "DELETE FROM question_tags WHERE question_id = 'alpha-one'",
        "UPDATE documents SET title = 'x'",
    ]:
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute(statement)
    conn.close()
    assert run(built, "verify").exit_code == 0


TAMPERING = {
    # name: (statements, first broken entry, words the message must contain)
    "probability": (["UPDATE forecasts SET probability = 0.9 WHERE id = 'alpha-one'"], 1,
                    ["alpha-one", "probability is 0.9 in the table but 0.7 in the chain"]),
    "deadline": (["UPDATE questions SET deadline = '2027-12-31' WHERE id = 'gamma-three'"], 4,
                 ["gamma-three", 'deadline is "2027-12-31" in the table but "2026-12-31" in the chain']),
    "claim": (["UPDATE forecasts SET claim = 'Widget sales triple' WHERE id = 'alpha-one'"], 1,
              ["claim is \"Widget sales triple\" in the table"]),
    "criteria": (["UPDATE questions SET resolution_criteria = 'YES whatever happens' WHERE id = 'delta-four'"], 6,
                 ["resolution_criteria"]),
    "source": (["UPDATE forecasts SET source = 'Someone Else' WHERE id = 'beta-two'"], 2, ["source"]),
    "document": (["UPDATE documents SET author = 'B. Forger'"], 1, ["document"]),
    "tag-added": (["INSERT INTO question_tags VALUES ('delta-four', 'econ')"], 6, ["tags"]),
    "tag-removed": (["DELETE FROM question_tags WHERE question_id = 'alpha-one' AND tag = 'widgets'"], 1, ["tags"]),
    "resolution-outcome": (["UPDATE resolutions SET outcome = 'yes' WHERE id = 2"], 5,
                           ['outcome is "yes" in the table but "no" in the chain']),
    "resolution-date": (["UPDATE resolutions SET resolved_on = '2026-02-01' WHERE id = 1"], 3, ["resolved_on"]),
    "resolution-evidence": (["UPDATE resolutions SET evidence = 'made up' WHERE id = 2"], 5, ["evidence"]),
    "current-outcome": (["UPDATE questions SET outcome = 'yes', resolved_on = '2026-03-02' WHERE id = 'beta-two'"],
                        None, ["beta-two", "current outcome says yes", "history says no"]),
    "outcome-of-unresolved": (["UPDATE questions SET outcome = 'yes', resolved_on = '2026-03-02' WHERE id = 'delta-four'"],
                              None, ["delta-four", "unresolved"]),
    "deleted-forecast": (["DELETE FROM question_tags WHERE question_id = 'gamma-three'",
                          "DELETE FROM forecasts WHERE id = 'gamma-three'"], 4, ["deleted from the forecasts table"]),
    "deleted-resolution": (["DELETE FROM resolutions WHERE id = 1"], 3, ["deleted from the resolutions table"]),
    "deleted-entry": (["DELETE FROM entries WHERE seq = 3"], 4, ["jumps from entry 2 to 4", "missing"]),
    "deleted-last-entry": (["DELETE FROM entries WHERE seq = 6"], None, ["delta-four", "never recorded in the chain"]),
    "inserted-forecast": ([
        "INSERT INTO forecasts SELECT 'epsilon-five', question_id, source, source_kind, document_id, claim, quote, "
        "made_on, probability, probability_basis, phrase, note, recorded_at, weight FROM forecasts WHERE id = 'delta-four'"
    ], None, ["epsilon-five", "never recorded in the chain"]),
    "reordered-entries": (["UPDATE entries SET seq = -1 WHERE seq = 1", "UPDATE entries SET seq = 1 WHERE seq = 2",
                           "UPDATE entries SET seq = 2 WHERE seq = -1"], 1, ["does not follow the entry before it"]),
    "reordered-forecast-rows": (["UPDATE forecasts SET rowid = 1000 WHERE id = 'alpha-one'"], 1,
                                ["out of the chain's order"]),
    "reordered-resolutions": (["UPDATE resolutions SET id = -1 WHERE id = 1", "UPDATE resolutions SET id = 1 WHERE id = 2",
                               "UPDATE resolutions SET id = 2 WHERE id = -1"], 3, ["in the table but", "in the chain"]),
    "reordered-resolutions-and-entries": ([
        "UPDATE resolutions SET id = -1 WHERE id = 1", "UPDATE resolutions SET id = 1 WHERE id = 2",
        "UPDATE resolutions SET id = 2 WHERE id = -1",
        "UPDATE entries SET resolution_id = 3 - resolution_id WHERE kind = 'resolution'",
    ], 5, ["resolutions are out of order"]),
    "payload-only": (["UPDATE entries SET payload = replace(payload, '0.7', '0.9') WHERE seq = 1"], 1,
                     ["does not match its hash"]),
    "row-and-payload": (["UPDATE forecasts SET probability = 0.9 WHERE id = 'alpha-one'",
                         _set_payload(1, probability=0.9)], 1, ["does not match its hash"]),
    "row-payload-and-its-hash": (["UPDATE forecasts SET probability = 0.9 WHERE id = 'alpha-one'",
                                  _set_payload(1, probability=0.9), _rehash(1)], 2,
                                 ["does not follow the entry before it"]),
    "payload-not-json": (["UPDATE entries SET payload = '{not json' WHERE seq = 2"], 2, ["does not match its hash"]),
}  # fmt: skip


@pytest.mark.parametrize("name", list(TAMPERING))
def test_tampering_is_detected_and_the_first_broken_entry_named(built, name):
    statements, entry, words = TAMPERING[name]
    _tamper(built, *statements)
    assert_broken(built, entry, *words)


@pytest.mark.parametrize(
    "statement, words",
    [
        ("UPDATE forecasts SET probability = 9e999 WHERE id = 'alpha-one'", ["probability"]),  # +inf
        ("UPDATE forecasts SET probability = 'high' WHERE id = 'alpha-one'", ["probability"]),  # text
        ("UPDATE questions SET deadline_assumed = 7 WHERE id = 'alpha-one'", ["deadline_assumed"]),
        ("UPDATE forecasts SET made_on = x'00ff' WHERE id = 'alpha-one'", ["made_on"]),  # a blob
    ],
    ids=["infinity", "text-probability", "bad-flag", "blob-date"],
)
def test_values_the_schema_would_refuse_are_reported_not_crashed_on(built, statement, words):
    _tamper(built, statement, ignore_checks=True)
    assert_broken(built, 1, *words)


def test_a_full_rewrite_passes_verify_but_not_verify_contains(built):
    """The limit of a chain kept beside the data, and how a published head closes it."""
    published = run(built, "head").stdout.strip()
    _tamper(built, "UPDATE forecasts SET probability = 0.95 WHERE id = 'alpha-one'",
            _set_payload(1, probability=0.95), _rechain)  # fmt: skip
    assert run(built, "verify").exit_code == 0  # a consistent forgery: the chain alone cannot tell
    result = run(built, "verify", "--contains", published)
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1] == f"Error: verification failed: published hash {published} not found"
    report = json.loads(run(built, "verify", "--json", "--contains", published).stdout)
    assert report["ok"] is False and report["problems"] == [] and report["contains_found"] is False


def test_verify_contains_an_earlier_head_after_honest_appends(built):
    published = run(built, "head").stdout.strip()
    with Ledger(built) as ledger:
        ledger.add(**forecast_fields(id="later-one", claim="More widgets"))
        ledger.resolve("gamma-three", "yes", on="2026-05-01", evidence="Sprocket index", today=TODAY)
    result = run(built, "verify", "--contains", published.upper())
    assert result.exit_code == 0, result.output
    assert "contains the published hash" in result.stdout
    assert json.loads(run(built, "verify", "--json", "--contains", published).stdout)["contains_found"] is True


def test_rewriting_after_a_published_head_leaves_it_provable_and_truncation_is_caught(built):
    """--contains proves the prefix up to the published head, no more and no less."""
    conn = sqlite3.connect(built)
    at_four = conn.execute("SELECT hash FROM entries WHERE seq = 4").fetchone()[0]
    conn.close()
    latest = run(built, "head").stdout.strip()
    # Drop the last forecast entirely (row, tags, entry, its words in the full-text index): a
    # truncated but self-consistent chain.
    _tamper(built, "DELETE FROM question_tags WHERE question_id = 'delta-four'",
            "DELETE FROM forecasts WHERE id = 'delta-four'", "DELETE FROM questions WHERE id = 'delta-four'",
            "DELETE FROM entries WHERE seq = 6", "INSERT INTO forecasts_fts (forecasts_fts) VALUES ('rebuild')",
            "INSERT INTO questions_fts (questions_fts) VALUES ('rebuild')")  # fmt: skip
    assert run(built, "verify").exit_code == 0
    assert run(built, "verify", "--contains", at_four).exit_code == 0  # what was published at entry 4 stands
    assert run(built, "verify", "--contains", latest).exit_code == 1  # the later commitment is gone


def test_verify_contains_refuses_what_is_not_a_hash(built):
    for bad in ["x' OR 1=1 --", "", "abc", "g" * 64]:
        result = run(built, "verify", "--contains", bad)
        assert result.exit_code == 2, (bad, result.output)
        assert "--contains" in result.stderr and "Traceback" not in result.output


# --- what the chain does not hash: the schema, the payloads' form, the entries' own columns ------


def _raw(db: Path, *statements) -> None:
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        for statement in statements:
            statement(conn) if callable(statement) else conn.execute(statement)
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("statements", "message"),
    [
        # every score comes from this view: a forged one scored the example's 0.311 as 0.000
        (["DROP VIEW scored", "CREATE VIEW scored AS SELECT f.id, f.source, 0.99 AS probability, 1 AS outcome, "
          "f.made_on, f.deadline, f.resolved_on, f.probability_basis, f.phrase, f.document_id FROM forecasts f"],
         "the view scored differs from the one the migrations create"),
        (["DROP TRIGGER resolutions_no_update"], "the trigger resolutions_no_update is missing from the schema"),
        (["CREATE TRIGGER block_no BEFORE INSERT ON resolutions WHEN NEW.outcome = 'no' "
          "BEGIN SELECT RAISE(ABORT, 'database is locked'); END"],
         "the trigger block_no is not part of the ledger's schema"),
        (["DROP INDEX forecasts_source"], "the index forecasts_source is missing from the schema"),
    ],
)  # fmt: skip
def test_a_changed_schema_is_reported(built, statements, message):
    head = run(built, "head").stdout
    _raw(built, *statements)
    assert run(built, "head").stdout == head  # the chain cannot see it
    assert_broken(built, None, message)


def _rewrite_payload(seq: int, text):
    def rewrite(conn):
        payload = conn.execute("SELECT payload FROM entries WHERE seq = ?", [seq]).fetchone()[0]
        conn.execute("UPDATE entries SET payload = ? WHERE seq = ?", [text(payload), seq])

    return rewrite


@pytest.mark.parametrize(
    "text",
    [lambda p: json.dumps(json.loads(p), indent=1),  # same values, other spacing
     lambda p: p.replace('"probability":0.7', '"probability":0.01,"probability":0.7')],  # a key twice
    ids=["spacing", "repeated-key"],
)  # fmt: skip
def test_a_payload_not_in_canonical_form_is_reported(built, text):
    # Same meaning to json.loads, so only the form gives it away; the docs' stdlib re-checker refuses it too.
    _tamper(built, _rewrite_payload(1, text), _rechain)
    assert_broken(built, 1, "the chain's payload is not canonical JSON")


def test_an_entry_naming_another_forecast_is_reported(built):
    _tamper(built, "UPDATE entries SET subject_id = 'alpha-one' WHERE seq = 3")  # resolution 1 is beta-two's
    assert_broken(built, 3, "question alpha-one", "its resolution is of beta-two")


def test_a_forecast_recorded_twice_in_the_chain_is_reported(built):
    def append_again(conn):
        seq, prev = conn.execute("SELECT seq, hash FROM entries ORDER BY seq DESC LIMIT 1").fetchone()
        payload = conn.execute("SELECT payload FROM entries WHERE seq = 1").fetchone()[0]
        conn.execute("INSERT INTO entries VALUES (?, 'forecast', 1, 'alpha-one', NULL, ?, ?, ?)",
                     [seq + 1, payload, prev, chain_hash(prev, payload)])  # fmt: skip

    _tamper(built, append_again)
    assert_broken(built, 7, "forecast alpha-one", "recorded in the chain more than once")


def test_a_users_own_index_table_or_view_is_not_a_finding(built):
    # Exploring with sqlite-utils or Datasette adds such things; none changes a rule or a score.
    _raw(built, "CREATE INDEX my_made ON forecasts(made_on)", "CREATE TABLE notes (text TEXT)",
         "CREATE VIEW late AS SELECT id FROM forecasts WHERE deadline < '2026-06-01'")  # fmt: skip
    assert run(built, "verify").exit_code == 0
    _raw(built, "CREATE TRIGGER watch AFTER INSERT ON _sqlite_migrations BEGIN SELECT 1; END")
    assert_broken(built, None, "the trigger watch is not part of the ledger's schema")  # on any table


def test_routine_sqlite_maintenance_is_not_a_change_of_schema(built):
    _raw(built, "ANALYZE", "PRAGMA optimize", "VACUUM")  # sqlite_stat1 appears; the ledger's own objects do not change
    result = run(built, "verify")
    assert result.exit_code == 0, result.output


def test_verify_names_the_questions_it_checked_when_they_have_entries_of_their_own(tmp_path):
    # Two sources on one question: the question has its own chain entry, and the OK line counts
    # it, so the parts add up to the entries (they summed to 9 of 13 on an imported Fatebook export).
    from click.testing import CliRunner

    from predictions_cli.main import cli

    db = str(tmp_path / "l.db")
    fixture = Path(__file__).parent / "fixtures" / "platforms" / "fatebook.csv"
    runner = CliRunner()
    assert runner.invoke(cli, ["--db", db, "import", "--from", "fatebook", str(fixture)]).exit_code == 0
    result = runner.invoke(cli, ["--db", db, "verify"])
    assert result.exit_code == 0, result.output
    line = result.output.strip()
    entries = int(line.split("all ")[1].split(" chain")[0])
    parts = [int(part.split()[0]) for part in line.split("(")[1].split(")")[0].split(", ")]
    assert "question" in line and len(parts) == 3 and sum(parts) == entries
