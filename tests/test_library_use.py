"""The library used the ways a script uses it: from threads, while reading, after close, with
dates as text, and the CLI on a ledger whose file name is not UTF-8."""

from __future__ import annotations

import datetime as dt
import json
import os
import threading

import pytest
from click.testing import CliRunner

from predictions import Ledger, LedgerError, NotALedgerError, ValidationError
from predictions_cli.main import cli

from .conftest import TODAY, empty_ledger, forecast_fields


def test_a_ledger_used_from_another_thread_is_refused_and_writes_nothing(ledger):
    ledger.add(**forecast_fields())
    before = ledger.head()
    caught = []

    def add_elsewhere():
        try:
            ledger.add(**forecast_fields(claim="from another thread"))
        except LedgerError as exc:
            caught.append(exc)

    thread = threading.Thread(target=add_elsewhere)
    thread.start()
    thread.join()
    assert len(caught) == 1 and not isinstance(caught[0], NotALedgerError)
    assert "a Ledger belongs to the thread that opened it; open one in each thread" in str(caught[0])
    assert ledger.head() == before and ledger.verify().ok


def test_one_ledger_per_thread_shares_the_file(db_path):
    empty_ledger(db_path)

    def add_many(n: int):
        with Ledger(db_path) as own:
            for i in range(5):
                own.add(**forecast_fields(claim=f"thread {n} forecast {i}"))

    threads = [threading.Thread(target=add_many, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with Ledger(db_path) as ledger:
        assert ledger.count() == 15 and ledger.verify().ok


def test_export_reads_the_forecasts_there_were_when_it_started(ledger):
    for i in range(3):
        ledger.add(**forecast_fields(claim=f"claim {i}"))
    seen = []
    for record in ledger.export_records(today=TODAY):  # adding while reading used to read on forever
        seen.append(record["claim"])
        ledger.add(**forecast_fields(claim=record["claim"] + " again"))
    assert seen == ["claim 0", "claim 1", "claim 2"] and ledger.count() == 6
    listed = [t.forecast.claim for t in ledger.iter_forecasts(today=TODAY)]
    for claim in listed[:2]:
        ledger.add(**forecast_fields(claim=claim + " and again"))
    assert len(listed) == 6


def test_a_tag_given_as_one_string_is_one_tag(ledger):
    assert ledger.get(ledger.add(**forecast_fields(tags="oil")).id).question.tags == ("oil",)
    assert ledger.get(ledger.add(**forecast_fields(claim="B", tags="oil,gas")).id).question.tags == ("gas", "oil")  # as in CSV


def test_a_closed_ledger_says_so(ledger):
    ledger.close()
    for use in (ledger.count, ledger.head, ledger.verify, lambda: ledger.add(**forecast_fields()),
                lambda: ledger.backup(ledger.path.with_name("copy.db"))):
        with pytest.raises(LedgerError) as caught:
            use()
        assert not isinstance(caught.value, NotALedgerError)
        assert str(caught.value) == f"{ledger.path}: this Ledger was closed; open it again"


def test_today_may_be_given_as_text(ledger):
    forecast = ledger.add(**forecast_fields(deadline="2026-03-31"), today="2026-11-22")
    assert [t.id for t in ledger.due(today="2026-11-22")] == [forecast.id]
    assert ledger.get(forecast.id, today="2026-03-31").status == "open"
    ledger.resolve(forecast.id, "yes", on="2026-03-01", evidence="e", today="2026-11-22")
    with pytest.raises(ValidationError, match="^field today: 'soon' is not a date in YYYY-MM-DD form$"):
        ledger.forecasts(today="soon")
    with pytest.raises(ValidationError, match="^field today: must be a date"):
        ledger.add(**forecast_fields(claim="B"), today=20261122)


def test_reports_on_a_ledger_whose_name_is_not_utf8(tmp_path):
    db = tmp_path / os.fsdecode(b"ledger-\xff\xfe.db")
    runner = CliRunner()
    added = runner.invoke(cli, ["--db", str(db), "add", "--source", "S", "--claim", "C", "--criteria", "K",
                                "--made-on", "2026-01-15", "--deadline", "2026-03-31", "--probability", "0.6"])  # fmt: skip
    assert added.exit_code == 0, added.output
    for fmt in ("html", "json", "md", "text"):
        target = tmp_path / f"report.{fmt}"
        result = runner.invoke(cli, ["--db", str(db), "--today", "2026-11-22", "report", "--for", "2026-10",
                                     "--format", fmt, "-o", str(target)])  # fmt: skip
        assert result.exit_code == 0, result.output
        text = target.read_text(encoding="utf-8")  # valid UTF-8 throughout
        assert "ledger-\\udcff\\udcfe.db" in text.replace("\\\\", "\\")
    data = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert data["ledger"].endswith("ledger-\\udcff\\udcfe.db'")


def test_dates_as_text_and_as_dates_agree(ledger):
    a = ledger.add(**forecast_fields(made_on="2026-01-15", deadline="2026-12-31"))
    assert (a.made_on, ledger.get(a.id).question.deadline) == (dt.date(2026, 1, 15), dt.date(2026, 12, 31))


def test_add_records_now_so_its_checks_always_apply(ledger):
    with pytest.raises(TypeError):  # a forecast recorded earlier is restored with import_records instead
        ledger.add(**forecast_fields(), recorded_at="2020-01-01T00:00:00Z")
    assert ledger.count() == 0


def test_adding_while_exporting_works_on_a_rollback_journal_ledger(db_path):
    with Ledger(db_path) as ledger:
        for i in range(3):
            ledger.add(**forecast_fields(claim=f"claim {i}"))
        ledger.conn.execute("PRAGMA journal_mode = DELETE")  # as a copy of ledger.db.example is
    with Ledger(db_path) as ledger:
        for record in ledger.export_records(today=TODAY):  # a read stays open: WAL cannot be switched on now
            ledger.add(**forecast_fields(claim=record["claim"] + " again"))
        ledger.add(**forecast_fields(claim="after"))  # ...and is at the next write
        assert ledger.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert ledger.count() == 7 and ledger.verify().ok
