"""The SQLite store: constraints that hold even against raw SQL, migrations, files it must refuse,
append-only resolutions with corrections, and id prefixes.

(Hash-chain tampering, concurrency and hostile input are tested in test_integrity.py.)
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from predictions import (
    AmbiguousIdError,
    Ledger,
    LedgerError,
    NotALedgerError,
    NotFoundError,
    ValidationError,
)
from predictions.migrations import known_names

from .conftest import TODAY, empty_ledger, forecast_fields

D = dt.date
FIXTURES = Path(__file__).parent / "fixtures"

GOOD_QUESTION = {
    "id": "raw-row-1", "resolution_criteria": "K", "deadline": "2026-06-01", "deadline_assumed": 0,
    "recorded_at": "2026-01-01T00:00:00Z",
}  # fmt: skip
GOOD_ROW = {
    "id": "raw-row-1", "question_id": "raw-row-1", "source": "S", "claim": "C", "made_on": "2026-01-01",
    "probability": 0.5, "probability_basis": "assigned", "recorded_at": "2026-01-01T00:00:00Z",
}  # fmt: skip


def raw_insert(conn: sqlite3.Connection, table: str, row: dict) -> None:
    if table == "forecasts" and row.get("question_id") == "raw-row-1" and conn.execute(
        "SELECT 1 FROM questions WHERE id = 'raw-row-1'"
    ).fetchone() is None:
        raw_insert(conn, "questions", GOOD_QUESTION)
    columns = ", ".join(row)
    marks = ", ".join("?" * len(row))
    conn.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", list(row.values()))


# --- the file -------------------------------------------------------------------------------------


def test_first_use_creates_the_file_with_every_migration(db_path):
    assert not db_path.exists()
    with Ledger(db_path) as ledger:
        names = [r[0] for r in ledger.conn.execute("SELECT name FROM _sqlite_migrations ORDER BY rowid")]
        assert names == known_names() and names[0] == "m001_initial"
        assert ledger.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert ledger.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert ledger.conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000
        tables = {r[0] for r in ledger.conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}
        assert {"questions", "forecasts", "documents", "question_tags", "resolutions", "entries", "scored"} <= tables
        indexes = {r[0] for r in ledger.conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert {"forecasts_source", "questions_deadline", "question_tags_tag", "resolutions_question"} <= indexes


def test_reopening_applies_nothing_twice(db_path):
    empty_ledger(db_path)
    with Ledger(db_path) as ledger:
        count = ledger.conn.execute("SELECT count(*) FROM _sqlite_migrations").fetchone()[0]
    assert count == len(known_names())


def test_an_empty_file_is_a_blank_ledger(db_path):
    db_path.write_bytes(b"")
    with Ledger(db_path) as ledger:
        assert ledger.count() == 0
        ledger.add(**forecast_fields())
        assert ledger.count() == 1


def test_readers_never_create_a_ledger(db_path):
    with pytest.raises(NotALedgerError) as caught:
        Ledger(db_path, create=False)
    assert str(caught.value) == f"no ledger at {db_path} (add or import a forecast to create one)"
    assert not db_path.exists()


def test_a_directory_is_refused(tmp_path):
    with pytest.raises(NotALedgerError, match="is a directory, not a ledger file"):
        Ledger(tmp_path)


def test_a_file_from_a_newer_version_is_refused_untouched(db_path):
    empty_ledger(db_path)
    conn = sqlite3.connect(db_path)
    conn.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('predictions', 'm999_future', '2030-01-01')")
    conn.commit()
    conn.close()
    before = db_path.read_bytes()
    with pytest.raises(NotALedgerError) as caught:
        Ledger(db_path)
    assert str(caught.value) == (
        f"{db_path} was written by a newer version of predictions (schema step m999_future); upgrade predictions to use it"
    )
    assert db_path.read_bytes() == before


def test_an_older_ledger_is_migrated_forward_keeping_its_forecasts(db_path):
    # The ledger written by main at f025248 (m001-m003), made a ledger of version m001 only.
    shutil.copy(FIXTURES / "ledger_v003.db", db_path)
    expected = json.loads((FIXTURES / "ledger_v003.json").read_text())
    conn = sqlite3.connect(db_path)
    conn.execute("DROP INDEX forecasts_unscored")
    for name in ("forecasts_real_dates_insert", "forecasts_real_dates_update", "resolutions_real_dates_insert",
                 "documents_real_dates_insert"):  # fmt: skip
        conn.execute(f"DROP TRIGGER {name}")
    conn.execute("DELETE FROM _sqlite_migrations WHERE name <> 'm001_initial'")
    conn.commit()
    conn.close()
    with Ledger(db_path) as ledger:
        names = [r[0] for r in ledger.conn.execute("SELECT name FROM _sqlite_migrations ORDER BY rowid")]
        objects = {r[0] for r in ledger.conn.execute("SELECT name FROM sqlite_master")}
        assert names == known_names()
        assert {"questions_unscored", "questions", "question_tags"} <= objects
        assert not {"forecasts_real_dates_insert", "documents_real_dates_insert", "forecast_tags"} & objects  # m004
        assert [r["id"] for r in ledger.export_records(today=TODAY)] == expected["ids"]
        assert ledger.head().hash == expected["head"]
        assert ledger.verify(contains=expected["head"]).ok


def test_a_sqlite_file_that_is_not_a_ledger_is_refused_untouched(db_path):
    conn = sqlite3.connect(db_path)
    conn.execute("CREATE TABLE recipes (name TEXT)")
    conn.execute("INSERT INTO recipes VALUES ('soup')")
    conn.commit()
    conn.close()
    before = db_path.read_bytes()
    with pytest.raises(NotALedgerError) as caught:
        Ledger(db_path)
    assert str(caught.value) == f"{db_path} is a SQLite database but not a predictions ledger"
    assert db_path.read_bytes() == before


def test_another_tools_migrations_table_is_not_a_ledger(db_path):
    conn = sqlite3.connect(db_path)
    conn.execute("CREATE TABLE _sqlite_migrations (migration_set TEXT, name TEXT, applied_at TEXT)")
    conn.execute("INSERT INTO _sqlite_migrations VALUES ('llm', 'm001', '2025-01-01')")
    conn.commit()
    conn.close()
    before = db_path.read_bytes()
    with pytest.raises(NotALedgerError, match="is a SQLite database but not a predictions ledger"):
        Ledger(db_path)
    assert db_path.read_bytes() == before


@pytest.mark.parametrize("content", [b"name,claim\nS,C\n", b"\x00\x01binary", "Ünïcode text".encode()])
def test_a_file_that_is_not_sqlite_is_refused_untouched(db_path, content):
    db_path.write_bytes(content)
    with pytest.raises(NotALedgerError) as caught:
        Ledger(db_path)
    assert str(caught.value) == f"{db_path} is not a SQLite database; refusing to touch it"
    assert db_path.read_bytes() == content
    assert sorted(p.name for p in db_path.parent.iterdir()) == [db_path.name]


# --- constraints against raw SQL ------------------------------------------------------------------


def test_the_good_raw_row_is_accepted(ledger):
    raw_insert(ledger.conn, "forecasts", GOOD_ROW)
    assert ledger.conn.execute("SELECT count(*) FROM forecasts").fetchone()[0] == 1


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("probability", 1.5),
        ("probability", -0.1),
        ("probability", "half"),  # text, not a number
        ("probability", None),
        ("made_on", "2026-02-30"),  # a day not on the calendar (a CHECK since m004)
        ("made_on", "01/02/2026"),
        ("made_on", "2026-1-1"),
        ("made_on", "2026-06-02"),  # after its question's deadline
        ("probability_basis", "guess"),
        ("source", "   "),
        ("claim", " "),
        ("id", "UPPER"),
        ("id", "-dash"),
        ("id", "ab"),
        ("source_kind", "robot"),
        ("question_id", "no-such-question"),
        ("weight", 1.5),
    ],
)
def test_bad_forecast_rows_are_refused_by_the_database(ledger, column, value):
    raw_insert(ledger.conn, "questions", GOOD_QUESTION)
    with pytest.raises(sqlite3.IntegrityError):
        raw_insert(ledger.conn, "forecasts", {**GOOD_ROW, column: value})
    assert ledger.conn.execute("SELECT count(*) FROM forecasts").fetchone()[0] == 0


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("deadline", "2026-04-31"),  # a day not on the calendar
        ("deadline", "2026/06/01"),
        ("deadline", None),
        ("resolution_criteria", ""),
        ("id", "UPPER"),
        ("deadline_assumed", 2),
        ("outcome", "maybe"),
        ("outcome", "yes"),  # an outcome needs resolved_on
        ("resolved_on", "2026-03-01"),  # and resolved_on needs an outcome
        ("forecasters", 0),
    ],
)
def test_bad_question_rows_are_refused_by_the_database(ledger, column, value):
    with pytest.raises(sqlite3.IntegrityError):
        raw_insert(ledger.conn, "questions", {**GOOD_QUESTION, column: value})
    assert ledger.conn.execute("SELECT count(*) FROM questions").fetchone()[0] == 0


def test_verbal_basis_needs_a_phrase_in_the_database(ledger):
    with pytest.raises(sqlite3.IntegrityError):
        raw_insert(ledger.conn, "forecasts", {**GOOD_ROW, "probability_basis": "verbal"})


@pytest.mark.parametrize(
    ("column", "value"),
    [("outcome", "maybe"), ("resolved_on", "2026-02-30"), ("evidence", " "), ("question_id", "no-such-question")],
)
def test_bad_resolution_rows_are_refused(ledger, column, value):
    raw_insert(ledger.conn, "forecasts", GOOD_ROW)
    row = {"question_id": "raw-row-1", "outcome": "yes", "resolved_on": "2026-03-01", "evidence": "e",
           "recorded_at": "2026-03-01T00:00:00Z"}  # fmt: skip
    with pytest.raises(sqlite3.IntegrityError):
        raw_insert(ledger.conn, "resolutions", {**row, column: value})


def test_resolving_a_raw_row_to_an_impossible_day_is_refused(ledger):
    raw_insert(ledger.conn, "forecasts", GOOD_ROW)
    with pytest.raises(sqlite3.IntegrityError, match="CHECK constraint failed"):
        ledger.conn.execute("UPDATE questions SET outcome = 'yes', resolved_on = '2026-02-29'")


def test_bad_tags_and_documents_are_refused(ledger):
    raw_insert(ledger.conn, "forecasts", GOOD_ROW)
    for tag in ("Upper", "two words", ""):
        with pytest.raises(sqlite3.IntegrityError):
            raw_insert(ledger.conn, "question_tags", {"question_id": "raw-row-1", "tag": tag})
    with pytest.raises(sqlite3.IntegrityError):
        raw_insert(ledger.conn, "question_tags", {"question_id": "missing", "tag": "ok"})
    for day in ("May 2026", "2026-02-29"):
        with pytest.raises(sqlite3.IntegrityError):
            raw_insert(ledger.conn, "documents", {"id": "d1", "published_on": day})
    with pytest.raises(sqlite3.IntegrityError):
        raw_insert(ledger.conn, "forecasts", {**GOOD_ROW, "id": "raw-row-2", "document_id": "no-such-document"})


# --- triggers: history cannot be edited -----------------------------------------------------------


@pytest.fixture
def resolved(ledger):
    forecast = ledger.add(**forecast_fields())
    ledger.resolve(forecast.id, "yes", on=D(2026, 6, 1), evidence="report", today=TODAY)
    return forecast


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ("UPDATE resolutions SET outcome = 'no'", "resolutions are append-only: record a correction"),
        ("DELETE FROM resolutions", "resolutions are append-only: record a correction"),
        ("UPDATE entries SET payload = '{}'", "entries are append-only"),
        ("DELETE FROM entries", "entries are append-only"),
        ("DELETE FROM forecasts", "forecasts are never deleted: resolve one as annulled"),
        ("UPDATE forecasts SET probability = 0.99", "a recorded forecast cannot be changed"),
        ("UPDATE forecasts SET claim = 'something else'", "a recorded forecast cannot be changed"),
        ("DELETE FROM question_tags", "tags are part of the recorded question"),
        ("UPDATE documents SET title = 'x'", "documents are content-addressed and never change"),
    ],
)
def test_triggers_refuse_edits(ledger, resolved, statement, message):
    ledger.add(**forecast_fields(claim="tagged", tags=["t"], document={"title": "T"}))
    with pytest.raises(sqlite3.IntegrityError, match=message):
        ledger.conn.execute(statement)


# --- adding ---------------------------------------------------------------------------------------


def test_add_returns_the_forecast_with_a_short_stable_id(ledger):
    forecast = ledger.add(**forecast_fields())
    assert len(forecast.id) == 12 and forecast.id.isalnum() and forecast.id == forecast.id.lower()
    assert ledger.get(forecast.id).forecast == forecast
    with Ledger(ledger.path.with_name("other.db")) as other:
        assert other.add(**forecast_fields()).id == forecast.id  # same content, same id


def test_add_fills_deadline_and_probability_from_words(ledger):
    forecast = ledger.add(**forecast_fields(deadline=None, deadline_text="within 18 months", probability=None,
                                            phrase="likely", made_on=D(2026, 5, 15)))  # fmt: skip
    assert ledger.get(forecast.id).question.deadline == D(2027, 11, 15)
    assert (forecast.probability, forecast.probability_basis) == (0.75, "verbal")


def test_a_number_beside_a_phrase_is_assigned_unless_it_is_the_phrases(ledger):
    assigned = ledger.add(**forecast_fields(claim="a", probability=0.6, phrase="likely"))
    verbal = ledger.add(**forecast_fields(claim="b", probability=0.75, phrase="likely"))
    stated = ledger.add(**forecast_fields(claim="c", probability=0.6, phrase="likely", probability_basis="stated"))
    assert [f.probability_basis for f in (assigned, verbal, stated)] == ["assigned", "verbal", "stated"]


def test_a_refused_add_writes_nothing(ledger):
    head = ledger.head()
    for bad in ({"probability": 1.5}, {"probability": float("nan")}, {"deadline": D(2025, 1, 1)},
                {"deadline": None, "deadline_text": "eventually"}, {"phrase": "perhaps", "probability": None}):  # fmt: skip
        with pytest.raises(ValidationError):
            ledger.add(**forecast_fields(**bad))
    assert ledger.head() == head and ledger.count() == 0


def test_adding_the_same_forecast_twice_is_refused(ledger):
    forecast = ledger.add(**forecast_fields())
    with pytest.raises(ValidationError, match=f"the same forecast is already recorded, as {forecast.id}"):
        ledger.add(**forecast_fields())
    assert ledger.count() == 1


# --- resolving ------------------------------------------------------------------------------------


def test_resolve_then_correct_keeps_the_whole_history(ledger):
    forecast = ledger.add(**forecast_fields(deadline=D(2026, 9, 30)))
    first = ledger.resolve(forecast.id[:5], "yes", on=D(2026, 6, 1), evidence="report", today=TODAY)
    assert first.question_id == forecast.id
    with pytest.raises(ValidationError) as caught:
        ledger.resolve(forecast.id, "no", on=D(2026, 9, 30), evidence="restated", today=TODAY)
    assert str(caught.value) == (
        f"field correction_reason: {forecast.id} is already resolved yes on 2026-06-01; "
        "resolving it again is a correction and needs a reason"
    )
    second = ledger.resolve(forecast.id, "no", on=D(2026, 9, 30), evidence="restated", correction="figures restated",
                            today=TODAY)
    tracked = ledger.get(forecast.id, today=TODAY)
    assert tracked.history == (first, second)
    assert tracked.current.outcome == "no" and tracked.status == "resolved"
    assert ledger.history(forecast.id) == (first, second)
    rows = ledger.conn.execute("SELECT outcome, correction_reason FROM resolutions ORDER BY id").fetchall()
    assert rows == [("yes", None), ("no", "figures restated")]
    assert ledger.conn.execute("SELECT outcome, resolved_on FROM questions").fetchone() == ("no", "2026-09-30")


def test_early_no_needs_a_reason_and_keeps_it(ledger):
    forecast = ledger.add(**forecast_fields())
    with pytest.raises(ValidationError, match="field early_reason: resolving no on 2026-06-01, before the deadline 2026-12-31"):
        ledger.resolve(forecast.id, "no", on=D(2026, 6, 1), evidence="closed", today=TODAY)
    resolution = ledger.resolve(forecast.id, "no", on=D(2026, 6, 1), evidence="closed",
                                early_reason="the company was dissolved", today=TODAY)  # fmt: skip
    assert ledger.get(forecast.id).current.early_reason == resolution.early_reason == "the company was dissolved"


def test_refused_resolutions_write_nothing(ledger):
    forecast = ledger.add(**forecast_fields(deadline=D(2026, 3, 1)))
    head = ledger.head()
    for outcome, on in (("yes", D(2026, 11, 23)), ("yes", D(2026, 3, 2)), ("yes", D(2025, 1, 1)), ("maybe", D(2026, 2, 1))):
        with pytest.raises(ValidationError):
            ledger.resolve(forecast.id, outcome, on=on, evidence="e", today=TODAY)
    with pytest.raises(ValidationError, match="has no resolution to correct"):
        ledger.resolve(forecast.id, "yes", on=D(2026, 2, 1), evidence="e", correction="why", today=TODAY)
    assert ledger.head() == head and ledger.get(forecast.id).history == ()


# --- ids and prefixes -----------------------------------------------------------------------------


def test_unique_prefixes_find_the_forecast(ledger):
    a = ledger.add(**forecast_fields(id="abc-111"))
    b = ledger.add(**forecast_fields(id="abd-222", claim="other"))
    assert ledger.resolve_id("abc") == a.id and ledger.resolve_id("abd-2") == b.id
    assert ledger.get("abc-111").id == a.id


def test_an_ambiguous_prefix_is_refused_listing_the_candidates(ledger):
    ledger.add(**forecast_fields(id="abc-111"))
    ledger.add(**forecast_fields(id="abc-222", claim="other"))
    with pytest.raises(AmbiguousIdError) as caught:
        ledger.get("abc")
    assert str(caught.value) == "'abc' matches several forecasts (abc-111, abc-222); type more of the id"


def test_a_full_id_that_prefixes_another_is_not_ambiguous(ledger):
    ledger.add(**forecast_fields(id="abc"))
    ledger.add(**forecast_fields(id="abc-2", claim="other"))
    assert ledger.resolve_id("abc") == "abc"


@pytest.mark.parametrize(("prefix", "message"), [("zzz", "no forecast or question has an id starting with 'zzz'"),
                                                 ("", "give a forecast or question id (or the start of one)"),
                                                 ("%", "no forecast or question has an id starting with '%'")])  # fmt: skip
def test_unknown_ids(ledger, prefix, message):
    ledger.add(**forecast_fields())
    with pytest.raises(NotFoundError) as caught:
        ledger.get(prefix)
    assert str(caught.value) == message
    assert isinstance(caught.value, LedgerError)


# --- queries --------------------------------------------------------------------------------------


def test_forecasts_by_status_source_and_tag(ledger):
    open_ = ledger.add(**forecast_fields(claim="open", deadline=D(2027, 1, 1), tags=["x"]))
    due_old = ledger.add(**forecast_fields(claim="due old", deadline=D(2026, 2, 1), source="B"))
    due_new = ledger.add(**forecast_fields(claim="due new", deadline=D(2026, 10, 1), tags=["x"]))
    done = ledger.add(**forecast_fields(claim="done", deadline=D(2026, 5, 1)))
    ledger.resolve(done.id, "yes", on=D(2026, 4, 1), evidence="e", today=TODAY)

    def ids(**query):
        return [t.id for t in ledger.forecasts(**{"today": TODAY, **query})]

    assert ids() == [due_old.id, done.id, due_new.id, open_.id]  # soonest deadline first
    assert ids(status="open") == [open_.id]
    assert ids(status="due") == [due_old.id, due_new.id]
    assert [t.id for t in ledger.due(today=TODAY)] == [due_old.id, due_new.id]  # oldest first
    assert ids(status="resolved") == [done.id]
    assert ids(source="B") == [due_old.id]
    assert ids(tag="x") == [due_new.id, open_.id]
    assert ids(tag="x", status="open") == [open_.id]
    assert {t.status for t in ledger.forecasts(today=TODAY)} == {"open", "due", "resolved"}
    # a deadline is inclusive: on the day itself the forecast is still open
    assert ids(status="open", today=D(2026, 10, 1)) == [due_new.id, open_.id]


def test_unknown_status_is_refused(ledger):
    with pytest.raises(ValidationError, match="field status: 'late' is not one of open, due, resolved, all"):
        ledger.forecasts(status="late")


def test_back_filled_forecasts_are_normal(ledger):
    old = ledger.add(**forecast_fields(made_on=D(1999, 1, 1), deadline=D(2000, 1, 1)))
    ledger.resolve(old.id, "no", on=D(2000, 1, 1), evidence="nothing happened", today=TODAY)
    assert ledger.get(old.id).status == "resolved"


def test_the_scored_view_for_datasette_users(ledger):
    yes = ledger.add(**forecast_fields(claim="y", probability=0.8))
    ledger.add(**forecast_fields(claim="open", probability=0.3))
    ledger.resolve(yes.id, "yes", on=D(2026, 6, 1), evidence="e", today=TODAY)
    assert ledger.conn.execute("SELECT id, probability, outcome FROM scored").fetchall() == [(yes.id, 0.8, 1)]


def test_a_rollback_journal_ledger_turns_wal_at_its_first_write_not_before(db_path):
    with Ledger(db_path) as ledger:
        ledger.add(**forecast_fields())
        ledger.conn.execute("PRAGMA journal_mode = DELETE")  # as ledger.db.example is kept
    with Ledger(db_path) as ledger:
        ledger.forecasts(), ledger.verify(), ledger.head()
        assert ledger.conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # reading changes nothing
        ledger.add(**forecast_fields(claim="B"))
        assert ledger.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"  # readers no longer wait
        assert ledger.verify().ok
