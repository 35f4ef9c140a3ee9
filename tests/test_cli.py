"""Every command through click's CliRunner: results on stdout, one line on stderr for errors,
exit 1 for a refusal and 2 for a usage mistake, and the ledger unchanged after any error."""

from __future__ import annotations

import datetime as dt
import io
import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from predictions import Ledger
from predictions.io import CSV_COLUMNS
from predictions_cli.main import cli

from .conftest import TODAY, forecast_fields

D = dt.date
EXPORT_KEYS = {"id", "source", "document", "claim", "quote", "question", "resolution_criteria", "made_on",
               "deadline", "deadline_text", "probability", "probability_basis", "tags", "status", "outcome",
               "resolved_on", "evidence"}  # fmt: skip


@pytest.fixture
def db(tmp_path) -> Path:
    return tmp_path / "cli.db"


@pytest.fixture
def run(db):
    """run(*args) -> Result with --db and --today set; the exit code is checked against `code`."""

    def invoke(*args, code=0, input=None):
        result = CliRunner().invoke(cli, ["--db", str(db), "--today", TODAY.isoformat(), *map(str, args)], input=input)
        if code is not None:
            assert result.exit_code == code, (result.stdout, result.stderr, result.exception)
        if code == 1:
            assert result.stdout == ""
            assert result.stderr.count("\n") == 1 and result.stderr.startswith("Error: "), result.stderr
            assert "Traceback" not in result.stderr
        return result

    return invoke


def state(db: Path) -> tuple | None:
    """What the ledger says (its chain head and count), or None if there is no ledger file."""
    if not db.exists():
        return None
    with Ledger(db, create=False) as ledger:
        return ledger.head(), ledger.count()


ADD = ["add", "--source", "Example Outlet", "--claim", "Widget sales double", "--made-on", "2026-01-15",
       "--criteria", "YES if 2026 widget sales are at least twice 2025's."]  # fmt: skip


@pytest.fixture
def added(run):
    """Three forecasts: one open, one due, one resolved yes."""
    ids = {
        "open": run(*ADD, "--deadline", "2027-06-30", "--probability", "0.6", "--tag", "widgets", "--id", "open-one").stdout.strip(),
        "due": run(*ADD, "--claim", "Gadgets sell out", "--deadline", "2026-03-31", "--phrase", "likely", "--id", "due-one").stdout.strip(),
        "done": run(*ADD, "--claim", "Gizmos launch", "--deadline", "2026-09-30", "--probability", "0.3",
                    "--source", "Other Source", "--id", "done-one").stdout.strip(),
    }  # fmt: skip
    run("resolve", "done", "yes", "--on", "2026-08-01", "--evidence", "Launch press release")
    return ids


# --- help ---------------------------------------------------------------------------------------


def test_every_command_and_option_has_help_text():
    ctx = click.Context(cli)
    assert cli.help
    for name, command in cli.commands.items():
        assert (command.help or "").strip(), f"{name} has no help"
        assert command.get_short_help_str().strip()
        for param in command.params:
            if isinstance(param, click.Option):
                assert param.help, f"{name} {param.opts[0]} has no help"
    assert set(cli.list_commands(ctx)) == {"add", "list", "show", "due", "history", "resolve", "import", "export",
                                           "seed", "extract", "verify", "head", "backup", "upgrade", "score", "report"}  # fmt: skip


@pytest.mark.parametrize("command", sorted(cli.commands))
def test_help_of_each_command(command):
    result = CliRunner().invoke(cli, [command, "--help"])
    assert result.exit_code == 0 and result.stdout.startswith(f"Usage: predictions {command} ")
    assert CliRunner().invoke(cli, [command, "-h"]).stdout == result.stdout


def test_main_help_lists_the_commands():
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    assert "--db FILE" in result.stdout and "PREDICTIONS_DB" in result.stdout
    for command in ("add", "resolve", "import", "export", "verify", "report"):
        assert f"  {command} " in result.stdout


# --- the ledger file ----------------------------------------------------------------------------


def test_db_defaults_to_the_environment_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("PREDICTIONS_DB", str(tmp_path / "from-env.db"))
    result = CliRunner().invoke(cli, [*ADD, "--deadline", "2026-12-31", "--probability", "0.5"])
    assert result.exit_code == 0 and (tmp_path / "from-env.db").exists()


def test_db_defaults_to_ledger_db_in_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.delenv("PREDICTIONS_DB")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, [*ADD, "--deadline", "2026-12-31", "--probability", "0.5"])
    assert result.exit_code == 0 and (tmp_path / "ledger.db").exists()


@pytest.mark.parametrize("command", [["list"], ["show", "abc"], ["due"], ["history", "abc"], ["export"], ["verify"],
                                     ["head"], ["score"], ["backup", "copy.db"], ["resolve", "abc", "yes", "--on",
                                     "2026-01-01", "--evidence", "e"]])  # fmt: skip
def test_readers_refuse_a_missing_ledger_without_creating_it(run, db, command):
    result = run(*command, code=1)
    assert result.stderr == f"Error: no ledger at {db} (add or import a forecast to create one)\n"
    assert not db.exists()


def test_a_file_that_is_not_a_ledger_is_refused_untouched(run, db):
    db.write_text("name,claim\n")
    result = run(*ADD, "--deadline", "2026-12-31", "--probability", "0.5", code=1)
    assert result.stderr == f"Error: {db} is not a SQLite database; refusing to touch it\n"
    assert db.read_text() == "name,claim\n"


# --- add ----------------------------------------------------------------------------------------


def test_add_prints_only_the_new_id(run, db):
    result = run(*ADD, "--deadline", "2026-12-31", "--probability", "0.7")
    forecast_id = result.stdout.strip()
    assert result.stdout == forecast_id + "\n" and result.stderr == ""
    assert len(forecast_id) == 12
    with Ledger(db) as ledger:
        tracked = ledger.get(forecast_id)
    forecast = tracked.forecast
    assert (forecast.probability, forecast.probability_basis, tracked.question.deadline) == (0.7, "assigned", D(2026, 12, 31))
    assert forecast.question_id == forecast_id  # a new question takes its first forecast's id


def test_add_with_every_option(run):
    forecast_id = run(
        *ADD, "--within", "within 18 months", "--phrase", "Likely", "--quote", 'She said: "sales will double."',
        "--question-text", "Will 2026 widget sales be at least twice 2025's?", "--document-url", "https://example.org/a",
        "--title", "Widgets, 2026", "--author", "A. Writer", "--outlet", "Example Outlet", "--tag", "widgets",
        "--tag", "sales", "--source-kind", "outlet", "--note", "Back-filled.", "--assumed-deadline",
    ).stdout.strip()  # fmt: skip
    record = json.loads(run("show", forecast_id, "--json").stdout)
    assert record["deadline"] == "2027-07-15" and record["deadline_text"] == "within 18 months"
    assert record["deadline_assumed"] is True
    assert (record["probability"], record["probability_basis"], record["phrase"]) == (0.75, "verbal", "Likely")
    assert record["document"]["title"] == "Widgets, 2026" and record["document"]["url"] == "https://example.org/a"
    assert record["document"]["author"] == "A. Writer" and record["tags"] == ["sales", "widgets"]
    assert record["quote"] == 'She said: "sales will double."' and record["source_kind"] == "outlet"


def test_add_json_prints_the_record(run):
    record = json.loads(run(*ADD, "--deadline", "2026-12-31", "--probability", "0.7", "--json").stdout)
    assert record["claim"] == "Widget sales double" and record["probability"] == 0.7
    shown = json.loads(run("show", record["id"], "--json").stdout)
    assert record["question_id"] == record["id"]
    assert record == {k: v for k, v in shown.items() if k != "forecasts"}  # the same shape as show and list
    assert [f["id"] for f in shown["forecasts"]] == [record["id"]]  # show adds every forecast on the question
    assert (record["status"], record["outcome"], record["resolutions"]) == ("open", None, [])


def test_a_number_beside_a_phrase_is_assigned(run):
    record = json.loads(run(*ADD, "--deadline", "2026-12-31", "--probability", "0.6", "--phrase", "likely", "--json").stdout)
    assert (record["probability"], record["probability_basis"], record["phrase"]) == (0.6, "assigned", "likely")


def test_back_filled_made_on_is_normal(run):
    run(*ADD[:-4], "--made-on", "1999-01-01", "--criteria", "K", "--deadline", "2000-01-01", "--probability", "0.5")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--deadline", "2026-12-31", "--probability", "1.5"], "field probability: 1.5 is outside [0, 1]"),
        (["--deadline", "2026-12-31", "--probability", "-0.2"], "field probability: -0.2 is outside [0, 1]"),
        (["--deadline", "2026-12-31", "--probability", "nan"], "field probability: must be a number between 0 and 1, not nan"),
        (["--deadline", "2026-01-14", "--probability", "0.5"], "field deadline: 2026-01-14 is before made_on 2026-01-15"),
        (["--within", "eventually", "--probability", "0.5"],
         "field deadline_text (--within): 'eventually' does not name a deadline: use a span ('within 18 months'), a period "
         "('by the end of 2026', 'by Q3 2026', 'by March 2027') or a date ('by December 31, 2026', YYYY-MM-DD)"),
        (["--within", "within -3 months", "--probability", "0.5"],
         "field deadline_text (--within): 'within -3 months' is a negative span: a deadline comes after the forecast"),
        (["--within", "by the end of 2025", "--probability", "0.5"],
         "field deadline_text (--within): 'by the end of 2025' ends on 2025-12-31, before the forecast was made (2026-01-15)"),
        (["--deadline", "2026-12-31", "--phrase", "perhaps"], "field phrase: 'perhaps' is not on the hedge scale; give a number"),
        (["--deadline", "2026-12-31", "--probability", "0.5", "--tag", "Bad Tag"],
         "field tags (--tag): 'Bad Tag' is not a tag: use letters, digits, '.', '_' or '-' (at most 40)"),
        (["--deadline", "2026-12-31", "--probability", "0.5", "--id", "X"], "field id: 'X' is not an id"),
        (["--deadline", "2026-12-31", "--probability", "0.5", "--source", " "], "field source: must not be empty"),
        (["--deadline", "2026-12-31", "--probability", "0.5", "--source", "a\nb"], "field source: must be a single line"),
    ],
)  # fmt: skip
def test_add_refusals_are_one_line_and_write_nothing(run, db, extra, message):
    run(*ADD, "--deadline", "2026-12-31", "--probability", "0.5", "--claim", "an earlier one")
    before = state(db)
    result = run(*ADD, *extra, code=1)
    assert result.stderr.startswith(f"Error: {message}")
    assert state(db) == before


def test_a_refused_add_on_a_new_ledger_leaves_no_file(run, db, tmp_path):
    run(*ADD, "--deadline", "2026-12-31", "--probability", "1.5", code=1)
    assert list(tmp_path.iterdir()) == []


def test_adding_the_same_forecast_twice(run, db):
    forecast_id = run(*ADD, "--deadline", "2026-12-31", "--probability", "0.5").stdout.strip()
    before = state(db)
    result = run(*ADD, "--deadline", "2026-12-31", "--probability", "0.5", code=1)
    assert f"the same forecast is already recorded, as {forecast_id}" in result.stderr
    assert state(db) == before


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--probability", "0.5"], "give a deadline: --deadline DATE or --within TEXT"),
        (["--deadline", "2026-12-31"], "give a probability: --probability P or --phrase TEXT"),
        (["--deadline", "2026-02-30", "--probability", "0.5"], "Invalid value for '--deadline': '2026-02-30' is not a real date"),
        (["--deadline", "31/12/2026", "--probability", "0.5"], "Invalid value for '--deadline': '31/12/2026' is not a date in YYYY-MM-DD form"),
        (["--deadline", "2026-12-31", "--probability", "high"], "Invalid value for '--probability': 'high' is not a valid float"),
        (["--deadline", "2026-12-31", "--probability", "0.5", "--basis", "guess"], "Invalid value for '--basis'"),
    ],
)  # fmt: skip
def test_add_usage_errors_exit_2(run, db, extra, message):
    result = run(*ADD, *extra, code=2)
    assert result.stderr.splitlines()[-1].startswith(f"Error: {message}")
    assert "Traceback" not in result.stderr
    assert not db.exists()


def test_add_requires_source_claim_criteria_and_made_on(run):
    for option in ("--source", "--claim", "--criteria", "--made-on"):
        args = list(ADD)
        index = args.index(option)
        del args[index : index + 2]
        result = run(*args, "--deadline", "2026-12-31", "--probability", "0.5", code=2)
        if option in ("--claim", "--criteria"):  # not needed on an existing question (--question)
            expected = f"Error: give {option} (or add to an existing question with --question ID)"
        else:
            expected = f"Error: Missing option '{option}'."
        assert result.stderr.splitlines()[-1] == expected


# --- list, show, due, history -------------------------------------------------------------------


def test_list_text(run, added):
    lines = run("list").stdout.splitlines()
    assert lines[0].split() == ["ID", "STATUS", "DEADLINE", "P", "SOURCE", "CLAIM"]
    assert [line.split()[0] for line in lines[1:]] == ["due-one", "done-one", "open-one"]  # by deadline
    assert lines[1].split()[1:4] == ["due", "236d", "2026-03-31"]
    assert lines[2].split()[1] == "yes"


def test_list_filters_and_json(run, added):
    def ids(*args):
        return [r["id"] for r in json.loads(run("list", *args, "--json").stdout)]

    assert ids() == ["due-one", "done-one", "open-one"]
    assert ids("--status", "open") == ["open-one"]
    assert ids("--status", "due") == ["due-one"]
    assert ids("--status", "resolved") == ["done-one"]
    assert ids("--status", "all") == ids()
    assert ids("--source", "Other Source") == ["done-one"]
    assert ids("--tag", "widgets") == ["open-one"]
    assert ids("--tag", "nothing") == []
    records = json.loads(run("list", "--json").stdout)
    assert all(EXPORT_KEYS <= set(r) for r in records)
    assert [r["status"] for r in records] == ["due", "resolved", "open"]


def test_list_empty_and_bad_status(run, added):
    assert run("list", "--tag", "nothing").stdout == "No forecasts match.\n"
    result = run("list", "--status", "late", code=2)
    assert "Invalid value for '--status'" in result.stderr.splitlines()[-1]


def test_show_text_and_json(run, added):
    text = run("show", "due").stdout
    assert text.splitlines()[0] == "due-one  [due: deadline passed 236 days ago, not yet resolved]"
    assert 'Probability:  0.75 (verbal, "likely")' in text and "Deadline:     2026-03-31" in text
    done = run("show", "done-one").stdout
    assert "[resolved yes]" in done and "Resolution 1: yes on 2026-08-01" in done
    assert "Evidence:   Launch press release" in done
    record = json.loads(run("show", "done", "--json").stdout)
    assert EXPORT_KEYS <= set(record)
    assert (record["status"], record["outcome"], record["resolved_on"], record["evidence"]) == (
        "resolved", "yes", "2026-08-01", "Launch press release")  # fmt: skip


def test_show_unknown_and_ambiguous_ids(run, added):
    assert run("show", "zzz", code=1).stderr == "Error: no forecast or question has an id starting with 'zzz'\n"
    assert run("show", "d", code=1).stderr == (
        "Error: 'd' matches several forecasts (done-one, due-one); type more of the id\n"
    )
    assert run("show", code=2).stderr.splitlines()[-1] == "Error: Missing argument 'ID'."


def test_due(run, added):
    assert [line.split()[0] for line in run("due").stdout.splitlines()[1:]] == ["due-one"]
    assert [r["id"] for r in json.loads(run("due", "--json").stdout)] == ["due-one"]
    run("resolve", "due", "no", "--on", "2026-03-31", "--evidence", "Stock remained")
    assert run("due").stdout == "Nothing is due.\n"
    assert json.loads(run("due", "--json").stdout) == []


def test_due_lists_oldest_deadline_first(run, added):
    run(*ADD, "--claim", "Older", "--deadline", "2026-02-01", "--probability", "0.5", "--id", "older-one")
    assert [r["id"] for r in json.loads(run("due", "--json").stdout)] == ["older-one", "due-one"]


def test_history(run, added):
    assert run("history", "open").stdout == "open-one has not been resolved.\n"
    assert json.loads(run("history", "open", "--json").stdout) == []
    run("resolve", "done", "no", "--on", "2026-09-30", "--evidence", "Launch slipped", "--correct", "the release was a rehearsal")
    text = run("history", "done").stdout
    assert "Resolution 1: yes on 2026-08-01" in text and "Correction 2: no on 2026-09-30" in text
    assert "Reason:     the release was a rehearsal" in text
    history = json.loads(run("history", "done", "--json").stdout)
    assert [(h["outcome"], h["correction_reason"]) for h in history] == [("yes", None), ("no", "the release was a rehearsal")]


# --- resolve ------------------------------------------------------------------------------------


def test_resolve_prints_what_it_recorded(run, added, db):
    assert run("resolve", "due", "no", "--on", "2026-03-31", "--evidence", "e").stdout == "due-one resolved no on 2026-03-31\n"
    result = run("resolve", "due", "ambiguous", "--on", "2026-04-02", "--evidence", "e2", "--correct", "source unclear",
                 "--note", "n", "--by", "editor")  # fmt: skip
    assert result.stdout == "due-one corrected to ambiguous on 2026-04-02\n"
    record = json.loads(run("resolve", "open", "yes", "--on", "2026-10-01", "--evidence", "e3", "--json").stdout)
    assert record["question_id"] == "open-one" and record["outcome"] == "yes" and record["recorded_by"] is None
    with Ledger(db) as ledger:
        assert ledger.get("due-one").current.recorded_by == "editor"


def test_resolve_by_from_the_environment(run, added, db, monkeypatch):
    monkeypatch.setenv("PREDICTIONS_USER", "night editor")
    run("resolve", "open", "annulled", "--on", "2026-10-01", "--evidence", "question withdrawn")
    with Ledger(db) as ledger:
        assert ledger.get("open").current.recorded_by == "night editor"


def test_early_no_needs_a_reason(run, added, db):
    before = state(db)
    result = run("resolve", "open", "no", "--on", "2026-10-01", "--evidence", "Plant closed", code=1)
    assert result.stderr == (
        "Error: field early_reason (--early-reason): resolving no on 2026-10-01, before the deadline 2027-06-30, "
        "needs a reason why it can no longer come true\n"
    )
    assert state(db) == before
    run("resolve", "open", "no", "--on", "2026-10-01", "--evidence", "Plant closed", "--early-reason", "the only factory closed")
    assert json.loads(run("history", "open", "--json").stdout)[0]["early_reason"] == "the only factory closed"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["done", "no", "--on", "2026-09-30", "--evidence", "e"],
         "field correction_reason (--correct): done-one is already resolved yes on 2026-08-01; resolving it again is a correction and needs a reason"),
        (["open", "yes", "--on", "2026-11-23", "--evidence", "e"], "field resolved_on (--on): 2026-11-23 is in the future (today is 2026-11-22)"),
        (["open", "yes", "--on", "2026-01-01", "--evidence", "e"], "field resolved_on (--on): 2026-01-01 is before the forecast was made (2026-01-15)"),
        (["due", "yes", "--on", "2026-04-01", "--evidence", "e"],
         "field resolved_on (--on): 2026-04-01 is after the deadline 2026-03-31: a forecast that came true late resolves no"),
        (["open", "yes", "--on", "2026-10-01", "--evidence", "e", "--correct", "oops"], "field correction_reason (--correct): open-one has no resolution to correct"),
        (["open", "yes", "--on", "2026-10-01", "--evidence", " "], "field evidence: must not be empty"),
        (["nope", "yes", "--on", "2026-10-01", "--evidence", "e"], "no forecast or question has an id starting with 'nope'"),
        (["d", "yes", "--on", "2026-03-01", "--evidence", "e"], "'d' matches forecasts on several questions (done-one, due-one); type more of the id"),
    ],
)  # fmt: skip
def test_resolve_refusals(run, added, db, args, message):
    before = state(db)
    assert run("resolve", *args, code=1).stderr == f"Error: {message}\n"
    assert state(db) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["open", "maybe", "--on", "2026-10-01", "--evidence", "e"], "Invalid value for 'OUTCOME'"),
        (["open", "yes", "--evidence", "e"], "Missing option '--on'."),
        (["open", "yes", "--on", "2026-10-01"], "Missing option '--evidence'."),
        (["open", "yes", "--on", "yesterday", "--evidence", "e"], "Invalid value for '--on'"),
    ],
)
def test_resolve_usage_errors(run, added, db, args, message):
    before = state(db)
    assert run("resolve", *args, code=2).stderr.splitlines()[-1].startswith(f"Error: {message}")
    assert state(db) == before


# --- import and export --------------------------------------------------------------------------


def test_export_formats(run, added, tmp_path):
    lines = run("export").stdout.splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["id"] for r in records] == ["open-one", "due-one", "done-one"]  # in the order recorded
    assert all(EXPORT_KEYS <= set(r) for r in records)
    assert json.loads(run("export", "--format", "json").stdout) == records
    csv_text = run("export", "--format", "csv").stdout
    assert csv_text.splitlines()[0] == ",".join(CSV_COLUMNS)
    result = run("export", "--format", "csv", "-o", tmp_path / "out.csv")
    assert result.stdout == "" and result.stderr == f"Exported 3 forecasts to {tmp_path / 'out.csv'}\n"
    assert (tmp_path / "out.csv").read_text(encoding="utf-8") == csv_text


@pytest.mark.parametrize("fmt", ["jsonl", "json", "csv"])
def test_export_then_import_into_a_new_ledger(run, added, tmp_path, fmt):
    run("resolve", "done", "no", "--on", "2026-09-30", "--evidence", "e", "--correct", "misread")
    path = tmp_path / f"out.{fmt}"
    run("export", "--format", fmt, "-o", path)
    new = tmp_path / "new.db"
    result = CliRunner().invoke(cli, ["--db", str(new), "--today", TODAY.isoformat(), "import", str(path)])
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""  # no progress bar when stderr is not a terminal
    assert result.stdout.startswith("Imported 3 forecasts and 2 resolutions; chain head ")
    original = run("export").stdout
    again = CliRunner().invoke(cli, ["--db", str(new), "--today", TODAY.isoformat(), "export"]).stdout
    assert again == original


def test_import_shows_progress_only_on_a_terminal(run, tmp_path, monkeypatch):
    from predictions_cli import transfer

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal = Terminal()
    monkeypatch.setattr(transfer.sys, "stderr", terminal)
    with transfer._progress(100) as update:
        update(100)
    assert "Importing" in terminal.getvalue()
    monkeypatch.setattr(transfer.sys, "stderr", io.StringIO())
    with transfer._progress(100) as update:
        assert update is None


def test_import_json_summary(run, tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps({**forecast_fields(made_on="2026-01-15", deadline="2026-12-31"), "tags": ["x"]}) + "\n")
    summary = json.loads(run("import", path, "--json").stdout)
    assert summary["forecasts"] == 1 and summary["resolutions"] == 0 and len(summary["head"]) == 64


def test_import_is_all_or_nothing_and_names_file_line_field(run, added, db, tmp_path):
    path = tmp_path / "in.jsonl"
    good = forecast_fields(made_on="2026-01-15", deadline="2026-12-31", claim="new one")
    bad = forecast_fields(made_on="2026-01-15", deadline="2026-12-31", claim="bad one", probability=1.5)
    path.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n")
    before = state(db)
    assert run("import", path, code=1).stderr == f"Error: {path}:2: field probability: 1.5 is outside [0, 1]\n"
    assert state(db) == before


def test_a_failed_import_into_a_new_ledger_leaves_no_file(run, db, tmp_path):
    path = tmp_path / "in.csv"
    path.write_text("source,claim,resolution_criteria,made_on,deadline,probability\nS,C,K,2026-01-01,2026-06-01,NaN\n")
    assert run("import", path, code=1).stderr == f"Error: {path}:2: field probability: must be a number between 0 and 1, not nan\n"
    assert not db.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


def test_import_refuses_unknown_formats_and_missing_files(run, db, tmp_path):
    path = tmp_path / "in.txt"
    path.write_text("{}")
    assert run("import", path, code=1).stderr == f"Error: cannot tell the format of {path}: name it .jsonl, .json or .csv\n"
    assert not db.exists()
    result = run("import", tmp_path / "missing.jsonl", code=2)
    assert "does not exist" in result.stderr.splitlines()[-1]


def test_import_with_an_explicit_format(run, tmp_path):
    path = tmp_path / "in.txt"
    path.write_text(json.dumps(forecast_fields(made_on="2026-01-15", deadline="2026-12-31")) + "\n")
    assert run("import", path, "--format", "jsonl").stdout.startswith("Imported 1 forecast and 0 resolutions")


def test_export_to_a_missing_folder_is_one_line(run, added, tmp_path):
    result = run("export", "-o", tmp_path / "no" / "such" / "out.jsonl", code=1)
    assert "No such file or directory" in result.stderr


# --- seed ---------------------------------------------------------------------------------------

SEED = '''
[document]
title = "Widgets ahead"
outlet = "Example Outlet"
published_on = 2026-01-15
recorded_at = 2026-11-22T09:00:00Z

[[forecasts]]
id = "seed-widgets"
source = "Example Outlet"
claim = "Widget sales double"
resolution_criteria = "YES if 2026 widget sales are at least twice 2025's."
deadline_text = "by the end of 2026"
probability_basis = "verbal"
phrase = "likely"
'''


def test_seed_loads_and_rebuilds(run, db, tmp_path):
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "a.toml").write_text(SEED)
    assert run("seed", tmp_path / "seeds").stdout.startswith("Seeded 1 forecast and 0 resolutions; chain head ")
    record = json.loads(run("show", "seed-widgets", "--json").stdout)
    assert (record["deadline"], record["probability"]) == ("2026-12-31", 0.75)
    result = run("seed", "--rebuild", tmp_path / "seeds", "--json")
    assert json.loads(result.stdout)["forecasts"] == 1
    assert len(json.loads(run("list", "--json").stdout)) == 1


def test_seed_errors(run, db, tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(SEED.replace('phrase = "likely"', 'phrase = "perhaps"'))
    result = run("seed", path, code=1)
    assert result.stderr.startswith(f"Error: {path}:9: field phrase: 'perhaps' is not on the hedge scale")
    assert not db.exists()


# --- verify, head, backup -----------------------------------------------------------------------


def test_verify_head_backup(run, added, db, tmp_path):
    head = run("head")
    assert len(head.stdout.strip()) == 64 and head.stderr.startswith("entry 4 of the chain, 3 forecasts")
    info = json.loads(run("head", "--json").stdout)
    assert info["hash"] == head.stdout.strip() and info["entries"] == 4 and info["forecasts"] == 3
    verified = run("verify")
    assert verified.stdout == f"OK: all 4 chain entries check out (3 forecasts, 1 resolution or correction); head {info['hash']}\n"
    assert json.loads(run("verify", "--json").stdout)["ok"] is True
    assert run("verify", "--contains", info["hash"]).stdout.startswith("OK: all 4 chain entries check out")
    copy = tmp_path / "copy.db"
    assert run("backup", copy).stderr == f"Backed up {db} to {copy}\n"
    assert CliRunner().invoke(cli, ["--db", str(copy), "head"]).stdout == head.stdout
    assert run("backup", copy, code=1).stderr == f"Error: {copy} already exists; choose a new path\n"


def test_verify_an_unknown_published_hash(run, added):
    result = run("verify", "--contains", "0" * 64, code=None)
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert result.stdout == f"FAILED the hash {'0' * 64} is not in this ledger's chain\n"
    assert result.stderr == f"Error: verification failed: published hash {'0' * 64} not found\n"


# --- score and report ---------------------------------------------------------------------------


def test_score_and_report(run, added):
    run("resolve", "due", "no", "--on", "2026-03-31", "--evidence", "e")
    table, legend = run("score").stdout.split("\n\n")
    table = table.splitlines()
    assert table[0].split()[:3] == ["source", "rank", "n"]
    assert {line.split()[0] for line in table[1:]} == {"Example", "Other"}  # no all row: --by all is it
    assert legend.startswith("Lower is better: Brier (0-1), log, reliab. Higher is better: skill")
    scores = json.loads(run("score", "--json").stdout)
    assert scores  # the JSON shape belongs to test_report.py
    assert run("report", "--for", "2026-08").stdout
    assert json.loads(run("report", "--for", "2026", "--format", "json").stdout)
    assert "Error: Invalid value for '--for': 2026 is a year, not a month" in run("report", "--for", "2026", "--period", "month", code=2).stderr


# --- never a traceback --------------------------------------------------------------------------


def test_an_unexpected_error_is_one_line_without_a_traceback(run, added, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("something broke")

    monkeypatch.setattr(Ledger, "iter_forecasts", broken)
    result = run("list", code=1)
    assert result.stderr == "Error: unexpected RuntimeError: something broke (set PREDICTIONS_DEBUG=1 for the traceback)\n"


def test_version():
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0 and "version" in result.stdout


# --- the generated reference ----------------------------------------------------------------------


def test_the_cli_reference_is_up_to_date():
    """docs/cli.md is generated from --help by cog; regenerate with `cog -r docs/cli.md`."""
    repo = Path(__file__).resolve().parents[1]
    result = subprocess.run([sys.executable, "-m", "cogapp", "--check", "docs/cli.md"], cwd=repo,
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    assert result.returncode == 0, f"docs/cli.md is stale: run `cog -r docs/cli.md`\n{result.stdout}{result.stderr}"
