"""Benchmark: `predictions import` into a new path against the same import into an existing empty ledger.

A new ledger is built whole under a private name (rollback journal in memory, one fsync at the
end) and then linked into place (predictions/files.py, new_ledger); an existing empty ledger takes
the same bulk-load path in WAL mode. Both imports run as whole processes, alternately, `--runs`
times each; the baseline is the existing-ledger import of the same run, so the figure is the
ratio of the medians (new / existing), with peak memory of each.

Usage:  python benchmarks/new_ledger.py [--n 100000] [--runs 5] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from import_and_score import generate, measure  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent.parent))
from predictions import Ledger  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(dir=args.workdir))
    command = str(Path(sys.executable).with_name("predictions"))
    try:
        records = work / "records.jsonl"
        generate(records, args.n, sources=40)
        times: dict[str, list[float]] = {"new": [], "existing": []}
        memory: dict[str, list[float]] = {"new": [], "existing": []}
        for run in range(args.runs):
            new, existing = work / f"new-{run}.db", work / f"existing-{run}.db"
            with Ledger(existing) as ledger:
                ledger.conn  # an empty ledger, in WAL mode
            for kind, db in (("new", new), ("existing", existing)):
                seconds, mb = measure([command, "--db", str(db), "import", str(records)])
                times[kind].append(seconds)
                memory[kind].append(mb)
            new.unlink()
            existing.unlink()
        median = {kind: statistics.median(values) for kind, values in times.items()}
        print(f"| import of {args.n:,} records | median s | peak MB | ratio to existing |")
        print("|---|---|---|---|")
        for kind in ("existing", "new"):
            print(f"| into {'a new path' if kind == 'new' else 'an existing empty ledger'} | {median[kind]:.2f} "
                  f"| {max(memory[kind]):.0f} | {median[kind] / median['existing']:.2f} |")
        print(f"\nruns (s): new {[round(t, 2) for t in times['new']]}, existing {[round(t, 2) for t in times['existing']]}")
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
