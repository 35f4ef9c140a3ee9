"""A few commands through the installed `predictions` script, in a real subprocess: what a user or
a cron job sees, with real stdin/stdout/stderr that are not terminals."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(sys.executable).with_name("predictions")
TODAY = "2026-11-22"

pytestmark = pytest.mark.skipif(not SCRIPT.exists(), reason="the predictions script is not installed beside python")


def predictions(*args, db: Path, check: bool = True) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREDICTIONS_")}
    result = subprocess.run(
        [str(SCRIPT), "--db", str(db), "--today", TODAY, *map(str, args)],
        capture_output=True, text=True, encoding="utf-8", env=env, stdin=subprocess.DEVNULL, timeout=60,
    )  # fmt: skip
    if check:
        assert result.returncode == 0, result.stderr
    return result


def test_add_resolve_export_import_round_trip(tmp_path):
    db = tmp_path / "ledger.db"
    claim = 'Brent closes above $100, "again";\nsee the note — ünïcode'
    forecast_id = predictions(
        "add", "--source", "The Example Times", "--made-on", "2026-05-12", "--claim", claim,
        "--within", "by the end of 2026", "--phrase", "likely", "--tag", "oil",
        "--criteria", "YES if any daily Brent close (EIA RBRTE) is above $100.00 by the deadline.", db=db,
    ).stdout.strip()  # fmt: skip
    assert len(forecast_id) == 12
    resolved = predictions("resolve", forecast_id[:4], "yes", "--on", "2026-09-30", "--evidence", "EIA RBRTE: 101.20", db=db)
    assert resolved.stdout == f"{forecast_id} resolved yes on 2026-09-30\n" and resolved.stderr == ""
    original = predictions("export", db=db).stdout
    for fmt in ("jsonl", "csv"):  # (all three formats round-trip in test_cli.py and test_io.py)
        exported = tmp_path / f"export.{fmt}"
        predictions("export", "--format", fmt, "-o", exported, db=db)
        copy = tmp_path / f"copy-{fmt}.db"
        imported = predictions("import", exported, "--json", db=copy)
        assert imported.stderr == ""  # no progress bar: stderr is not a terminal
        summary = json.loads(imported.stdout)
        assert (summary["forecasts"], summary["resolutions"]) == (1, 1)
        assert predictions("export", db=copy).stdout == original
    assert summary["head"] == predictions("head", db=db).stdout.strip()  # the same chain
    record = json.loads(predictions("show", forecast_id, "--json", db=db).stdout)
    assert record["claim"] == claim and record["deadline"] == "2026-12-31" and record["probability"] == 0.75
    assert record["status"] == "resolved" and record["outcome"] == "yes"


def test_an_error_is_one_line_on_stderr_with_exit_1(tmp_path):
    db = tmp_path / "ledger.db"
    result = predictions("add", "--source", "S", "--claim", "C", "--criteria", "K", "--made-on", "2026-01-01",
                         "--deadline", "2026-06-01", "--probability", "1.5", db=db, check=False)  # fmt: skip
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == "Error: field probability: 1.5 is outside [0, 1]\n"
    assert not db.exists()
    missing = predictions("show", "abc", db=db, check=False)
    assert (missing.returncode, missing.stderr) == (1, f"Error: no ledger at {db} (add or import a forecast to create one)\n")


def test_a_usage_error_exits_2_without_a_traceback(tmp_path):
    result = predictions("resolve", "abc", "maybe", db=tmp_path / "ledger.db", check=False)
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1].startswith("Error: ")
    assert "Traceback" not in result.stderr


def test_help(tmp_path):
    result = predictions("--help", db=tmp_path / "ledger.db")
    assert result.stdout.startswith("Usage: predictions [OPTIONS] COMMAND [ARGS]...")
    assert "  resolve " in result.stdout
    assert predictions("add", "--help", db=tmp_path / "ledger.db").stdout.startswith("Usage: predictions add [OPTIONS]")


def test_export_into_a_closed_pipe_is_quiet(tmp_path):
    db = tmp_path / "ledger.db"
    lines = "".join(
        json.dumps({"source": "S", "claim": f"claim {i}", "resolution_criteria": "K", "made_on": "2026-01-01",
                    "deadline": "2026-06-01", "probability": 0.5}) + "\n"
        for i in range(3000)
    )  # fmt: skip
    (tmp_path / "many.jsonl").write_text(lines)
    predictions("import", tmp_path / "many.jsonl", db=db)
    pipeline = subprocess.run(
        f"'{SCRIPT}' --db '{db}' export | head -n 1",
        shell=True, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert pipeline.stdout.count("\n") == 1
    assert "Traceback" not in pipeline.stderr and "Error" not in pipeline.stderr
