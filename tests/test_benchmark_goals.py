"""benchmarks/goals.py runs end to end at a tiny N (so it cannot rot between the runs that
record figures); what it prints is checked for shape only: times are not tested."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


@pytest.mark.skipif(not (BIN / "sqlite-utils").exists(), reason="sqlite-utils is not installed beside python")
def test_the_goals_benchmark_measures_all_five_goals(tmp_path):
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    env = {k: v for k, v in env.items() if not k.startswith("PREDICTIONS_")}
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "goals.py"), "--n", "30", "--sources", "5", "--repeat", "2",
         "--startup-runs", "1", "--workdir", str(tmp_path), "--json"],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    table = json.loads(result.stdout)
    assert set(table) == {"import into a new ledger", "import into an existing ledger of N", "score", "verify",
                          "start-up"}  # fmt: skip
    for row in table.values():
        assert len(row["ratios"]) == len(row["ours_s"]) == 2 and min(row["ours_s"] + row["floor_s"]) > 0
        assert row["ours_mb"] > 0 and row["floor_mb"] > 0
    assert not list(tmp_path.glob("ledger.db*")) and not list(tmp_path.glob("bare.db*"))  # each run cleans up
