"""Benchmark: what each of the import's fast paths buys, by switching each off in turn.

Imports the same synthetic file (import_and_score.generate) into a new ledger in this process,
once with everything on and once with each path below switched off, interleaved, `--runs`
times each, and prints the median CPU time of each variant (time.process_time: on a shared
machine wall time moves with the load, CPU time much less) with its ratio to "all on":

  fast record path     fast_records.validated (off: every record through forecast_from_record)
  to_record            model._record_of by attrgetter (off: attrs.asdict, as before)
  C encoder            canonical_json through the C encoder built once (off: JSONEncoder.encode)
  None adapter         the adapter registered for None (off: sqlite3's adapter lookup)
  rare collections     importing._rare_collections (off: the collector at its default threshold)

Usage:  python benchmarks/import_paths.py [--n 100000] [--runs 3] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import attrs

sys.path.insert(0, str(Path(__file__).parent))
from import_and_score import generate  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent.parent))
from predictions import Ledger, chain, fast_records, importing, model  # noqa: E402
from predictions.io import read_records  # noqa: E402

NONE_KEY = (type(None), sqlite3.PrepareProtocol)


def _off_fast_path():
    original = fast_records.validated
    fast_records.validated = lambda *args, **kwargs: None
    return lambda: setattr(fast_records, "validated", original)


def _off_to_record():
    original = model._record_of
    model._record_of = lambda value: attrs.asdict(value, recurse=True, value_serializer=model._serialise)
    return lambda: setattr(model, "_record_of", original)


def _off_c_encoder():
    original = model.canonical_json
    for module in (model, chain):
        module.canonical_json = model._CANONICAL.encode

    def restore():
        for module in (model, chain):
            module.canonical_json = original

    return restore


def _off_none_adapter():
    adapter = sqlite3.adapters.pop(NONE_KEY)
    return lambda: sqlite3.adapters.__setitem__(NONE_KEY, adapter)


def _off_rare_collections():
    original = importing.IMPORT_GC_THRESHOLD
    importing.IMPORT_GC_THRESHOLD = 0  # no threshold is below it: the collector keeps its own
    return lambda: setattr(importing, "IMPORT_GC_THRESHOLD", original)


VARIANTS = {
    "all on": lambda: (lambda: None),
    "fast record path off": _off_fast_path,
    "to_record by asdict": _off_to_record,
    "C encoder off": _off_c_encoder,
    "None adapter off": _off_none_adapter,
    "rare collections off": _off_rare_collections,
}


def _import(records: Path, db: Path) -> tuple[float, str]:
    started = time.process_time()
    with Ledger(db) as ledger:
        head = ledger.import_records(read_records(records), recorded_at="2026-11-22T00:00:00Z").head
    return time.process_time() - started, head


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(dir=args.workdir))
    try:
        records = work / "records.jsonl"
        generate(records, args.n, sources=500)
        times: dict[str, list[float]] = {name: [] for name in VARIANTS}
        heads = set()
        for run in range(args.runs):
            for name, switch_off in VARIANTS.items():
                restore = switch_off()
                try:
                    seconds, head = _import(records, work / f"{run}-{len(times[name])}-{name}.db")
                finally:
                    restore()
                times[name].append(seconds)
                heads.add(head)
        assert len(heads) == 1, "a variant wrote another chain"
        base = statistics.median(times["all on"])
        print(f"| import of {args.n:,} records, new ledger | median CPU s | ratio to all on |")
        print("|---|---|---|")
        for name, values in times.items():
            print(f"| {name} | {statistics.median(values):.2f} | {statistics.median(values) / base:.2f} |")
        print(f"\nthe same chain head in every run: {heads.pop()}")
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
