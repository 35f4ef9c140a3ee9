"""A ledger written before the question model (main at f025248, schema m001-m003) opens, upgrades
(migration m004), verifies, still contains its published head, keeps every forecast id, and
scores, reports and exports exactly as that code did. The fixture and what that code printed for it
are in tests/fixtures (made by tests/fixtures/build_v003_ledger.py)."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from predictions import Ledger
from predictions.migrations import known_names

FIXTURES = Path(__file__).parent / "fixtures"
EXPECTED = json.loads((FIXTURES / "ledger_v003.json").read_text())
COMMAND = Path(sys.executable).parent / "predictions"


@pytest.fixture
def old(tmp_path) -> Path:
    """A copy of the old ledger, upgraded as a user does (`predictions upgrade`, or any command
    that can write the file). The fixture itself is never opened by the new code."""
    copy = tmp_path / "old.db"
    shutil.copy(FIXTURES / "ledger_v003.db", copy)
    result = run(copy, "upgrade")
    assert result.returncode == 0, result.stderr
    return copy


def run(db: Path, *args: str, today: str = EXPECTED["today"]) -> subprocess.CompletedProcess:
    """The installed command, as a user runs it."""
    return subprocess.run([str(COMMAND), "--db", str(db), "--today", today, *args],
                          capture_output=True, text=True)  # fmt: skip


def test_a_reading_command_upgrades_the_old_ledger_once_and_its_old_head_still_verifies(tmp_path):
    """After installing a new version, a cron `report` or a `verify` keeps working: a reading
    command upgrades a writable ledger of an older schema once, then reads it."""
    copy = tmp_path / "old.db"
    shutil.copy(FIXTURES / "ledger_v003.db", copy)
    result = run(copy, "verify", "--contains", EXPECTED["head"])
    assert result.returncode == 0, result.stderr
    applied = [r[0] for r in sqlite3.connect(copy).execute("SELECT name FROM _sqlite_migrations ORDER BY rowid")]
    assert applied == known_names()
    assert run(copy, "upgrade").returncode == 0  # nothing left to do, and it says so


def test_a_read_only_ledger_object_never_upgrades_the_old_ledger(tmp_path):
    from predictions import OlderSchemaError

    copy = tmp_path / "old.db"
    shutil.copy(FIXTURES / "ledger_v003.db", copy)
    before = copy.read_bytes()
    with pytest.raises(OlderSchemaError, match="predictions upgrade"):
        Ledger(copy, read_only=True)
    assert copy.read_bytes() == before
    with Ledger(copy, read_only=True, upgrade=True) as ledger:
        assert ledger.verify(contains=EXPECTED["head"]).ok


def test_the_fixture_is_a_ledger_of_the_old_schema():
    conn = sqlite3.connect(FIXTURES / "ledger_v003.db")
    try:
        names = [r[0] for r in conn.execute("SELECT name FROM _sqlite_migrations ORDER BY rowid")]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        conn.close()
    assert names == ["m001_initial", "m002_unscored_outcome_index", "m003_real_calendar_dates"]
    assert "forecast_tags" in tables and "questions" not in tables


def test_the_old_ledger_upgrades_and_its_published_head_still_verifies(old):
    result = run(old, "verify", "--contains", EXPECTED["head"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "and it contains the published hash" in result.stdout
    with Ledger(old) as ledger:
        names = [r[0] for r in ledger.conn.execute("SELECT name FROM _sqlite_migrations ORDER BY rowid")]
        assert names == known_names() and "m004_questions" in names
        assert ledger.head().hash == EXPECTED["head"]  # nothing was appended or rewritten
        # each forecast became a question with that one forecast, which took its id
        rows = ledger.conn.execute("SELECT f.id, f.question_id, q.forecasters FROM forecasts f "
                                   "JOIN questions q ON q.id = f.question_id ORDER BY f.rowid").fetchall()  # fmt: skip
    assert rows == [(i, i, 1) for i in EXPECTED["ids"]]


@pytest.mark.parametrize("command", ["show", "history"])
def test_every_old_forecast_id_still_works(old, command):
    for forecast_id in EXPECTED["ids"]:
        result = run(old, command, forecast_id)
        assert result.returncode == 0, (forecast_id, result.stderr)


def _figures(row: dict) -> dict:
    """A score row's figures: every key but the rank (issue 13 since made ties share a rank)."""
    return {k: v for k, v in row.items() if k != "rank"}


def test_scores_are_exactly_what_the_old_code_printed(old):
    for by, expected in EXPECTED["score"].items():
        got = json.loads(run(old, "score", "--by", by, "--json").stdout)
        # new keys may be added (forecasts, ...); every old figure is exactly what it was
        assert [{k: g[k] for k in _figures(e)} for g, e in zip(got, expected, strict=True)] == [
            _figures(e) for e in expected
        ], by


def test_the_report_and_the_export_are_what_the_old_code_printed(old):
    # As of the day the fixture was recorded: a report as of an earlier day (the old code's
    # `today`) reads only what had been recorded by then, here nothing (docs/reports.md).
    recorded_on = "2026-12-01"
    report = json.loads(run(old, "report", "--for", "2026", "--format", "json", today=recorded_on).stdout)
    assert report["generated_on"] == recorded_on and report["recorded_until"].startswith(recorded_on)
    for key, expected in EXPECTED["report"].items():
        if key in ("period_scores", "leaderboard"):
            assert [{k: g[k] for k in _figures(e)} for g, e in zip(report[key], expected, strict=True)] == [
                _figures(e) for e in expected
            ], key
        elif key in ("overall", "period_overall"):
            assert {k: report[key][k] for k in _figures(expected)} == _figures(expected), key
        elif key == "remaining":  # deadlines from the day of the report
            assert {**report[key], "from": expected["from"]} == expected, key
        elif key == "scored_until":  # the report's day, the period not being over; nothing resolved since
            assert report[key] == recorded_on, key
        elif key not in ("ledger", "generated_on"):  # the path of the copy; the day, checked above
            assert report[key] == expected, key
    records = [json.loads(line) for line in run(old, "export").stdout.splitlines()]
    assert [r["question_id"] for r in records] == EXPECTED["ids"]  # the export gains question_id, and only that
    assert [{k: v for k, v in r.items() if k != "question_id"} for r in records] == EXPECTED["export"]


def test_the_old_ledger_takes_new_forecasts_on_its_questions(old):
    with Ledger(old) as ledger:
        update = ledger.add(question="pundit-oil", source="A. Pundit", made_on="2026-05-01", probability=0.1,
                            today=EXPECTED["today"])  # fmt: skip
        other = ledger.add(question="times-rates", source="A. Pundit", made_on="2026-02-01", probability=0.5,
                           today=EXPECTED["today"])  # fmt: skip
        assert ledger.get_question("pundit-oil").forecasts[-1] == update
        assert ledger.get_question(other.id).sources == ("The Example Times", "A. Pundit")
        assert ledger.verify(contains=EXPECTED["head"]).ok


# --- m005: a ledger made by m004 (the example ledger before the full-text index) ---------------------

V004 = json.loads((FIXTURES / "ledger_v004.json").read_text())


@pytest.fixture
def m004(tmp_path) -> Path:
    copy = tmp_path / "m004.db"
    shutil.copy(FIXTURES / "ledger_v004.db", copy)
    return copy


def _names(db: Path) -> list[str]:
    conn = sqlite3.connect(db)
    try:
        return [r[0] for r in conn.execute("SELECT name FROM _sqlite_migrations ORDER BY rowid")]
    finally:
        conn.close()


def test_the_m004_fixture_has_no_full_text_index():
    conn = sqlite3.connect(FIXTURES / "ledger_v004.db")
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    conn.close()
    assert _names(FIXTURES / "ledger_v004.db")[-1] == "m004_questions" and "forecasts_fts" not in tables


def test_a_ledger_made_by_m004_upgrades_verifies_and_keeps_its_head(m004):
    result = subprocess.run([str(COMMAND), "--db", str(m004), "verify", "--contains", V004["head"]],
                            capture_output=True, text=True)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "and it contains the published hash" in result.stdout and V004["head"] in result.stdout
    assert _names(m004) == known_names()
    with Ledger(m004, read_only=True) as ledger:
        assert ledger.head().hash == V004["head"] and ledger.head().seq == V004["entries"]
        # the migration filled the index from the rows there were
        found = ledger.conn.execute("SELECT count(*) FROM forecasts_fts WHERE forecasts_fts MATCH 'Anthropic'").fetchone()[0]
        assert found > 0
        assert ledger.verify(contains=V004["head"]).ok


def test_both_old_ledgers_upgrade_to_the_same_schema_as_a_new_one(m004, old, tmp_path):
    new = tmp_path / "new.db"
    with Ledger(new) as ledger:
        ledger.conn
    def schema(db):
        run(db, "head")  # a reading command upgrades it
        conn = sqlite3.connect(db)
        try:
            return sorted(conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall())
        finally:
            conn.close()
    assert schema(m004) == schema(old) == schema(new)


def test_the_old_v003_ledger_is_searchable_after_the_upgrade(old):
    conn = sqlite3.connect(old)
    claims = dict(conn.execute("SELECT id, claim FROM forecasts").fetchall())
    hits = [r[0] for r in conn.execute(
        "SELECT id FROM forecasts WHERE rowid IN (SELECT rowid FROM forecasts_fts WHERE forecasts_fts MATCH 'Brent')")]
    conn.close()
    assert hits and sorted(hits) == sorted(i for i, c in claims.items() if "Brent" in (c or ""))
