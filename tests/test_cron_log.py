"""Cron logs (issue 13): with --log every line `report` and `verify` write for the log, errors
included, starts with the UTC time in the form of the report's log line, and stays one line; the
documented recipe runs as written and leaves verify's outcome in the log. Through the installed
command, as cron runs it."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from predictions import log_stamp

ROOT = Path(__file__).resolve().parent.parent
COMMAND = Path(sys.executable).with_name("predictions")
STAMPED = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ) (.*)")


def predictions(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(COMMAND), *map(str, args)], capture_output=True, text=True)


@pytest.fixture
def ledger(tmp_path) -> Path:
    copy = tmp_path / "ledger.db"
    shutil.copy(ROOT / "ledger.db.example", copy)
    return copy


def stamped_lines(text: str, before: dt.datetime) -> list[str]:
    """Each line's text after its stamp, checking every line has one, taken while the command ran."""
    after = dt.datetime.now(dt.timezone.utc)
    rest = []
    for line in text.splitlines():
        m = STAMPED.fullmatch(line)
        assert m, line
        at = dt.datetime.strptime(m[1], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
        assert before.replace(microsecond=0) <= at <= after
        rest.append(m[2])
    return rest


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _tamper(db: Path) -> None:
    conn = sqlite3.connect(db)
    conn.execute("DROP TRIGGER forecasts_no_edit")
    conn.execute("UPDATE forecasts SET probability = 0.01 WHERE rowid = 3")
    conn.commit()
    conn.close()


def test_the_stamp_is_the_log_lines_form():
    at = dt.datetime(2026, 11, 1, 7, 15, 2, 999999, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert log_stamp(at) == "2026-11-01T06:15:02Z"
    assert STAMPED.fullmatch(log_stamp() + " x")


@pytest.mark.parametrize(
    ("case", "code", "words"),
    [
        ("missing", 1, "Error: no ledger at"),
        ("tampered", 1, "Error: the ledger failed verification, so no report was made: entry"),
        ("bad-period", 2, "Error: Invalid value for '--for': '2026-13' is not a period"),
        ("bad-period-after-log", 2, "Error: Invalid value for '--for': '2026-13' is not a period"),
    ],
)
def test_a_report_error_while_logging_is_one_stamped_line(ledger, tmp_path, case, code, words):
    db = tmp_path / "missing.db" if case == "missing" else ledger
    if case == "tampered":
        _tamper(ledger)
    period = "2026-13" if case.startswith("bad-period") else "2026"
    args = ["--for", period, "--log"] if case == "bad-period-after-log" else ["--log", "--for", period]
    before = now()
    result = predictions("--db", db, "report", *args, "-o", tmp_path / "r.html")
    assert result.returncode == code and result.stdout == ""
    (line,) = stamped_lines(result.stderr, before)
    assert line.startswith(words), line
    assert not (tmp_path / "r.html").exists()


def test_without_log_errors_are_as_before(ledger, tmp_path):
    result = predictions("--db", tmp_path / "missing.db", "report", "--for", "2026")
    assert result.returncode == 1 and result.stderr.startswith("Error: no ledger at")
    usage = predictions("--db", ledger, "report", "--for", "2026-13")
    assert usage.returncode == 2 and usage.stderr.startswith("Usage: ")


def test_a_report_note_while_logging_is_stamped_and_the_log_line_stamped_once(ledger, tmp_path):
    before = now()
    result = predictions("--db", ledger, "report", "--log", "--for", "2026", "--exclude-tag", "no-such-tag",
                         "-o", tmp_path / "r.html")  # fmt: skip
    assert result.returncode == 0, result.stderr
    note, line = stamped_lines(result.stderr, before)
    assert note.startswith("Note: no forecast has the tag 'no-such-tag'")
    assert line.startswith("report 2026 of ledger.db: verified 39 chain entries") and not STAMPED.match(line)


def test_verify_log_stamps_its_outcome(ledger):
    before = now()
    result = predictions("--db", ledger, "verify", "--log")
    assert result.returncode == 0 and result.stderr == ""
    (line,) = stamped_lines(result.stdout, before)
    assert line.startswith("OK: all 39 chain entries check out")
    plain = predictions("--db", ledger, "verify")
    assert plain.stdout.startswith("OK: all 39 chain entries check out")  # unstamped without --log


def test_verify_log_stamps_every_finding_and_the_error(ledger):
    _tamper(ledger)
    before = now()
    result = predictions("--db", ledger, "verify", "--log")
    assert result.returncode == 1
    findings = stamped_lines(result.stdout, before)
    assert findings and all(f.startswith("FAILED ") for f in findings)
    (error,) = stamped_lines(result.stderr, before)
    assert error.startswith("Error: verification failed: entry")
    as_json = predictions("--db", ledger, "verify", "--log", "--json")
    assert as_json.returncode == 1 and json.loads(as_json.stdout)["ok"] is False  # JSON stays JSON


def _recipe_lines() -> list[str]:
    text = (ROOT / "docs" / "reports.md").read_text(encoding="utf-8")
    lines = [line for block in re.findall(r"```cron\n(.*?)```", text, re.S) for line in block.splitlines()
             if line.strip() and not line.startswith("#")]  # fmt: skip
    return [line.split(None, 5)[5] for line in lines]  # the command, after cron's five time fields


def test_the_documented_cron_recipe_runs_and_logs_verify_and_report(ledger, tmp_path):
    commands = _recipe_lines()
    assert any(" verify " in c for c in commands) and any(" report " in c for c in commands)
    assert not any("/dev/null" in c for c in commands)
    reports = tmp_path / "reports"
    reports.mkdir()
    before = now()
    for command in commands:
        command = (command.replace("/home/me/.venv/bin/predictions", str(COMMAND))
                   .replace("/home/me/ledger.db", str(ledger)).replace("/home/me/reports", str(reports)))  # fmt: skip
        result = subprocess.run(["bash", "-c", command], capture_output=True, text=True)
        assert result.returncode == 0, (command, result.stderr)
    log = stamped_lines((reports / "report.log").read_text(encoding="utf-8"), before)
    assert sorted(line.split()[0] for line in log) == ["OK:", "report"]  # one line each, in the one log
    assert len(list(reports.glob("*.html"))) == 1
