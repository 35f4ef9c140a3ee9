"""A report a newcomer can read: why ranks are withheld, what a left-out or hindsight tag means,
the columns explained, no leaderboard that repeats the period table; the ledger named by a label
(never its absolute path); a cron log line; an HTML page that fits a phone, whose reliability line
does not join bins that are not neighbours."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from predictions import Ledger
from predictions.charts import adjacent_runs
from predictions.scoring import CalibrationBin

from .conftest import TODAY, forecast_fields

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path(sys.executable).with_name("predictions")
pytestmark = pytest.mark.skipif(not SCRIPT.exists(), reason="the predictions script is not installed beside python")


def predictions(db: Path, *args, code: int = 0, today: str = TODAY.isoformat()) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREDICTIONS_")}
    result = subprocess.run(
        [str(SCRIPT), "--db", str(db), "--today", today, *map(str, args)],
        capture_output=True, text=True, encoding="utf-8", env=env, stdin=subprocess.DEVNULL, timeout=120,
    )  # fmt: skip
    assert result.returncode == code, result.stderr
    return result


def test_the_readme_report_explains_itself(tmp_path):
    """README's first command: the example ledger's 2026 report."""
    text = predictions(ROOT / "ledger.db.example", "report", "--period", "year", "--for", "2026",
                       today="2026-12-01").stdout  # fmt: skip
    assert "Ranks (–) are withheld below 5 forecasts resolved yes or no (--min-n 5)" in text
    assert "2 of the 3 scored forecasts are tagged past-at-publication: already settled when published" in text
    assert "--exclude-tag past-at-publication leaves them out of the scores." in text
    assert "excl. counts ambiguous and annulled" in text and "uncert. depends on the outcomes alone" in text
    assert "the leaderboard is the table above." in text
    assert len(re.findall(r"^source +rank ", text, re.M)) == 1  # one score table, not the same one twice


def test_a_left_out_tag_is_explained_and_counted():
    text = predictions(ROOT / "ledger.db.example", "report", "--for", "2026", "--exclude-tag", "past-at-publication",
                       today="2026-12-01").stdout  # fmt: skip
    assert ("Scores leave out the 2 forecasts tagged past-at-publication (they are still listed); "
            "past-at-publication: already settled when published, so they show hindsight, not foresight.") in text
    assert "are tagged past-at-publication:" not in text  # no hint to leave out what is left out


@pytest.fixture
def db(tmp_path) -> Path:
    """Source A resolved in September and October, B in October only."""
    path = tmp_path / "ledger.db"
    with Ledger(path) as ledger:
        for i, (source, on) in enumerate([("A", "2026-09-10"), ("A", "2026-10-10"), ("B", "2026-10-12")]):
            ledger.add(**forecast_fields(id=f"rep-{i}", source=source, deadline=on, claim=f"Claim {i}", probability=0.7))
            ledger.resolve(f"rep-{i}", "yes", on=on, evidence="e")
    return path


@pytest.mark.usefixtures("recorded_on_today")  # reports as of TODAY what it records
def test_the_leaderboard_is_a_table_when_it_says_more_than_the_period(db):
    text = predictions(db, "report", "--for", "2026-10").stdout
    assert len(re.findall(r"^source +rank ", text, re.M)) == 2 and "the leaderboard is the table above" not in text
    assert "no source has that many yet" in text


def test_the_ledger_is_named_by_its_file_name_or_a_label_never_its_path(db, tmp_path):
    for fmt in ("text", "md", "html", "json"):
        out = predictions(db, "report", "--for", "2026-10", "--format", fmt).stdout
        assert str(tmp_path) not in out and "ledger.db" in out
    labelled = predictions(db, "report", "--for", "2026-10", "--format", "json", "--label", "Forecasts of  the Times")
    assert json.loads(labelled.stdout)["ledger"] == "Forecasts of the Times"
    target = tmp_path / "r.html"
    refused = predictions(db, "report", "--for", "2026-10", "-o", target, "--label", "bad\x1blabel", code=2)
    assert "'--label'" in refused.stderr and "control or invisible character" in refused.stderr
    assert len(refused.stderr.strip().splitlines()[-1]) < 200 and not target.exists()


def test_log_writes_one_utc_stamped_line_of_what_was_verified(db, tmp_path):
    head = predictions(db, "head").stdout.strip()
    target = tmp_path / "2026-10.html"
    before = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    result = predictions(db, "report", "--for", "2026-10", "--log", "-o", target)
    (line,) = result.stderr.splitlines()
    m = re.fullmatch(r"(\S+) report 2026-10 of ledger\.db: verified 6 chain entries, head ([0-9a-f]{64}); wrote (.+)", line)
    assert m, line
    stamp = dt.datetime.strptime(m[1], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
    assert before <= stamp <= dt.datetime.now(dt.timezone.utc) and m[2] == head and m[3] == str(target)
    unverified = predictions(db, "report", "--for", "2026-10", "--log", "--no-verify").stderr
    assert "NOT verified (--no-verify), 6 chain entries" in unverified


def test_the_cron_recipe_keeps_what_it_verified_in_the_log():
    guide = (ROOT / "docs" / "reports.md").read_text(encoding="utf-8")
    cron = re.search(r"```cron\n(.*?)```", guide, re.S)[1]
    assert "/dev/null" not in cron and " --log " in cron and "2>>" in cron
    help_text = predictions(ROOT / "ledger.db.example", "report", "--help").stdout
    assert "/dev/null" not in help_text and "--log" in help_text and "$(date -d 'last month'" in help_text


def test_the_html_report_has_a_viewport_and_scrolling_tables(db):
    page = predictions(db, "report", "--for", "2026-10", "--format", "html").stdout
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert page.count('<div class="scroll"><table') == page.count("<table")


def _bin(index: int) -> CalibrationBin:
    return CalibrationBin(index=index, lower=index / 10, upper=(index + 1) / 10, n=1, yes=1, mean_forecast=index / 10 + 0.05,
                          observed_frequency=1.0, wilson_low=0.2, wilson_high=1.0)  # fmt: skip


@given(st.sets(st.integers(min_value=0, max_value=9)))
def test_the_reliability_line_joins_only_neighbouring_bins(indices):
    runs = adjacent_runs([_bin(i) for i in sorted(indices, reverse=True)])
    assert sorted(b.index for run in runs for b in run) == sorted(indices)  # every bin, once
    for run in runs:
        assert [b.index for b in run] == list(range(run[0].index, run[0].index + len(run)))
    for before, after in zip(runs, runs[1:]):
        assert after[0].index > before[-1].index + 1  # a gap: an empty bin between
