"""Rules every write obeys, whichever way it comes in (add, resolve, import, the library):

a forecast is not made in the future; an early reason belongs only to an early NO; the basis of a
probability agrees with where the number came from; and a write cannot be dated ahead of the real
date with --today. Each refusal is one line and leaves the ledger as it was.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from click.testing import CliRunner

from predictions_cli.main import cli
from predictions import Ledger, LedgerError, ValidationError
from predictions.io import read_records

from .conftest import TODAY, forecast_fields

D = dt.date
REAL_TODAY = dt.date.today()


def cli_run(db, *args, code):
    result = CliRunner().invoke(cli, ["--db", str(db), *map(str, args)])
    assert result.exit_code == code, (result.stdout, result.stderr, result.exception)
    if code == 1:
        assert result.stdout == "" and result.stderr.count("\n") == 1 and result.stderr.startswith("Error: ")
    return result


def snapshot(ledger: Ledger):
    return ledger.head(), ledger.count(), ledger.conn.execute("SELECT count(*) FROM resolutions").fetchone()[0]


# --- made_on ---------------------------------------------------------------------------------------


def test_a_forecast_made_in_the_future_is_refused(ledger, tmp_path):
    tomorrow = REAL_TODAY + dt.timedelta(days=1)
    with pytest.raises(ValidationError, match=rf"^field made_on: {tomorrow} is in the future \(today is {REAL_TODAY}\)$"):
        ledger.add(**forecast_fields(made_on=tomorrow, deadline=tomorrow + dt.timedelta(days=30)))
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps(forecast_fields(made_on="2026-11-23", deadline="2027-01-01")) + "\n")
    with pytest.raises(ValidationError, match=r"a.jsonl:1: field made_on: 2026-11-23 is in the future \(today is 2026-11-22\)"):
        ledger.import_records(read_records(path), today=TODAY)
    assert ledger.count() == 0


def test_a_forecast_made_today_is_accepted(ledger):
    ledger.add(**forecast_fields(made_on=REAL_TODAY, deadline=REAL_TODAY))
    assert ledger.count() == 1


# --- early reasons ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("outcome", "on", "shown"),
    [("yes", D(2026, 6, 1), "yes on 2026-06-01"),  # a YES never needs one
     ("no", D(2026, 9, 30), "no on 2026-09-30"),  # a NO on the deadline day is not early
     ("no", D(2026, 10, 15), "no on 2026-10-15"),  # nor after it
     ("ambiguous", D(2026, 6, 1), "ambiguous on 2026-06-01")],
)  # fmt: skip
def test_an_early_reason_is_refused_where_it_does_not_apply(ledger, outcome, on, shown):
    forecast = ledger.add(**forecast_fields(deadline=D(2026, 9, 30)))
    before = snapshot(ledger)
    with pytest.raises(ValidationError) as caught:
        ledger.resolve(forecast.id, outcome, on=on, evidence="e", early_reason="dissolved", today=TODAY)
    assert str(caught.value) == (
        f"field early_reason: is only for a no resolved before the deadline (2026-09-30); this is {shown}"
    )
    assert snapshot(ledger) == before
    ledger.resolve(forecast.id, "no", on=D(2026, 9, 29), evidence="e", early_reason="dissolved", today=TODAY)


def test_a_correction_that_changes_nothing_is_refused(ledger):
    forecast = ledger.add(**forecast_fields(deadline=D(2026, 9, 30)))
    ledger.resolve(forecast.id, "yes", on=D(2026, 9, 1), evidence="report", today=TODAY)
    before = snapshot(ledger)
    with pytest.raises(ValidationError) as caught:
        ledger.resolve(forecast.id, "yes", on=D(2026, 9, 1), evidence="report", correction="again", today=TODAY)
    assert str(caught.value) == (
        f"field correction_reason: changes nothing: {forecast.id} is already resolved yes on 2026-09-01 "
        "with the same evidence, note and early reason"
    )
    assert snapshot(ledger) == before
    with pytest.raises(ValidationError, match="changes nothing"):  # nor does a change of spacing alone
        ledger.resolve(forecast.id, "yes", on=D(2026, 9, 1), evidence=" report ", correction="again", today=TODAY)
    ledger.resolve(forecast.id, "yes", on=D(2026, 9, 1), evidence="report", note="page 4", correction="cite the page",
                   today=TODAY)  # fmt: skip
    assert len(ledger.history(forecast.id)) == 2


# --- probability basis -----------------------------------------------------------------------------


def test_a_verbal_probability_must_be_its_phrases_value_on_the_scale(ledger):
    with pytest.raises(ValidationError) as caught:
        ledger.add(**forecast_fields(probability=0.5, phrase="likely", probability_basis="verbal"))
    assert str(caught.value) == "field probability: 0.5 but the scale gives 'likely' 0.75 (a number someone chose is assigned)"
    assert ledger.add(**forecast_fields(probability=0.75, phrase="likely", probability_basis="verbal")).probability == 0.75
    # a phrase from another scale cannot be checked here, so its number is taken as given
    other = ledger.add(**forecast_fields(claim="B", probability=0.99, phrase="virtually certain (IPCC)", probability_basis="verbal"))
    assert (other.probability, other.probability_basis) == (0.99, "verbal")


@pytest.mark.parametrize("basis", ["stated", "assigned"])
def test_a_number_read_off_the_phrase_is_not_stated_or_assigned(ledger, basis):
    with pytest.raises(ValidationError) as caught:
        ledger.add(**forecast_fields(probability=None, phrase="likely", probability_basis=basis))
    assert str(caught.value) == (
        f"field probability_basis: is '{basis}' but no probability was given: one read off the phrase is verbal"
    )
    assert ledger.count() == 0


def test_the_cli_refuses_a_verbal_number_that_is_not_the_scales(tmp_path):
    db = tmp_path / "l.db"
    add = ["add", "--source", "S", "--claim", "C", "--criteria", "K", "--made-on", "2026-01-15", "--deadline", "2026-12-31"]
    result = cli_run(db, *add, "--probability", "0.5", "--phrase", "likely", "--basis", "verbal", code=1)
    assert result.stderr == "Error: field probability: 0.5 but the scale gives 'likely' 0.75 (a number someone chose is assigned)\n"
    result = cli_run(db, *add, "--phrase", "likely", "--basis", "stated", code=1)
    assert "field probability_basis (--basis): is 'stated' but no probability was given" in result.stderr
    assert not db.exists()


def unstamped(record: dict) -> dict:
    """The record, and each of its resolutions, without recorded_at: new, not restored."""
    record = {key: value for key, value in record.items() if key != "recorded_at"}
    if "resolutions" in record:
        record["resolutions"] = [{k: v for k, v in entry.items() if k != "recorded_at"} for entry in record["resolutions"]]
    return record


# --- records restored from an export -------------------------------------------------------------


def test_an_export_from_before_these_rules_still_imports(tmp_path):
    """Records carrying their own recorded_at are restored as recorded; only new ones meet the new rules."""
    stamp = "2026-02-01T00:00:00Z"
    quirks = {
        **forecast_fields(made_on="2026-01-15", deadline="2026-12-31", probability=0.6, phrase="likely",
                          probability_basis="verbal"),
        "recorded_at": stamp,
        "resolutions": [
            {"outcome": "yes", "resolved_on": "2026-11-22", "evidence": "e", "early_reason": "not needed",
             "recorded_at": stamp},
            {"outcome": "yes", "resolved_on": "2026-11-22", "evidence": "e", "early_reason": "not needed",
             "correction_reason": "the same again", "recorded_at": stamp},
        ],
    }  # fmt: skip
    made_ahead = {**forecast_fields(claim="other", made_on="2026-11-23", deadline="2026-12-31"), "recorded_at": stamp}
    path = tmp_path / "old.jsonl"
    path.write_text(json.dumps(quirks) + "\n" + json.dumps(made_ahead) + "\n")
    with Ledger(tmp_path / "a.db") as ledger:
        ledger.import_records(read_records(path), today=TODAY)
        exported = list(ledger.export_records(today=TODAY))
    assert exported[0]["resolutions"][1]["correction_reason"] == "the same again"
    again = tmp_path / "again.jsonl"
    again.write_text("".join(json.dumps(record) + "\n" for record in exported))
    with Ledger(tmp_path / "b.db") as ledger:
        ledger.import_records(read_records(again), today=TODAY)
        assert list(ledger.export_records(today=TODAY)) == exported
    # the same record as a new one (no recorded_at) meets every rule, in the order they are checked
    for record, message in ((quirks, "field probability: 0.6 but the scale"),
                            ({**quirks, "probability": 0.75}, r"field resolutions\[0\].early_reason: is only for a no"),
                            (made_ahead, "field made_on: 2026-11-23 is in the future")):  # fmt: skip
        path.write_text(json.dumps(unstamped(record)) + "\n")
        with Ledger(tmp_path / "c.db") as ledger, pytest.raises(ValidationError, match=message):
            ledger.import_records(read_records(path), today=TODAY)


# --- --today on writes -----------------------------------------------------------------------------


def test_a_write_cannot_be_dated_ahead_of_the_real_date(ledger, tmp_path):
    forecast = ledger.add(**forecast_fields(deadline=D(2026, 9, 30)))
    ahead = REAL_TODAY + dt.timedelta(days=200)
    before = snapshot(ledger)
    message = f"today {ahead} is after the real date {REAL_TODAY}: a write cannot be dated ahead"
    with pytest.raises(LedgerError, match=f"^{message}$"):
        ledger.resolve(forecast.id, "yes", on=D(2026, 9, 1), evidence="e", today=ahead)
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps(forecast_fields(claim="other", made_on="2026-01-01", deadline="2026-02-01")) + "\n")
    with pytest.raises(LedgerError, match=f"^{message}$"):
        ledger.import_records(read_records(path), today=ahead)
    assert snapshot(ledger) == before


def test_the_cli_refuses_today_ahead_on_writes_but_not_on_reads(tmp_path):
    db = tmp_path / "l.db"
    ahead = (REAL_TODAY + dt.timedelta(days=200)).isoformat()
    new_id = cli_run(db, "add", "--source", "S", "--claim", "C", "--criteria", "K", "--made-on", "2026-01-15",
                     "--deadline", "2026-09-30", "--probability", "0.6", code=0).stdout.strip()  # fmt: skip
    with Ledger(db) as ledger:
        before = snapshot(ledger)
    result = cli_run(db, "--today", ahead, "resolve", new_id, "yes", "--on", "2026-09-01", "--evidence", "e", code=1)
    assert result.stderr == f"Error: today {ahead} is after the real date {REAL_TODAY}: a write cannot be dated ahead\n"
    with Ledger(db) as ledger:
        assert snapshot(ledger) == before
    assert "due" in cli_run(db, "--today", ahead, "list", "--json", code=0).stdout  # reads may look ahead
    add = ["add", "--source", "S", "--claim", "D", "--criteria", "K", "--made-on", "2026-01-15", "--deadline",
           "2026-09-30", "--probability", "0.6"]  # fmt: skip
    result = cli_run(db, "--today", ahead, *add, code=1)
    assert result.stderr == f"Error: today {ahead} is after the real date {REAL_TODAY}: a write cannot be dated ahead\n"
    result = cli_run(db, "--today", "2026-01-14", *add, code=1)  # a past --today is the day made_on may not pass
    assert result.stderr == "Error: field made_on (--made-on): 2026-01-15 is in the future (today is 2026-01-14)\n"
    with Ledger(db) as ledger:
        assert snapshot(ledger) == before


def test_a_record_stamped_in_the_future_is_not_a_restore(ledger, tmp_path):
    path = tmp_path / "a.jsonl"
    ahead = {**forecast_fields(made_on="2026-01-15", deadline="2026-06-30"), "recorded_at": "2099-01-01T00:00:00Z"}
    resolution = {"outcome": "yes", "resolved_on": "2026-02-01", "evidence": "e", "recorded_at": "2099-01-01T00:00:00Z"}
    for record, field in ((ahead, "recorded_at"),
                          ({**ahead, "recorded_at": "2026-02-01T00:00:00Z", "resolutions": [resolution]},
                           r"resolutions\[0\].recorded_at")):  # fmt: skip
        path.write_text(json.dumps(record) + "\n")
        with pytest.raises(ValidationError, match=rf"a.jsonl:1: field {field}: 2099-01-01T00:00:00Z is in the future"):
            ledger.import_records(read_records(path), today=TODAY)
    path.write_text(json.dumps(forecast_fields(made_on="2026-01-15", deadline="2026-06-30")) + "\n")
    with pytest.raises(ValidationError, match="^field recorded_at: 2099-01-01T00:00:00Z is in the future"):
        ledger.import_records(read_records(path), recorded_at="2099-01-01T00:00:00Z", today=TODAY)
    with pytest.raises(ValidationError, match="^field recorded_at: 'yesterday' is not a UTC timestamp"):
        ledger.import_records(read_records(path), recorded_at="yesterday", today=TODAY)
    assert ledger.count() == 0
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()  # a day of slack for clocks and time zones
    ledger.import_records(read_records(path), recorded_at=f"{tomorrow}T08:00:00Z", today=TODAY)
    assert ledger.count() == 1
