"""Benchmark: peak memory (and time) of every reading command at N forecasts.

Every command must stream: none may hold the ledger in memory, so each stays under 200 MB peak
RSS at a million forecasts (issue 10). Each command runs as its own process, stdout to
/dev/null, its peak resident memory read from the kernel (os.wait4's ru_maxrss). Baselines,
measured in the same run:

  memory   `predictions --version`: the interpreter with the CLI imported, doing nothing;
           a command's figure beyond it is what its work costs
  time     `report --no-verify` for `report`: the difference is what verifying the chain costs

The data: N synthetic forecasts over 500 sources (benchmarks/import_and_score.py's generator), a
tenth of them unresolved with deadlines before the report day, so `due` lists a tenth of them.

Usage:  python benchmarks/command_memory.py [--n 1000000] [--workdir DIR] [--reuse]
Prints a Markdown table for docs/performance.md. --reuse keeps the ledger already in --workdir.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from import_and_score import generate, measure  # noqa: E402  (the sibling benchmark's helpers)

TODAY = "2026-11-22"
LIMIT_MB = 200


def commands(ledger: Path, work: Path, some_id: str) -> list[tuple[str, list[str]]]:
    base = ["--db", str(ledger), "--today", TODAY]
    backup = work / "backup.db"
    return [
        ("--version (baseline)", ["--version"]),
        ("list", [*base, "list"]),
        ("list --json", [*base, "list", "--json"]),
        ("show", [*base, "show", some_id]),
        ("show --json", [*base, "show", some_id, "--json"]),
        ("due", [*base, "due"]),
        ("due --json", [*base, "due", "--json"]),
        ("export --format jsonl", [*base, "export", "--format", "jsonl"]),
        ("export --format json", [*base, "export", "--format", "json"]),
        ("export --format csv", [*base, "export", "--format", "csv"]),
        ("score --by source", [*base, "score", "--by", "source"]),
        ("score --by tag --json", [*base, "score", "--by", "tag", "--json"]),
        ("report (verifies first)", [*base, "report", "--for", "2026-10"]),
        ("report --no-verify", [*base, "report", "--for", "2026-10", "--no-verify"]),
        ("report --format html", [*base, "report", "--for", "2026-10", "--format", "html"]),
        ("verify", [*base, "verify"]),
        ("head", [*base, "head"]),
        (f"backup {backup.name}", [*base, "backup", str(backup)]),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--reuse", action="store_true", help="skip generating and importing (needs --workdir)")
    args = parser.parse_args()
    if args.reuse and args.workdir is None:
        parser.error("--reuse needs --workdir")
    predictions = shutil.which("predictions")
    if not predictions:
        sys.exit("needs the `predictions` command on PATH (pip install -e .)")
    work = args.workdir or Path(tempfile.mkdtemp(prefix="predictions-memory-"))
    work.mkdir(parents=True, exist_ok=True)
    data, ledger = work / "data.jsonl", work / "ledger.db"
    imported = None
    if not args.reuse:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{ledger}{suffix}").unlink(missing_ok=True)
        print(f"generating {args.n:,} forecasts in {work} ...", file=sys.stderr)
        generate(data, args.n, 500, unresolved=0.1)
        print("import ...", file=sys.stderr)
        imported = measure([predictions, "--db", str(ledger), "import", str(data)])
        data.unlink()
    with sqlite3.connect(ledger) as conn:
        count = conn.execute("SELECT count(*) FROM forecasts").fetchone()[0]
        some_id = conn.execute("SELECT id FROM forecasts ORDER BY rowid LIMIT 1 OFFSET ?", [count // 2]).fetchone()[0]
    rows = []
    for name, command in commands(ledger, work, some_id):
        print(f"{name} ...", file=sys.stderr)
        (work / "backup.db").unlink(missing_ok=True)
        rows.append((name, *measure([predictions, *command])))
    (work / "backup.db").unlink(missing_ok=True)

    size_mb = ledger.stat().st_size / 1e6
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=Path(__file__).parent).stdout.strip() or "unknown"  # fmt: skip
    print(f"\nN = {count:,} forecasts (a tenth unresolved and due); ledger {size_mb:.0f} MB; "
          f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, {os.cpu_count()} CPUs, "
          f"{platform.machine()} {platform.system()}; commit {commit}\n")
    if imported:
        print(f"(import: {imported[0]:.1f} s, {imported[1]:.0f} MB peak; import memory is measured in "
              "benchmarks/import_and_score.py)\n")
    baseline = rows[0][2]
    print(f"| command | time | peak memory | beyond the baseline ({baseline:.0f} MB) | under {LIMIT_MB} MB |")
    print("|---|---|---|---|---|")
    for name, seconds, peak in rows:
        print(f"| `{name}` | {seconds:.2f} s | {peak:.0f} MB | {peak - baseline:+.0f} MB | "
              f"{'yes' if peak < LIMIT_MB else '**no**'} |")
    times = {name: seconds for name, seconds, _ in rows}
    verify_cost = times["report (verifies first)"] - times["report --no-verify"]
    print(f"\nVerifying before the report costs {verify_cost:.2f} s: report {times['report (verifies first)']:.2f} s "
          f"against report --no-verify {times['report --no-verify']:.2f} s "
          f"({times['report (verifies first)'] / times['report --no-verify']:.1f}x); verify alone {times['verify']:.2f} s.")
    if args.workdir is None:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
