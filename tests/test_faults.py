"""Faults and concurrency, with real processes: writers racing, a SIGKILL mid-import, a full disk,
a read-only file system, and a backup taken while another process writes.

Every test compares the ledger's `head` and full `export` before and after a failure: "nothing was
written" is checked, not assumed.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from predictions import Ledger
from predictions.errors import LedgerError

from .conftest import TODAY, forecast_fields

PREDICTIONS = Path(sys.executable).with_name("predictions")
pytestmark = pytest.mark.skipif(not PREDICTIONS.exists(), reason="the predictions command is not installed")


def cli(db: Path, *args: str, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess:
    """The installed command, in its own process."""
    return subprocess.run(
        [str(PREDICTIONS), "--db", str(db), "--today", TODAY.isoformat(), *map(str, args)],
        capture_output=True, text=True, timeout=timeout, **kwargs,
    )  # fmt: skip


def snapshot(db: Path) -> tuple[str, str]:
    """(head, every forecast as exported): what the ledger says, to compare before and after."""
    with Ledger(db, create=False) as ledger:
        return ledger.head().hash, json.dumps(list(ledger.export_records(today=TODAY)))


def assert_one_line_error(result: subprocess.CompletedProcess, *words: str) -> str:
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


def seeded(db: Path, n: int = 3) -> Path:
    with Ledger(db) as ledger:
        for i in range(n):
            ledger.add(**forecast_fields(id=f"before-{i}", claim=f"Claim {i}", tags=["seed"]))
        ledger.resolve("before-0", "yes", on="2026-03-01", evidence="Report", today=TODAY)
    return db


def write_records(path: Path, count: int, prefix: str = "big") -> Path:
    with open(path, "w", encoding="utf-8") as out:
        for i in range(count):
            record = {
                "id": f"{prefix}-{i:06d}", "source": f"Source {i % 40}",
                "claim": f"Claim number {i}: " + "a fairly long sentence of forecast text " * 3,
                "resolution_criteria": "YES if the published figure says so; NO otherwise. " * 2,
                "made_on": "2025-01-15", "deadline": "2026-06-30", "probability": (i % 99 + 1) / 100,
                "tags": ["bulk", f"t{i % 7}"],
            }  # fmt: skip
            if i % 2:
                record.update(outcome="yes", resolved_on="2026-01-10", evidence="Figure published")
            out.write(json.dumps(record) + "\n")
    return path


# --- concurrency ----------------------------------------------------------------------------------

WRITER = textwrap.dedent(
    """
    import json, subprocess, sys
    predictions, db, today, writer, count = sys.argv[1:6]
    failures = []
    for i in range(int(count)):
        fid = f"w{writer}-f{i}"
        for args in (
            ["add", "--source", f"Writer {writer}", "--claim", f"Claim {i} of writer {writer}",
             "--criteria", "YES if it happens", "--made-on", "2026-01-01", "--deadline", "2026-06-30",
             "--probability", "0.3", "--id", fid, "--tag", f"w{writer}"],
            ["resolve", fid, "yes", "--on", "2026-02-01", "--evidence", f"Evidence for {fid}"],
        ):
            r = subprocess.run([predictions, "--db", db, "--today", today, *args], capture_output=True, text=True)
            if r.returncode != 0 or r.stderr.strip():
                failures.append([args[0], fid, r.returncode, r.stderr.strip()])
    print(json.dumps(failures))
    """
)


def test_three_cli_writer_processes_lose_nothing(tmp_path):
    """Three processes, each running the installed command to add and resolve, on a ledger none of
    them created first: every command succeeds, nothing is lost, the chain verifies."""
    db, per_writer = tmp_path / "shared.db", 4
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(PREDICTIONS), str(db), TODAY.isoformat(), str(w), str(per_writer)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
        for w in range(3)
    ]
    failures = []
    for writer in writers:
        out, err = writer.communicate(timeout=240)
        assert writer.returncode == 0, err
        failures += json.loads(out)
    assert failures == []  # in particular no "database is locked"
    with Ledger(db, create=False) as ledger:
        assert ledger.count() == 3 * per_writer
        for w in range(3):
            mine = ledger.forecasts(tag=f"w{w}", today=TODAY)
            assert sorted(t.id for t in mine) == sorted(f"w{w}-f{i}" for i in range(per_writer))
            assert all(t.current is not None and t.current.outcome == "yes" for t in mine)
        verification = ledger.verify()
    assert verification.ok and verification.entries == 6 * per_writer and verification.resolutions == 3 * per_writer


def _library_writer(path: str, writer: int, count: int, barrier) -> list[str]:
    """One process adding and resolving `count` forecasts, opening the ledger afresh each time as the CLI does."""
    errors = []
    barrier.wait()
    for i in range(count):
        fid = f"p{writer}-{i:03d}"
        try:
            with Ledger(path) as ledger:
                ledger.add(**forecast_fields(id=fid, claim=f"Claim {i} by {writer}", tags=[f"p{writer}"],
                                             deadline="2026-06-30"))
            with Ledger(path) as ledger:
                ledger.resolve(fid, "no" if i % 2 else "yes", on="2026-07-01" if i % 2 else "2026-02-01",
                               evidence="Measured", today=TODAY)  # fmt: skip
        except Exception as exc:  # noqa: BLE001 - every failure is the finding
            errors.append(f"{fid}: {type(exc).__name__}: {exc}")
    return errors


@pytest.mark.parametrize("round_", range(2))
def test_three_library_writer_processes_racing_from_a_missing_file(tmp_path, round_):
    """The harder race, repeated: three processes released at once create the file and then write
    240 entries between them. Before the WAL switch retried, some rounds lost a writer to
    'database is locked' at creation."""
    db, count = tmp_path / f"race-{round_}.db", 40
    context = multiprocessing.get_context("fork")
    with context.Manager() as manager:
        barrier = manager.Barrier(3)
        with context.Pool(3) as pool:
            results = pool.starmap(_library_writer, [(str(db), w, count, barrier) for w in range(3)])
    assert [e for errors in results for e in errors] == []
    with Ledger(db, create=False) as ledger:
        assert ledger.count() == 3 * count
        verification = ledger.verify()
    assert verification.ok and verification.entries == 6 * count


def test_creating_a_ledger_waits_for_a_lock_held_on_the_new_file(tmp_path):
    """Deterministic form of the creation race: another process holds the write lock of a brand-new
    file (not yet in WAL mode) for a moment; `add` must wait for it, not fail at once."""
    db = tmp_path / "new.db"
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("CREATE TABLE being_created (x)")
    try:
        adding = subprocess.Popen(
            [str(PREDICTIONS), "--db", str(db), "add", "--source", "S", "--claim", "C", "--criteria", "R",
             "--made-on", "2026-01-01", "--deadline", "2026-12-31", "--probability", "0.4"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        time.sleep(1.5)  # the command has started and is waiting (or, before the fix, has failed)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    out, err = adding.communicate(timeout=60)
    assert adding.returncode == 0, err
    assert cli(db, "verify").returncode == 0


# --- crashes --------------------------------------------------------------------------------------


def test_sigkill_in_the_middle_of_an_import_leaves_the_ledger_as_it_was(tmp_path):
    db = seeded(tmp_path / "ledger.db")
    before = snapshot(db)
    big = write_records(tmp_path / "big.jsonl", 40_000)
    wal = Path(f"{db}-wal")
    importing = subprocess.Popen([str(PREDICTIONS), "--db", str(db), "import", str(big)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    # Wait until the import has written a good part of its transaction into the -wal file.
    deadline, wal_size = time.monotonic() + 60, 0
    while time.monotonic() < deadline and importing.poll() is None:
        wal_size = wal.stat().st_size if wal.exists() else 0
        if wal_size > 8_000_000:
            break
        time.sleep(0.005)
    still_running = importing.poll() is None
    importing.send_signal(signal.SIGKILL)
    importing.communicate(timeout=30)
    assert still_running and importing.returncode == -signal.SIGKILL, "the import ended before it could be killed"
    assert wal_size > 8_000_000, f"killed before the import wrote much ({wal_size} bytes of WAL)"
    assert wal.exists() and wal.stat().st_size > 8_000_000  # the uncommitted half-import is on disk

    assert snapshot(db) == before  # reopening discards the uncommitted frames
    assert cli(db, "verify").returncode == 0
    # and the ledger is usable: no lock or half-written state left behind
    small = write_records(tmp_path / "small.jsonl", 50, prefix="after")
    assert cli(db, "import", small).returncode == 0
    with Ledger(db, create=False) as ledger:
        assert ledger.count() == 3 + 50 and ledger.verify().ok


# --- a full disk ----------------------------------------------------------------------------------


def test_a_full_database_refuses_an_import_whole(tmp_path):
    """SQLite's own full-disk path (SQLITE_FULL), reached by capping the file's pages."""
    db = seeded(tmp_path / "ledger.db")
    before = snapshot(db)
    records = [(f"x:{i}", {**forecast_fields(id=f"fill-{i:05d}", claim="x" * 500), "made_on": "2026-01-15",
                           "deadline": "2026-12-31"}) for i in range(3000)]  # fmt: skip
    with Ledger(db) as ledger:
        pages = ledger.conn.execute("PRAGMA page_count").fetchone()[0]
        ledger.conn.execute(f"PRAGMA max_page_count = {pages + 20}")
        with pytest.raises(LedgerError, match=r"the disk is full \(database or disk is full\); nothing was written"):
            ledger.import_records(records, today=TODAY)
        with pytest.raises(LedgerError, match="the disk is full"):
            ledger.add(**forecast_fields(id="one-more", claim="y" * 19_000, quote="z" * 19_000, note="w" * 19_000))
        assert ledger.verify().ok
    assert snapshot(db) == before


def test_a_full_temporary_directory_is_named_with_the_full_disk(tmp_path):
    """SQLite's temporary files (a sort, a statement journal) on an 8 KiB tmpfs: the ledger's own
    disk has room, so the line must say where else the space ran out."""
    with mounted(tmp_path / "tmp", ["-t", "tmpfs", "-o", "size=8k", "tmpfs"]) as small:
        records = write_records(tmp_path / "records.jsonl", 300)
        env = {**os.environ, "SQLITE_TMPDIR": str(small), "TMPDIR": str(small)}
        result = cli(tmp_path / "new.db", "import", records, env=env)
        assert_one_line_error(result, "the disk is full", "nothing was written", "SQLITE_TMPDIR, TMPDIR")
        assert sorted(p.name for p in tmp_path.iterdir()) == ["records.jsonl", "tmp"]  # no ledger, no leftovers


def test_a_file_size_limit_gives_one_line_and_writes_nothing(tmp_path):
    """The installed command under RLIMIT_FSIZE: the kernel refuses the write (EFBIG), for real."""
    db = seeded(tmp_path / "ledger.db")
    before = snapshot(db)
    records = write_records(tmp_path / "records.jsonl", 3000)

    def limit_file_size():  # in the child only; SIGXFSZ is ignored by Python, so write() fails instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (300_000, 300_000))

    result = cli(db, "import", records, preexec_fn=limit_file_size)
    assert_one_line_error(result, str(db), "nothing was written")
    assert snapshot(db) == before
    assert cli(db, "verify").returncode == 0


@contextlib.contextmanager
def mounted(target: Path, *commands: list[str]):
    """Run mount commands on `target` (root only); skip the test where mounting is not allowed."""
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a file system needs root")
    target.mkdir(exist_ok=True)
    done = 0
    try:
        for command in commands:
            result = subprocess.run(["mount", *command, str(target)], capture_output=True, text=True)
            if result.returncode != 0:
                pytest.skip(f"cannot mount here: {result.stderr.strip()}")
            done += 1
        yield target
    finally:
        for _ in range(done and 1):
            subprocess.run(["umount", "-l", str(target)], capture_output=True)


def test_a_full_file_system_gives_one_line_and_writes_nothing(tmp_path):
    """A real full disk: a 1 MiB tmpfs, ENOSPC from the kernel."""
    with mounted(tmp_path / "small", ["-t", "tmpfs", "-o", "size=1m", "tmpfs"]) as small:
        db = seeded(small / "ledger.db")
        before = snapshot(db)
        records = write_records(tmp_path / "records.jsonl", 3000)
        result = cli(db, "import", records)
        assert_one_line_error(result, "the disk is full", "nothing was written")
        assert snapshot(db) == before
        assert cli(db, "verify").returncode == 0


# --- a read-only file system ----------------------------------------------------------------------

READS = [["show", "before-1"], ["verify"], ["export"], ["report", "--for", "2026-03"]]


def test_a_read_only_file_system_reads_fine_and_refuses_writes_in_one_line(tmp_path):
    source = tmp_path / "writable"
    source.mkdir()
    seeded(source / "ledger.db")
    before = snapshot(source / "ledger.db")
    records = write_records(tmp_path / "records.jsonl", 10)
    with mounted(tmp_path / "ro", ["--bind", str(source)], ["-o", "remount,bind,ro"]) as ro:
        db = ro / "ledger.db"
        with pytest.raises(OSError):
            (ro / "probe").write_text("x")  # it really is read-only, even for root
        for args in READS:
            result = cli(db, *args)
            assert result.returncode == 0, (args, result.stderr)
        for args in (
            ["add", "--source", "S", "--claim", "C", "--criteria", "R", "--made-on", "2026-01-01",
             "--deadline", "2026-12-31", "--probability", "0.4"],
            ["resolve", "before-1", "no", "--on", "2026-07-01", "--evidence", "E", "--early-reason", "gone"],
            ["import", str(records)],
        ):  # fmt: skip
            assert_one_line_error(cli(db, *args), f"{db} is read-only; nothing was written")
        assert_one_line_error(
            cli(ro / "new.db", "add", "--source", "S", "--claim", "C", "--criteria", "R", "--made-on",
                "2026-01-01", "--deadline", "2026-12-31", "--probability", "0.4"),
            "read-only file system",
        )  # fmt: skip
        assert_one_line_error(cli(db, "backup", ro / "copy.db"), "read-only")
    assert snapshot(source / "ledger.db") == before


# --- backup ---------------------------------------------------------------------------------------


def _keep_adding(path: str, stop, started, added) -> None:
    """A writer process: add forecasts until told to stop."""
    while not stop.is_set():
        with Ledger(path) as ledger:
            ledger.add(**forecast_fields(id=f"during-{added.value:05d}", claim=f"Added during backup {added.value}"))
        added.value += 1
        if added.value == 5:
            started.set()


def test_backup_while_another_process_writes_is_a_consistent_prefix(tmp_path):
    db = seeded(tmp_path / "ledger.db")
    with Ledger(db) as ledger:  # big enough that a backup takes a while
        ledger.import_records([(f"bulk:{i}", {**forecast_fields(id=f"bulk-{i:05d}", claim=f"Bulk {i} " * 20),
                                               "made_on": "2026-01-15", "deadline": "2026-12-31"})
                               for i in range(4000)])  # fmt: skip
    context = multiprocessing.get_context("fork")
    stop, started, added = context.Event(), context.Event(), context.Value("i", 0)
    writer = context.Process(target=_keep_adding, args=(str(db), stop, started, added))
    writer.start()
    try:
        assert started.wait(60)
        added_before = added.value
        copies = []
        for n in range(2):
            copy = tmp_path / f"copy-{n}.db"
            result = cli(db, "backup", copy)
            assert result.returncode == 0, result.stderr
            copies.append(copy)
        added_during = added.value - added_before
    finally:
        stop.set()
        writer.join(60)
    assert writer.exitcode == 0
    assert added_during >= 2  # the writer really wrote while the backups ran
    heads = set()
    for copy in copies:
        assert not Path(f"{copy}.partial").exists()
        with Ledger(copy, create=False) as backup:
            verification = backup.verify()
        assert verification.ok, verification.problems
        heads.add(verification.head)
    # each copy is exactly the original as it was at one moment: its head is in the original's chain
    with Ledger(db, create=False) as ledger:
        for head in heads:
            assert ledger.verify(contains=head).ok


def test_backup_refuses_to_overwrite_and_leaves_a_file_named_like_its_partial_alone(tmp_path):
    db = seeded(tmp_path / "ledger.db")
    existing = tmp_path / "existing.db"
    existing.write_bytes(b"precious")
    assert_one_line_error(cli(db, "backup", existing), "already exists")
    assert existing.read_bytes() == b"precious"
    target = tmp_path / "copy.db"
    Path(f"{target}.partial").write_bytes(b"someone's file")  # the backup's own temporary name is private
    assert cli(db, "backup", target).returncode == 0
    assert Path(f"{target}.partial").read_bytes() == b"someone's file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy.db", "copy.db.partial", "existing.db", "ledger.db"]
    assert snapshot(target) == snapshot(db)
