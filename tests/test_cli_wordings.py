"""The words people use (issue 13): deadline wordings with an assumed date on the command line,
tags as typed, and `score --by phrase` grouping by the hedge scale's canonical phrase.

Through click's CliRunner, and the wordings also through the installed `predictions` command.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from predictions import Ledger
from predictions.aggregate import score_table
from predictions_cli.main import cli

from .conftest import TODAY, forecast_fields

SCRIPT = Path(sys.executable).with_name("predictions")
ADD = ["add", "--source", "Example Outlet", "--claim", "Widget sales double", "--made-on", "2026-01-15",
       "--criteria", "YES if 2026 widget sales are at least twice 2025's.", "--probability", "0.6"]  # fmt: skip


def run(db: Path, *args: str, code: int = 0):
    result = CliRunner().invoke(cli, ["--db", str(db), "--today", TODAY.isoformat(), *args])
    assert result.exit_code == code, (result.stdout, result.stderr)
    if code:
        assert result.stderr.count("\n") == 1 and result.stderr.startswith("Error: "), result.stderr
    return result


def installed(db: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREDICTIONS_")}
    return subprocess.run([str(SCRIPT), "--db", str(db), "--today", TODAY.isoformat(), *args], capture_output=True,
                          text=True, env=env, stdin=subprocess.DEVNULL, timeout=60)  # fmt: skip


# --- --within with an assumed --deadline --------------------------------------------------------------


def test_a_wording_without_an_agreed_day_is_kept_beside_an_assumed_date(tmp_path):
    db = tmp_path / "l.db"
    forecast_id = run(db, *ADD, "--within", "by early 2028", "--deadline", "2028-06-30", "--assumed-deadline",
                      "--note", "early 2028 read as its first half").stdout.strip()  # fmt: skip
    shown = json.loads(run(db, "show", forecast_id, "--json").stdout)
    assert (shown["deadline"], shown["deadline_text"], shown["deadline_assumed"]) == ("2028-06-30", "by early 2028", True)


def test_without_the_assumed_flag_the_wording_alone_is_refused_with_the_hint(tmp_path):
    db = tmp_path / "l.db"
    result = run(db, *ADD, "--within", "by early 2028", code=1)
    assert "field deadline_text (--within): 'by early 2028' has no agreed last day: give an explicit date, " \
           "or choose one and mark it assumed (--deadline DATE --assumed-deadline)" in result.stderr  # fmt: skip
    assert not db.exists()


def test_a_date_beside_a_wording_must_be_its_date_unless_assumed(tmp_path):
    db = tmp_path / "l.db"
    result = run(db, *ADD, "--within", "within 6 months", "--deadline", "2026-12-31", code=1)
    assert result.stderr == ("Error: field deadline: 2026-12-31 but 'within 6 months' from 2026-01-15 is 2026-07-15: "
                             "give one of them, or mark the date as assumed (deadline_assumed, --assumed-deadline)\n")  # fmt: skip
    result = run(db, *ADD, "--within", "by early 2028", "--deadline", "2028-06-30", code=1)
    assert "field deadline_text (--within): 'by early 2028' has no agreed last day" in result.stderr
    assert "a date chosen for it must be marked assumed" in result.stderr
    assert not db.exists()
    # the wording's own date is no contradiction
    forecast_id = run(db, *ADD, "--within", "by December 31, 2026", "--deadline", "2026-12-31").stdout.strip()
    assert json.loads(run(db, "show", forecast_id, "--json").stdout)["deadline_assumed"] is False


def test_an_import_file_keeps_any_wording_beside_its_date_as_before(tmp_path):
    """The check is for forecasts being added; an import's deadline_text has always been kept as given."""
    with Ledger(tmp_path / "l.db") as ledger:
        record = {**forecast_fields(made_on="2026-01-15", deadline="2026-12-31"), "deadline_text": "soon"}
        summary = ledger.import_records([("r:1", record)], today=TODAY)
        assert summary.forecasts == 1


@pytest.mark.skipif(not SCRIPT.exists(), reason="the predictions script is not installed beside python")
@pytest.mark.parametrize(("within", "expected"), [("by December 31, 2026", "2026-12-31"), ("by 31 December 2026", "2026-12-31"),
                                                  ("by Dec. 31 2026", "2026-12-31"), ("by the end of the decade", "2029-12-31")])  # fmt: skip
def test_explicit_date_wordings_through_the_installed_command(tmp_path, within, expected):
    db = tmp_path / "l.db"
    added = installed(db, *ADD, "--within", within, "--json")
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout)["deadline"] == expected


@pytest.mark.skipif(not SCRIPT.exists(), reason="the predictions script is not installed beside python")
@pytest.mark.parametrize(("within", "words"), [("by FY2027", "fiscal year"), ("the 2027", "names no part of 2027"),
                                               ("by summer 2027", "season"), ("by mid-2027", "no agreed last day"),
                                               ("within 1.5 years", "such as 'within 18 months'")])  # fmt: skip
def test_wordings_needing_a_convention_are_refused_through_the_installed_command(tmp_path, within, words):
    db = tmp_path / "l.db"
    refused = installed(db, *ADD, "--within", within)
    assert refused.returncode == 1 and refused.stdout == ""
    assert refused.stderr.startswith("Error: field deadline_text (--within): ") and words in refused.stderr
    assert refused.stderr.count("\n") == 1 and not db.exists()


# --- tags ---------------------------------------------------------------------------------------------


def test_a_capitalised_tag_is_lower_cased_and_found_as_typed(tmp_path):
    db = tmp_path / "l.db"
    forecast_id = run(db, *ADD, "--deadline", "2026-12-31", "--tag", "Tech", "--tag", "AI").stdout.strip()
    assert json.loads(run(db, "show", forecast_id, "--json").stdout)["tags"] == ["ai", "tech"]
    listed = json.loads(run(db, "list", "--tag", "TECH", "--json").stdout)
    assert [f["id"] for f in listed] == [forecast_id]
    assert "Note: no forecast has the tag" not in run(db, "score", "--exclude-tag", "Tech").stderr


# --- score --by phrase ------------------------------------------------------------------------------


def _settle(ledger, phrase, outcome, **fields):
    fields = {"phrase": phrase, "probability": None, "deadline": "2026-06-30", **fields}
    forecast = ledger.add(**forecast_fields(**fields))
    ledger.resolve(forecast.id, outcome, on="2026-06-30", evidence="Report", today=TODAY)
    return forecast


def test_phrases_typed_differently_are_one_group_and_stay_stored_verbatim(tmp_path):
    with Ledger(tmp_path / "l.db") as ledger:
        kept = [_settle(ledger, "likely", "yes"), _settle(ledger, "Likely", "yes", claim="b"),
                _settle(ledger, "likely.", "no", claim="c"), _settle(ledger, "Toss up", "no", claim="d"),
                _settle(ledger, "toss-up", "ambiguous", claim="e")]  # fmt: skip
        _settle(ledger, None, "no", claim="f", probability=0.2)
        table = score_table(ledger.conn, by="phrase")
        groups = {g.group: g for g in table.groups}
        assert set(groups) == {"likely", "toss-up", "(assigned)"}
        likely = groups["likely"]
        assert likely.n == 3 and likely.yes == 2
        # each said 0.75: two came true, one did not
        assert likely.brier == pytest.approx((0.25**2 + 0.25**2 + 0.75**2) / 3)
        assert groups["toss-up"].n == 1 and groups["toss-up"].excluded.ambiguous == 1
        assert [ledger.get(f.id).forecast.phrase for f in kept] == ["likely", "Likely", "likely.", "Toss up", "toss-up"]
        # the groups still partition the forecasts: their sums are the overall figures
        assert table.overall.n == sum(g.n for g in table.groups) == 5


def test_score_by_phrase_on_the_command_line(tmp_path):
    db = tmp_path / "l.db"
    with Ledger(db) as ledger:
        _settle(ledger, "LIKELY", "yes")
        _settle(ledger, "\u201cLikely\u201d", "no", claim="b")
    scored = json.loads(run(db, "score", "--by", "phrase", "--json").stdout)
    groups = [g for g in (scored["groups"] if isinstance(scored, dict) else scored) if g["group"] != "all"]
    assert [(g["group"], g["n"]) for g in groups] == [("likely", 2)]


# --- hostile sizes on the command line (issue 9, class 6) ---------------------------------------------


@pytest.mark.skipif(not SCRIPT.exists(), reason="the predictions script is not installed beside python")
@pytest.mark.parametrize(("args", "field"), [(["--within", "within " + "to" * 60_000], "deadline_text (--within)"),
                                              (["--deadline", "2026-12-31", "--phrase", " " * 120_000 + "x"], "phrase")])  # fmt: skip
def test_a_huge_wording_or_phrase_is_refused_at_once_in_one_short_line(tmp_path, args, field):
    db = tmp_path / "l.db"
    base = [a for a in ADD if a not in ("--probability", "0.6")] if "--phrase" in args else ADD
    result = installed(db, *base, *args)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith(f"Error: field {field}: ") and "characters" in result.stderr
    assert result.stderr.count("\n") == 1 and len(result.stderr) < 300
    assert not db.exists()


def test_an_unknown_id_of_any_length_is_one_short_line(tmp_path):
    db = tmp_path / "l.db"
    run(db, *ADD, "--deadline", "2026-12-31")
    result = run(db, "show", "x" * 100_000, code=1)
    assert "no forecast or question has an id starting with 'xxx" in result.stderr and len(result.stderr) < 200


def test_a_seed_file_nested_deeply_is_a_one_line_refusal(tmp_path):
    folder = tmp_path / "seeds"
    folder.mkdir()
    (folder / "deep.toml").write_text('[document]\ntitle = "t"\n\n[[forecasts]]\nsource = ' + "[" * 5000 + "]" * 5000 + "\n")
    result = run(tmp_path / "l.db", "seed", str(folder), code=1)
    assert result.stderr == f"Error: {folder / 'deep.toml'}:5: not valid TOML (nested too deeply)\n"
