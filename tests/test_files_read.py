"""Commands that only read never need to write (issue 9, class 9): another user's ledger in a
folder this user cannot write, a ledger on a full disk, and `--db` naming something that is not a
regular file. Through the installed command.

Permissions do not stop root (CI runs as root), so there the command runs without the
capabilities that bypass them (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER, dropped from
its bounding set before exec): the kernel then checks the modes as for anyone, while the
interpreter, which may live in root's 0700 home, still runs. (Becoming uid 65534 would also
work where the interpreter is readable by everyone.) A full disk is a real one: a 1 MiB tmpfs
filled to its last block, where mounting is allowed.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from predictions import Ledger, LedgerError
from predictions.migrations import migrations

from .conftest import TODAY, forecast_fields

PREDICTIONS = Path(sys.executable).with_name("predictions")
pytestmark = pytest.mark.skipif(not PREDICTIONS.exists(), reason="the predictions command is not installed")

READS = [
    ["list"], ["list", "--json"], ["show", "before-1"], ["history", "before-0"], ["due"], ["verify"],
    ["verify", "--json"], ["head"], ["export"], ["export", "--format", "csv"], ["score"], ["score", "--json"],
    ["report", "--for", "2026-03"], ["report", "--for", "2026-03", "--format", "html"],
]  # fmt: skip
WRITES = [
    ["add", "--source", "S", "--claim", "C", "--criteria", "R", "--made-on", "2026-01-01", "--deadline",
     "2026-12-31", "--probability", "0.4"],
    ["resolve", "before-1", "no", "--on", "2026-07-01", "--evidence", "E", "--early-reason", "gone"],
]  # fmt: skip


def cli(db: Path, *args, as_other_user: bool = False, timeout: float = 60, **kwargs) -> subprocess.CompletedProcess:
    preexec = _without_file_privileges if as_other_user and os.geteuid() == 0 else None
    return subprocess.run(
        [str(PREDICTIONS), "--db", str(db), "--today", TODAY.isoformat(), *map(str, args)],
        capture_output=True, text=True, timeout=timeout, preexec_fn=preexec, **kwargs,
    )  # fmt: skip


_PR_CAPBSET_DROP, _FILE_CAPABILITIES = 24, (1, 2, 3)  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER


def _without_file_privileges() -> None:  # in the child, before exec
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in _FILE_CAPABILITIES:
        if libc.prctl(_PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "cannot drop a capability")


def seeded(db: Path) -> Path:
    with Ledger(db) as ledger:
        for i in range(3):
            ledger.add(**forecast_fields(id=f"before-{i}", claim=f"Claim {i}", tags=["seed"], deadline="2026-06-30"))
        ledger.resolve("before-0", "yes", on="2026-03-01", evidence="Report", today=TODAY)
    return db


def files_and_digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def same_output(result: subprocess.CompletedProcess, expected: subprocess.CompletedProcess) -> bool:
    """The same result as the owner's (an HTML chart's SVG ids differ from run to run: its text only)."""
    strip = (lambda text: text.split('<img class="chart"')[0]) if "<!DOCTYPE html>" in expected.stdout else str
    return (strip(result.stdout), result.stderr) == (strip(expected.stdout), expected.stderr)


def one_line_error(result: subprocess.CompletedProcess, *words: str) -> str:
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "Traceback" not in result.stderr, result.stderr
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


@pytest.fixture
def foreign_folder(tmp_path):
    """A folder whose files the command may read and not write (see _lock_folder)."""
    if os.geteuid() == 0:
        probe = subprocess.run(["true"], preexec_fn=_without_file_privileges, capture_output=True)
        if probe.returncode != 0:
            pytest.skip("cannot drop root's file capabilities here")
    folder = tmp_path / "foreign"
    folder.mkdir()
    yield folder
    os.chmod(folder, 0o755)
    for path in folder.iterdir():
        os.chmod(path, 0o644)


def _lock_folder(folder: Path) -> None:
    """As another user's ledger looks: the folder r-x, every file in it r--."""
    for path in folder.iterdir():
        os.chmod(path, 0o444)
    os.chmod(folder, 0o555)


def test_another_users_ledger_in_a_folder_they_cannot_write_reads_fine(foreign_folder, tmp_path):
    """Before, list, verify, head, export and report said "is read-only; nothing was written"."""
    db = seeded(foreign_folder / "ledger.db")
    expected = {tuple(args): cli(db, *args) for args in READS}  # what the owner sees
    _lock_folder(foreign_folder)
    before = files_and_digests(foreign_folder)
    assert sorted(before) == ["ledger.db"]
    for args in READS:
        result = cli(db, *args, as_other_user=True)
        assert result.returncode == 0, (args, result.stderr)
        assert same_output(result, expected[tuple(args)]), args
    for args in WRITES:
        one_line_error(cli(db, *args, as_other_user=True), "read-only", "nothing was written")
    assert files_and_digests(foreign_folder) == before  # not a byte changed, no -wal or -shm made


def test_reading_while_the_owner_has_the_ledger_open(foreign_folder):
    """The owner's connection keeps a -wal and a -shm beside the file, which the reader cannot write."""
    db = seeded(foreign_folder / "ledger.db")
    _lock_folder(foreign_folder)
    with Ledger(db) as owner:
        owner.add(**forecast_fields(id="while-open", claim="Added while the reader reads"))
        assert Path(f"{db}-shm").exists() and Path(f"{db}-wal").stat().st_size > 0
        _lock_folder(foreign_folder)  # the -wal and -shm the owner made are not the reader's either
        for args in (["show", "while-open"], ["verify"], ["export"]):
            result = cli(db, *args, as_other_user=True)
            assert result.returncode == 0, (args, result.stderr)
        assert "while-open" in cli(db, "export", as_other_user=True).stdout


def test_export_and_report_to_a_file_of_ones_own_from_a_foreign_ledger(foreign_folder, tmp_path):
    db = seeded(foreign_folder / "ledger.db")
    _lock_folder(foreign_folder)
    mine = tmp_path / "mine"
    mine.mkdir()
    for args in (["export", "-o", mine / "all.csv"], ["report", "--for", "2026-03", "-o", mine / "r.html"],
                 ["backup", mine / "copy.db"]):  # fmt: skip
        result = cli(db, *args, as_other_user=True)
        assert result.returncode == 0, (args, result.stderr)
    assert sorted(p.name for p in mine.iterdir()) == ["all.csv", "copy.db", "r.html"]
    with Ledger(mine / "copy.db", read_only=True) as copy:
        assert copy.verify().ok and copy.count() == 3


@contextlib.contextmanager
def full_disk(tmp_path: Path):
    """A 1 MiB tmpfs, filled to its last block once the ledger is on it (root only; skipped elsewhere)."""
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a file system needs root")
    mount = tmp_path / "small"
    mount.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount here: {result.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def _fill(folder: Path) -> None:
    fd = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        with contextlib.suppress(OSError):
            while os.write(fd, b"\0" * 4096):
                pass
    finally:
        os.close(fd)
    with pytest.raises(OSError):
        (folder / "probe").write_bytes(b"x" * 8192)


def test_a_ledger_on_a_full_disk_reads_fine(tmp_path):
    """Before, verify, head and list said "the disk refused a write" (a reader needs a -shm in WAL mode)."""
    with full_disk(tmp_path) as disk:
        db = seeded(disk / "ledger.db")
        expected = {tuple(args): cli(db, *args) for args in READS}
        _fill(disk)
        before = files_and_digests(disk)
        for args in READS:
            result = cli(db, *args)
            assert result.returncode == 0, (args, result.stderr)
            assert same_output(result, expected[tuple(args)]), args
        one_line_error(cli(db, *WRITES[0]), "nothing was written")
        after = files_and_digests(disk)
        assert {k: v for k, v in after.items() if k in before} == before  # the ledger's bytes did not change
        assert set(after) - set(before) <= {"ledger.db-wal", "ledger.db-shm", "probe"}  # at most empty side files
        assert all((disk / name).stat().st_size <= 4096 for name in set(after) - set(before))


# --- --db that is not a regular file ---------------------------------------------------------------


@pytest.mark.parametrize("kind", ["FIFO", "socket", "device", "directory"])
def test_db_that_is_not_a_regular_file_is_refused_at_once(tmp_path, kind):
    """A FIFO used to hang on the header read."""
    target = tmp_path / "ledger.db"
    server = None
    if kind == "FIFO":
        os.mkfifo(target)
    elif kind == "socket":
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(target))
    elif kind == "device":
        target.symlink_to("/dev/zero")
    else:
        target.mkdir()
    try:
        for args in (READS[0], READS[5], WRITES[0], ["import", "nothing.jsonl"]):
            if args[0] == "import":
                (tmp_path / "nothing.jsonl").write_text("")
                args = ["import", tmp_path / "nothing.jsonl"]
            result = cli(target, *args, timeout=20)
            assert result.returncode in (1, 2) and "Traceback" not in result.stderr, (args, result.stderr)
            assert "not a ledger file" in result.stderr or "is a directory" in result.stderr, result.stderr
    finally:
        if server is not None:
            server.close()


# --- an older schema ----------------------------------------------------------------------------------


def _older_ledger(path: Path) -> None:
    """A ledger as the previous version made it: every migration but the last."""
    from sqlite_utils import Database, Migrations

    older = Migrations(migrations.name)
    for step in migrations._migrations[:-1]:
        older()(step.fn)
    older.apply(Database(sqlite3.connect(path)))


def test_a_reader_that_cannot_write_an_older_ledger_refuses_it_and_says_how_to_upgrade_it(foreign_folder):
    db = foreign_folder / "old.db"
    _older_ledger(db)
    _lock_folder(foreign_folder)
    before = files_and_digests(foreign_folder)
    for args in (["list"], ["verify"], ["export"], ["head"]):
        one_line_error(cli(db, *args, as_other_user=True), "written by an older version", "predictions upgrade")
    assert files_and_digests(foreign_folder) == before


def test_a_reader_that_can_write_an_older_ledger_upgrades_it_once_then_reads(tmp_path):
    db = tmp_path / "old.db"
    _older_ledger(db)
    result = cli(db, "list", "--json")
    assert result.returncode == 0 and json.loads(result.stdout) == [], result.stderr
    result = cli(db, "upgrade")
    assert result.returncode == 0 and "is up to date" in result.stderr, result.stderr
    assert cli(db, "verify").returncode == 0


def test_a_read_only_ledger_object_refuses_writes_and_writes_nothing(tmp_path):
    db = seeded(tmp_path / "ledger.db")
    before = files_and_digests(tmp_path)
    with Ledger(db, read_only=True) as ledger:
        with pytest.raises(LedgerError, match="was opened read-only; nothing was written"):
            ledger.add(**forecast_fields(claim="More"))
        with pytest.raises(Exception):
            ledger.conn.execute("DELETE FROM forecast_tags")  # query_only: even raw SQL cannot write
        assert ledger.count() == 3
    assert files_and_digests(tmp_path) == before
    with pytest.raises(LedgerError, match="no ledger at"):
        Ledger(tmp_path / "missing.db", read_only=True)
    assert not (tmp_path / "missing.db").exists()


HALF_WRITTEN = """
import os, sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA journal_mode = DELETE")
conn.execute("PRAGMA cache_size = 5")  # small: the transaction's pages spill into the file itself
conn.execute("BEGIN IMMEDIATE")
conn.execute("CREATE TABLE filler (x)")
conn.executemany("INSERT INTO filler VALUES (?)", [("x" * 500,) for _ in range(2000)])
os.kill(os.getpid(), 9)  # killed mid-transaction: a hot -journal is left to roll back from
"""


def test_a_reader_that_cannot_roll_back_a_hot_journal_refuses_instead_of_reading_half_a_transaction(foreign_folder):
    db = seeded(foreign_folder / "ledger.db")
    with Ledger(db) as ledger:
        ledger.conn.execute("PRAGMA journal_mode = DELETE")
    killed = subprocess.run([sys.executable, "-c", HALF_WRITTEN, str(db)], capture_output=True)
    assert killed.returncode == -9 and Path(f"{db}-journal").stat().st_size > 0
    _lock_folder(foreign_folder)
    before = files_and_digests(foreign_folder)
    for args in (["verify"], ["export"]):
        one_line_error(cli(db, *args, as_other_user=True), "cannot read", "-journal", "the file's owner")
    assert files_and_digests(foreign_folder) == before
    os.chmod(foreign_folder, 0o755)
    os.chmod(db, 0o644)
    os.chmod(f"{db}-journal", 0o644)
    assert cli(db, "verify").returncode == 0  # the owner's reader rolls the journal back, and all is well
