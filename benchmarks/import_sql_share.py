"""Benchmark: how much of an import is SQLite's own work, against `sqlite-utils insert` as a whole.

The import goal of issue 5 ("no slower than sqlite-utils") can only be met if the statements the
ledger must run take less time than sqlite-utils' whole run. This script imports the same
synthetic file as import_and_score.py in this process, timing every statement the ledger runs
(each call into sqlite3, so the time is SQLite's: constraints, triggers, indexes, the commit and
its WAL checkpoint), then runs `sqlite-utils insert` of the same file as a whole process.

Usage:  python benchmarks/import_sql_share.py [--n 1000000] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from import_and_score import generate

from predictions import Ledger
from predictions.io import read_records


SPENT: Counter = Counter()


class TimedConnection(sqlite3.Connection):
    """A sqlite3 connection that adds the time of each statement to SPENT, by its first words.
    Every connection the ledger opens is one (the factory below), so a new ledger's private file
    is timed too."""

    def _timed(self, method, sql, *args):
        started = time.perf_counter()
        try:
            return method(self, sql, *args)
        finally:
            SPENT[" ".join(sql.split()[:3])] += time.perf_counter() - started

    def execute(self, sql, *args):
        return self._timed(sqlite3.Connection.execute, sql, *args)

    def executemany(self, sql, *args):
        return self._timed(sqlite3.Connection.executemany, sql, *args)


def _timed_connect(*args, **kwargs):
    return _CONNECT(*args, factory=TimedConnection, **kwargs)


_CONNECT = sqlite3.connect


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--sources", type=int, default=500)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    sqlite_utils = shutil.which("sqlite-utils")
    if not sqlite_utils:
        sys.exit("needs the `sqlite-utils` command on PATH (pip install -e '.[test]')")
    work = args.workdir or Path(tempfile.mkdtemp(prefix="predictions-sql-share-"))
    work.mkdir(parents=True, exist_ok=True)
    data, ledger_path, bare = work / "data.jsonl", work / "ledger.db", work / "bare.db"
    for path in (ledger_path, bare):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    print(f"generating {args.n:,} forecasts in {work} ...", file=sys.stderr)
    generate(data, args.n, args.sources)

    spent = SPENT
    sqlite3.connect = _timed_connect  # the ledger's module calls sqlite3.connect
    with Ledger(ledger_path) as ledger:
        started = time.perf_counter()
        ledger.import_records(read_records(data), recorded_at="2026-11-22T00:00:00Z")
        total = time.perf_counter() - started
    sqlite3.connect = _CONNECT
    started = time.perf_counter()
    subprocess.run([sqlite_utils, "insert", str(bare), "forecasts", str(data), "--nl"], check=True)
    baseline = time.perf_counter() - started

    sql = sum(spent.values())
    print(f"\nN = {args.n:,}\n")
    print("| part | seconds | share of the import | ratio to sqlite-utils' whole run |")
    print("|---|---|---|---|")
    print(f"| import, in process | {total:.2f} | 100% | {total / baseline:.2f} |")
    print(f"| · SQLite statements | {sql:.2f} | {sql / total:.0%} | {sql / baseline:.2f} |")
    for statement, seconds in spent.most_common(5):
        print(f"| · · {statement} … | {seconds:.2f} | {seconds / total:.0%} | |")
    print(f"| · Python (reading, validation, rows, chain) | {total - sql:.2f} | {(total - sql) / total:.0%} | |")
    print(f"| sqlite-utils insert, whole process | {baseline:.2f} | | 1.00 |")
    if args.workdir is None:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
