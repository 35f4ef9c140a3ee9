"""Benchmark: the periodic report at N forecasts, with and without its issue 15 sections.

Each measurement is a whole process, timed from start to exit, its peak memory read from the
kernel (os.wait4's ru_maxrss). Every baseline runs in the same run, on the same ledger:

  report (json, html)   `predictions report --for PERIOD --no-verify`
    vs  the same report with the trend and the changes since the previous period switched off
        (the calibration by source costs no query: it is the leaderboard's own rows)
    vs  `predictions score --by source --json`
  report as of a past day (the "as recorded by" snapshot of every row)
    vs  the same report as of today

The ledger: N resolved forecasts from benchmarks/import_and_score.generate (500 sources, one
question each), recorded (with their resolutions) at one time, plus 100 more recorded a week later, so that a report as of
the day between reads a snapshot of all but those. All N were recorded after the report's period
and dated back: the changes section counts every one of them (a bulk import's worst case).

Usage:  python benchmarks/report_sections.py [--n 1000000] [--workdir DIR] [--reuse] [--runs 2]
Prints a Markdown table for docs/performance.md ("Report").
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from import_and_score import generate, measure  # noqa: E402  the same synthetic records as every benchmark

PERIOD = "2025-06"  # resolutions of the generated records run from 2020 to early 2026
PAST_DAY = "2026-11-25"  # after the bulk (2026-11-22), before the later 100 (2026-11-29)
# The report with its trend and changes switched off, run as the installed command runs it.
WITHOUT = (
    "import sys, predictions.report as r; r.build_trend = lambda *a, **k: None; "
    "r.changes_since = lambda *a, **k: None; from predictions_cli.main import cli; "
    "sys.argv = ['predictions', *sys.argv[1:]]; cli()"
)



def _stamp(path: Path, recorded_at: str) -> None:
    """Every record, and its resolution, recorded at `recorded_at` (a flat outcome would be
    stamped with the time of the import), rewritten line by line."""
    temporary = path.with_suffix(".tmp")
    with open(path, encoding="utf-8") as lines, open(temporary, "w", encoding="utf-8") as out:
        for line in lines:
            record = json.loads(line)
            entry = {key: record.pop(key) for key in ("outcome", "resolved_on", "evidence")}
            record.update(recorded_at=recorded_at, resolutions=[entry | {"recorded_at": recorded_at}])
            out.write(json.dumps(record) + "\n")
    temporary.replace(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=2, help="runs per command, interleaved (best time kept)")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--reuse", action="store_true", help="keep the ledger already in --workdir")
    args = parser.parse_args()
    predictions = shutil.which("predictions") or str(Path(sys.executable).with_name("predictions"))
    work = args.workdir or Path(tempfile.mkdtemp(prefix="predictions-report-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    ledger, data, later = work / "ledger.db", work / "data.jsonl", work / "later.jsonl"
    if not args.reuse:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{ledger}{suffix}").unlink(missing_ok=True)
        print(f"generating and importing {args.n:,} forecasts in {work} ...", file=sys.stderr)
        generate(data, args.n, 500)
        generate(later, 100, 500, seed=7, prefix="later")
        _stamp(data, "2026-11-22T00:00:00Z")
        _stamp(later, "2026-11-29T00:00:00Z")
        for path in (data, later):
            subprocess.run([predictions, "--db", str(ledger), "import", str(path)], check=True,
                           stdout=subprocess.DEVNULL)  # fmt: skip

    report = ["--db", str(ledger), "report", "--for", PERIOD, "--no-verify", "--min-n", "5"]
    commands = {
        "score": [predictions, "--db", str(ledger), "score", "--by", "source", "--json"],
        "json": [predictions, *report, "--format", "json"],
        "json, without trend and changes": [sys.executable, "-c", WITHOUT, *report, "--format", "json"],
        "html": [predictions, *report, "--format", "html"],
        "html, without trend and changes": [sys.executable, "-c", WITHOUT, *report, "--format", "html"],
        "json as of a past day": [predictions, "--today", PAST_DAY, *report, "--format", "json"],
    }
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for _ in range(args.runs):  # interleaved: every command sees the same page cache and load
        for name, command in commands.items():
            results[name].append(measure(command))
    best = {name: (min(r[0] for r in runs), max(r[1] for r in runs)) for name, runs in results.items()}

    with sqlite3.connect(ledger) as conn:
        count = conn.execute("SELECT count(*) FROM scored").fetchone()[0]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=Path(__file__).parent).stdout.strip() or "unknown"  # fmt: skip
    load = os.getloadavg()[0]
    print(f"\nN = {count:,} scored forecasts, 500 sources; report --for {PERIOD} --no-verify; "
          f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, {os.cpu_count()} CPUs, "
          f"load {load:.1f}; commit {commit}; best of {args.runs}\n")
    print("| measurement | time | peak memory | ratio to baseline | baseline |")
    print("|---|---|---|---|---|")
    rows = (
        ("score --by source --json", "score", None),
        ("report, json", "json", "json, without trend and changes"),
        ("report, json, without trend and changes", "json, without trend and changes", "score"),
        ("report, html (charts)", "html", "html, without trend and changes"),
        ("report, html, without trend and changes", "html, without trend and changes", "score"),
        (f"report, json, --today {PAST_DAY} (snapshot)", "json as of a past day", "json"),
    )
    for label, name, baseline in rows:
        time_s, peak = best[name]
        ratio = f"{time_s / best[baseline][0]:.2f}" if baseline else "–"
        print(f"| {label} | {time_s:.2f} s | {peak:.0f} MB | {ratio} | {baseline or '–'} |")
    if args.workdir is None:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
