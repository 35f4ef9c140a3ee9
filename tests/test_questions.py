"""Questions shared by many forecasts (issue 11): several sources and updates on one question, one
resolution for all, through the library, the CLI, import/export and verify."""

from __future__ import annotations

import datetime as dt
import io
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from predictions import AmbiguousIdError, Ledger, ValidationError
from predictions.io import read_records, write_records
from predictions_cli.main import cli

from .conftest import TODAY, forecast_fields

D = dt.date


def state(db: Path):
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT count(*), coalesce(max(seq), 0) FROM entries").fetchone()
    finally:
        conn.close()


@pytest.fixture
def shared(ledger):
    """One question: source A at 0.8 then updated to 0.6, source B at 0.3; and a lone forecast."""
    first = ledger.add(**forecast_fields(id="fed-cuts", claim="The Fed cuts by June", made_on="2026-01-01",
                                         deadline="2026-06-30", probability=0.8, tags=["rates"]))  # fmt: skip
    update = ledger.add(question="fed", source="Example Outlet", made_on="2026-03-01", probability=0.6, today=TODAY)
    other = ledger.add(question="fed-cuts", source="A. Pundit", made_on="2026-02-01", probability=0.3,
                       quote="No cut before summer.", today=TODAY)  # fmt: skip
    lone = ledger.add(**forecast_fields(id="lone-one", claim="Widgets", probability=0.4))
    return first, update, other, lone


# --- the library ---------------------------------------------------------------------------------


def test_forecasts_on_one_question_share_its_criteria_deadline_and_tags(ledger, shared):
    first, update, other, lone = shared
    assert first.question_id == "fed-cuts" and update.question_id == other.question_id == "fed-cuts"
    assert lone.question_id == "lone-one"
    question = ledger.get_question("fed-cuts")
    assert question.forecasts == (first, update, other) and question.sources == ("Example Outlet", "A. Pundit")
    assert question.question.tags == ("rates",) and question.question.deadline == D(2026, 6, 30)
    assert ledger.get(update.id).question == question.question
    assert update.claim is None and ledger.get(update.id).claim == "The Fed cuts by June"  # shown by its question's claim
    assert ledger.count() == 4 and ledger.count_questions() == 2


def test_one_resolution_settles_every_forecast_on_the_question(ledger, shared):
    first, update, other, _ = shared
    resolution = ledger.resolve(other.id[:5], "yes", on="2026-04-30", evidence="FOMC cut", today=TODAY)
    assert resolution.question_id == "fed-cuts"
    for forecast in (first, update, other):
        tracked = ledger.get(forecast.id, today=TODAY)
        assert tracked.status == "resolved" and tracked.current == resolution
    assert ledger.get("lone-one", today=TODAY).status == "open"
    # the stored weights: each forecast's share of its pair's days (59 and 61 of 120; B alone: all 89)
    weights = dict(ledger.conn.execute("SELECT id, weight FROM forecasts").fetchall())
    assert weights[first.id] == pytest.approx(59 / 120) and weights[update.id] == pytest.approx(61 / 120)
    assert weights[other.id] == 1.0 and weights["lone-one"] == 1.0
    assert ledger.verify().ok


def test_a_forecast_on_a_question_takes_its_criteria_and_deadline(ledger, shared):
    before = ledger.head()
    with pytest.raises(ValidationError, match="field resolution_criteria: is .* on question fed-cuts"):
        ledger.add(question="fed-cuts", source="C", made_on="2026-02-01", probability=0.5,
                   resolution_criteria="YES if anything happens.", today=TODAY)  # fmt: skip
    with pytest.raises(ValidationError, match="field deadline: is 2026-07-31 here but 2026-06-30 on question fed-cuts"):
        ledger.add(question="fed-cuts", source="C", made_on="2026-02-01", probability=0.5, deadline="2026-07-31",
                   today=TODAY)  # fmt: skip
    with pytest.raises(ValidationError, match="field tags"):
        ledger.add(question="fed-cuts", source="C", made_on="2026-02-01", probability=0.5, tags=["other"], today=TODAY)
    with pytest.raises(ValidationError, match="field deadline: 2026-06-30 is before made_on 2026-07-01"):
        ledger.add(question="fed-cuts", source="C", made_on="2026-07-01", probability=0.5, today=TODAY)
    # the same criteria, spaced differently, and the same deadline are the question's: accepted
    same = ledger.get_question("fed-cuts").question
    ledger.add(question="fed-cuts", source="C", made_on="2026-02-01", probability=0.5, deadline=same.deadline,
               resolution_criteria="  " + same.resolution_criteria.replace(" ", "  "), today=TODAY)  # fmt: skip
    assert ledger.head().seq == before.seq + 1


def test_the_same_forecast_twice_says_so_with_its_id(ledger):
    forecast = ledger.add(**forecast_fields())
    with pytest.raises(ValidationError) as caught:
        ledger.add(**forecast_fields())
    assert str(caught.value) == f"the same forecast is already recorded, as {forecast.id}"
    with pytest.raises(ValidationError, match=f"field id: '{forecast.id}' is already in the ledger"):
        ledger.add(**forecast_fields(id=forecast.id, claim="Something else"))  # a chosen id: it is the id that clashes


def test_ids_name_questions_and_forecasts(ledger, shared):
    first, update, other, _ = shared
    assert ledger.resolve_question_id(update.id) == "fed-cuts" == ledger.resolve_question_id("fed-c")
    assert ledger.get("fed-cuts").forecast == first  # a question's id names its first forecast
    ledger.add(**forecast_fields(id="fed-later", claim="Another question"))
    with pytest.raises(AmbiguousIdError, match="'fed' matches forecasts on several questions \\(fed-cuts, fed-later\\)"):
        ledger.resolve_question_id("fed")
    assert ledger.resolve_question_id("fed-l") == "fed-later"


# --- the CLI -------------------------------------------------------------------------------------


@pytest.fixture
def cli_run(tmp_path):
    db = tmp_path / "cli.db"

    def run(*args, code=0):
        result = CliRunner().invoke(cli, ["--db", str(db), "--today", TODAY.isoformat(), *args])
        assert result.exit_code == code, (result.output, result.exception)
        return result

    run.db = db
    return run


ADD = ("add", "--source", "The Times", "--claim", "The Fed cuts by June", "--made-on", "2026-01-01",
       "--criteria", "YES if the FOMC lowers its target range by 30 June 2026.", "--deadline", "2026-06-30")  # fmt: skip


def test_add_json_names_the_forecast_and_its_question(cli_run):
    record = json.loads(cli_run(*ADD, "--probability", "0.8", "--json").stdout)
    assert record["id"] == record["question_id"]
    update = json.loads(cli_run("add", "--question", record["id"][:6], "--source", "The Times", "--made-on",
                                "2026-03-01", "--phrase", "likely", "--json").stdout)  # fmt: skip
    assert update["question_id"] == record["id"] and update["id"] != record["id"]
    assert (update["probability"], update["probability_basis"], update["claim"]) == (0.75, "verbal", None)
    assert update["resolution_criteria"] == record["resolution_criteria"] and update["deadline"] == "2026-06-30"


def test_add_to_a_question_with_other_criteria_is_refused_and_writes_nothing(cli_run):
    question = cli_run(*ADD, "--probability", "0.8").stdout.strip()
    before = state(cli_run.db)
    result = cli_run("add", "--question", question, "--source", "B", "--made-on", "2026-02-01", "--probability",
                     "0.4", "--criteria", "YES if rates fall.", code=1)  # fmt: skip
    assert result.stderr.startswith("Error: field resolution_criteria (--criteria): is YES if rates fall. here but")
    result = cli_run("add", "--question", question, "--source", "B", "--made-on", "2026-02-01", "--probability",
                     "0.4", "--within", "by the end of 2026", code=1)  # fmt: skip
    assert "field deadline_text (--within)" in result.stderr
    result = cli_run("add", "--question", "no-such", "--source", "B", "--made-on", "2026-02-01", "--probability", "0.4", code=1)
    assert result.stderr == "Error: no forecast or question has an id starting with 'no-such'\n"
    assert state(cli_run.db) == before


def test_resolve_show_list_and_history_by_question(cli_run):
    question = cli_run(*ADD, "--probability", "0.8").stdout.strip()
    other = cli_run("add", "--question", question, "--source", "A. Pundit", "--made-on", "2026-02-01",
                    "--probability", "0.3").stdout.strip()  # fmt: skip
    assert cli_run("resolve", other, "no", "--on", "2026-06-30", "--evidence", "FOMC held").stdout == (
        f"{question} resolved no on 2026-06-30\n"
    )
    shown = json.loads(cli_run("show", other, "--json").stdout)
    assert shown["id"] == other and shown["question_id"] == question and shown["outcome"] == "no"
    assert [f["id"] for f in shown["forecasts"]] == [question, other]
    assert [r["outcome"] for r in shown["resolutions"]] == ["no"]
    text = cli_run("show", other).stdout
    assert f"Other forecasts on question {question}:" in text and "The Times: 0.8" in text
    listed = json.loads(cli_run("list", "--questions", "--json").stdout)
    assert [(q["id"], q["status"], q["sources"], len(q["forecasts"])) for q in listed] == [
        (question, "resolved", ["The Times", "A. Pundit"], 2)
    ]
    lines = cli_run("list", "--questions").stdout.splitlines()
    assert lines[0].split()[:5] == ["QUESTION", "STATUS", "DEADLINE", "FC", "SRC"]
    assert lines[1].split()[:5] == [question, "no", "2026-06-30", "2", "2"]
    assert len(cli_run("list").stdout.splitlines()) == 3  # one line per forecast, as before
    assert "Resolution 1: no" in cli_run("history", other).stdout


def test_the_installed_command_adds_to_a_question(tmp_path):
    command = [str(Path(sys.executable).parent / "predictions"), "--db", str(tmp_path / "l.db"), "--today", TODAY.isoformat()]
    first = subprocess.run([*command, *ADD, "--probability", "0.8"], capture_output=True, text=True, check=True)
    question = first.stdout.strip()
    second = subprocess.run([*command, "add", "--question", question, "--source", "B", "--made-on", "2026-02-01",
                             "--probability", "0.3", "--json"], capture_output=True, text=True)  # fmt: skip
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout)["question_id"] == question


# --- import and export ---------------------------------------------------------------------------


def _record(**overrides):
    record = {"id": "r-one", "source": "S", "claim": "C", "resolution_criteria": "YES if C.", "made_on": "2026-01-01",
              "deadline": "2026-06-30", "probability": 0.7}  # fmt: skip
    record.update(overrides)
    return record


def _jsonl(path: Path, records) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def test_records_sharing_a_question_id_are_one_question(tmp_path, ledger):
    file = _jsonl(tmp_path / "in.jsonl", [
        _record(id="a-one", question_id="q-fed", outcome="yes", resolved_on="2026-04-30", evidence="cut"),
        _record(id="b-one", question_id="q-fed", source="T", claim=None, made_on="2026-02-01", probability=0.2,
                outcome="yes", resolved_on="2026-04-30", evidence="cut"),
        _record(id="c-one"),  # today's format: its own question
    ])  # fmt: skip
    summary = ledger.import_records(read_records(file), today=TODAY)
    assert (summary.forecasts, summary.questions, summary.resolutions) == (3, 2, 1)
    question = ledger.get_question("q-fed")
    assert [f.id for f in question.forecasts] == ["a-one", "b-one"] and len(question.history) == 1
    assert ledger.get("c-one").question.id == "c-one"
    assert ledger.verify().ok
    shapes = ledger.conn.execute("SELECT kind, shape, subject_id FROM entries ORDER BY seq").fetchall()
    assert shapes == [("question", 2, "q-fed"), ("forecast", 2, "a-one"), ("resolution", 2, "q-fed"),
                      ("forecast", 2, "b-one"), ("forecast", 1, "c-one")]  # fmt: skip


@pytest.mark.parametrize(
    ("second", "field"),
    [
        ({"resolution_criteria": "YES if anything."}, "resolution_criteria"),
        ({"deadline": "2026-07-31"}, "deadline"),
        ({"tags": ["other"]}, "tags"),
        ({"deadline_assumed": True}, "deadline_assumed"),
        ({"outcome": "no", "resolved_on": "2026-04-30", "evidence": "held", "early_reason": "it was held"}, "resolutions"),
    ],
)
def test_a_conflicting_question_is_refused_naming_the_line_and_field(tmp_path, ledger, second, field):
    file = _jsonl(tmp_path / "in.jsonl", [
        _record(id="a-one", question_id="q-fed"),
        _record(id="x-one"),
        _record(id="b-one", question_id="q-fed", source="T", **second),
    ])  # fmt: skip
    with pytest.raises(ValidationError) as caught:
        ledger.import_records(read_records(file), today=TODAY)
    assert str(caught.value).startswith(f"{file}:3: field {field}: ")
    assert ledger.count() == 0 and ledger.head().seq == 0


def test_a_record_may_join_a_question_already_in_the_ledger(tmp_path, ledger, shared):
    file = _jsonl(tmp_path / "more.jsonl", [
        {**json.loads(json.dumps(next(r for r in ledger.export_records(today=TODAY) if r["id"] == "fed-cuts"))),
         "id": "late-one", "source": "Late Outlet", "made_on": "2026-05-01", "recorded_at": None, "resolutions": []},
    ])  # fmt: skip
    ledger.import_records(read_records(file), today=TODAY)
    assert ledger.get_question("fed-cuts").sources == ("Example Outlet", "A. Pundit", "Late Outlet")
    assert ledger.conn.execute("SELECT forecasters FROM questions WHERE id = 'fed-cuts'").fetchone() == (3,)
    assert ledger.verify().ok


_PROBABILITY = st.floats(min_value=0, max_value=1, allow_nan=False).map(lambda p: round(p, 3))


@settings(max_examples=25, deadline=None)
@given(
    questions=st.lists(
        st.tuples(
            st.lists(st.tuples(st.sampled_from(["A", "B", "C"]), st.integers(0, 120), _PROBABILITY), min_size=1, max_size=4),
            st.sampled_from([None, "yes", "no", "ambiguous"]),
        ),
        min_size=1, max_size=5,
    ),
    fmt=st.sampled_from(["jsonl", "json", "csv"]),
)  # fmt: skip
def test_export_then_import_is_lossless(tmp_path_factory, questions, fmt):
    folder = tmp_path_factory.mktemp("round")
    with Ledger(folder / "a.db") as first:
        for number, (forecasts, outcome) in enumerate(questions):
            question_id = None
            for index, (source, day, p) in enumerate(forecasts):
                made_on = D(2026, 1, 1) + dt.timedelta(days=day)
                if question_id is None:
                    added = first.add(**forecast_fields(id=f"q{number}-f{index}", claim=f"Claim {number}", source=source,
                                                        made_on=made_on, deadline="2026-06-30", probability=p,
                                                        tags=[f"t{number}"]))  # fmt: skip
                    question_id = added.question_id
                else:
                    first.add(question=question_id, id=f"q{number}-f{index}", source=source, made_on=made_on,
                              probability=p, today=TODAY)  # fmt: skip
            if outcome is not None:
                first.resolve(question_id, outcome, on="2026-06-30", evidence="e", today=TODAY)
        exported = list(first.export_records(today=TODAY))
        weights = first.conn.execute("SELECT id, weight FROM forecasts ORDER BY rowid").fetchall()
    text = io.StringIO()
    write_records(exported, text, fmt)
    (folder / f"out.{fmt}").write_text(text.getvalue(), encoding="utf-8")
    with Ledger(folder / "b.db") as second:
        second.import_records(read_records(folder / f"out.{fmt}"), today=TODAY)
        assert list(second.export_records(today=TODAY)) == exported
        assert second.conn.execute("SELECT id, weight FROM forecasts ORDER BY rowid").fetchall() == weights
        assert second.verify().ok


# --- verify of the new shapes --------------------------------------------------------------------


def _tamper(db: Path, *statements: str) -> None:
    conn = sqlite3.connect(db, isolation_level=None)
    triggers = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall()
    for name, _ in triggers:
        conn.execute(f"DROP TRIGGER {name}")
    for statement in statements:
        conn.execute(statement)
    for _, sql in triggers:
        conn.execute(sql)
    conn.close()


@pytest.mark.parametrize(
    ("statements", "words"),
    [
        (["UPDATE questions SET resolution_criteria = 'YES always' WHERE id = 'q-fed'"], "entry 1 (question q-fed): resolution_criteria"),
        (["UPDATE forecasts SET question_id = 'c-one' WHERE id = 'b-one'"], "(forecast b-one): question_id"),
        (["UPDATE forecasts SET probability = 0.9 WHERE id = 'b-one'"], "(forecast b-one): probability is 0.9"),
        (["UPDATE forecasts SET weight = 0.5 WHERE id = 'a-one'"], "(forecast a-one): its scoring weight is 0.5"),
        (["UPDATE questions SET forecasters = 1 WHERE id = 'q-fed'"], "(question q-fed): says 1 sources"),
        (["UPDATE questions SET recorded_at = '2020-01-01T00:00:00Z' WHERE id = 'c-one'"], "(forecast c-one): its question's recorded_at"),
        (["DELETE FROM questions WHERE id = 'q-fed'"], "the question was deleted"),
        (["UPDATE entries SET shape = 1 WHERE seq = 4"], "entry 4 (forecast b-one)"),
        (["UPDATE resolutions SET question_id = 'c-one'"], "(question c-one)"),
    ],
)  # fmt: skip
def test_verify_checks_questions_forecasts_on_them_and_the_projections(tmp_path, statements, words):
    db = tmp_path / "l.db"
    file = _jsonl(tmp_path / "in.jsonl", [
        _record(id="a-one", question_id="q-fed", outcome="yes", resolved_on="2026-04-30", evidence="cut"),
        _record(id="b-one", question_id="q-fed", source="T", made_on="2026-02-01", probability=0.2),
        _record(id="c-one"),
    ])  # fmt: skip
    with Ledger(db) as ledger:
        ledger.import_records(read_records(file), today=TODAY)
        ledger.add(question="q-fed", source="S", made_on="2026-03-01", probability=0.5, today=TODAY)
        assert ledger.verify().ok
    _tamper(db, *statements)
    with Ledger(db) as ledger:
        result = ledger.verify()
    assert not result.ok
    assert any(words in str(p) for p in result.problems), [str(p) for p in result.problems]


# --- one definition of each field ----------------------------------------------------------------


def test_the_schema_the_migrations_make_has_exactly_the_attrs_fields(ledger):
    """Migrations are literal SQL (each describes the schema of its day); the code's column lists,
    payload keys and INSERTs are derived from the attrs classes. This keeps the two in step."""
    from predictions import chain

    def columns(table):
        return tuple(r[1] for r in ledger.conn.execute(f"PRAGMA table_info({table})"))

    assert columns("questions") == (*chain.QUESTION_COLUMNS, "outcome", "resolved_on", "forecasters")
    assert columns("forecasts") == (*chain.FORECAST_COLUMNS, "weight")
    assert columns("resolutions") == ("id", *chain.RESOLUTION_COLUMNS)
    assert columns("documents") == chain.DOCUMENT_COLUMNS
    assert columns("entries") == chain.ENTRY_COLUMNS
    triggers = dict(ledger.conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall())

    def guarded(name):  # the columns after BEFORE UPDATE OF
        text = " ".join(triggers[name].split())
        return tuple(c.strip() for c in text.split(" OF ", 1)[1].split(" ON ", 1)[0].split(","))

    assert guarded("questions_no_edit") == chain.QUESTION_COLUMNS  # every recorded field; not the projections
    assert guarded("forecasts_no_edit") == chain.FORECAST_COLUMNS
