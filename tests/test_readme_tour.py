"""The README's tour runs as written: its sh block, pasted line by line into bash in a fresh
folder, through the installed `predictions` command. If a line of the tour stops working (an id
that does not exist, a report named for the wrong period), this fails and names the line."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
SCRIPT = VENV_BIN / "predictions"

pytestmark = pytest.mark.skipif(
    not (SCRIPT.exists() and (VENV_BIN / "activate").exists()), reason="needs the venv the README installs into"
)


def tour_block(readme: str) -> str:
    """The first sh block after the '## A tour' heading."""
    tour = readme[readme.index("\n## A tour\n"):]
    match = re.search(r"^```sh\n(.*?)^```$", tour, re.S | re.M)
    assert match, "the README's tour has no sh block"
    return match[1]


def run_tour(folder: Path, block: str) -> subprocess.CompletedProcess:
    """`block` in bash, in `folder`, which holds `.venv` as a checkout does; HOME is the folder too,
    so ~/forecasts.db is a fresh ledger. The first failing line stops it (set -e) and is named."""
    (folder / ".venv").symlink_to(VENV_BIN.parent, target_is_directory=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREDICTIONS_", "VIRTUAL_ENV"))}
    env.update(HOME=str(folder), PATH="/usr/bin:/bin")  # `predictions` is found only through the venv
    script = "set -euo pipefail\ntrap 'echo \"TOUR LINE FAILED: $BASH_COMMAND\" >&2' ERR\n" + block
    return subprocess.run(
        ["bash", "-c", script], cwd=folder, env=env, capture_output=True, text=True, encoding="utf-8",
        stdin=subprocess.DEVNULL, timeout=300,
    )  # fmt: skip


def test_the_readme_tour_runs_line_by_line(tmp_path):
    block = tour_block((ROOT / "README.md").read_text(encoding="utf-8"))
    result = run_tour(tmp_path, block)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "forecasts.db").exists()  # export PREDICTIONS_DB=~/forecasts.db took effect
    out = result.stdout
    forecast_id = out.splitlines()[0]  # `echo "$id"`
    assert re.fullmatch(r"[0-9a-f]{12}", forecast_id), out
    assert f"{forecast_id} resolved yes on 2026-09-30" in out  # resolve found the forecast
    assert "The Example Times" in out and "Brent crude closes above $100 a barrel" in out
    assert "OK: " in out  # verify
    # The report file is named for the period it holds, and holds a scored forecast.
    (report,) = [line for line in block.splitlines() if line.startswith("predictions report")]
    name = re.search(r"-o (\S+)", report)[1]
    period = re.search(r"--for (\S+)", report)[1]
    assert name.startswith(period)
    page = (tmp_path / name).read_text(encoding="utf-8")
    assert f"Calibration report for {period} " in page and forecast_id in page


def test_a_failing_tour_line_is_caught_and_named(tmp_path):
    """The harness itself: a tour whose show names an id that is not there fails at that line."""
    block = tour_block((ROOT / "README.md").read_text(encoding="utf-8"))
    broken = block.replace('predictions show "$id"', "predictions show 3f9c")
    assert broken != block
    result = run_tour(tmp_path, broken)
    assert result.returncode != 0
    assert "TOUR LINE FAILED: predictions show 3f9c" in result.stderr
