"""Output files (`export -o`, `report -o`, `backup`) never destroy the ledger and never leave a
half file or a temporary one (issue 9, class 2); the format follows the file name (issue 13).

Every attack runs through the installed command, and the ledger is compared before and after.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from predictions import Ledger, OutputError, output_format
from predictions.io import EXTENSIONS as EXPORT_EXTENSIONS
from predictions.report_formats import EXTENSIONS as REPORT_EXTENSIONS

from .conftest import TODAY, forecast_fields

PREDICTIONS = Path(sys.executable).with_name("predictions")
pytestmark = pytest.mark.skipif(not PREDICTIONS.exists(), reason="the predictions command is not installed")

WRITERS = {  # each command that writes a file the user names: its arguments before the name
    "export": ["export", "--format", "jsonl", "-o"],  # an explicit format: the name's extension is not at issue
    "report": ["report", "--for", "2026-03", "--format", "text", "-o"],
    "backup": ["backup"],
}


def cli(db: Path, *args, timeout: float = 60, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(PREDICTIONS), "--db", str(db), "--today", TODAY.isoformat(), *map(str, args)],
        capture_output=True, text=True, timeout=timeout, **kwargs,
    )  # fmt: skip


@pytest.fixture
def ledger_db(tmp_path) -> Path:
    db = tmp_path / "ledger.db"
    with Ledger(db) as ledger:
        for i in range(3):
            ledger.add(**forecast_fields(id=f"before-{i}", claim=f"Claim {i}"))
        ledger.resolve("before-0", "yes", on="2026-03-01", evidence="Report", today=TODAY)
    return db


def state(db: Path) -> tuple[bytes, str]:
    """The ledger's bytes and its verified head: what must survive a refused command."""
    with Ledger(db, read_only=True) as ledger:
        verification = ledger.verify()
    assert verification.ok, verification.problems
    return db.read_bytes(), verification.head


def refused(result: subprocess.CompletedProcess, *words: str) -> str:
    assert result.returncode in (1, 2), (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and result.stdout == ""
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: "), result.stderr
    for word in words:
        assert word in last, (word, last)
    return last


# --- the ledger and its files -----------------------------------------------------------------


def _ledger_targets(db: Path) -> dict[str, Path]:
    """Names that reach the ledger or one of its files: itself, its side files (none exists now),
    symbolic links to those, a hard link, and the side file of the hard link's name."""
    folder = db.parent
    hard = folder / "hard.db"
    os.link(db, hard)
    targets = {"itself": db, "hard link": hard, "-wal of a hard link": folder / "hard.db-wal"}
    for suffix in ("-wal", "-shm", "-journal"):
        targets[suffix] = Path(f"{db}{suffix}")
        link = folder / f"link{suffix}"
        link.symlink_to(f"{db}{suffix}")  # to a file that does not exist yet
        targets[f"symlink to {suffix}"] = link
    (folder / "link.db").symlink_to(db.name)
    targets["symlink"] = folder / "link.db"
    (folder / "sub").mkdir()
    targets["relative path"] = folder / "sub" / ".." / db.name
    return targets


@pytest.mark.parametrize("command", ["export", "report", "backup"])
def test_an_output_that_is_the_ledger_or_one_of_its_files_is_refused(ledger_db, command):
    """`export -o l.db` used to exit 0 leaving a file that was no longer SQLite."""
    before = state(ledger_db)
    for what, target in _ledger_targets(ledger_db).items():
        refused(cli(ledger_db, *WRITERS[command], target))
        assert state(ledger_db) == before, what
        for side in ("-wal", "-shm", "-journal"):  # nothing written where SQLite would read it back
            assert not Path(f"{ledger_db}{side}").exists(), (what, side)
    # without --format too (the extension is then refused first, which is just as safe)
    refused(cli(ledger_db, *[a for a in WRITERS[command] if a not in ("--format", "jsonl", "text")], ledger_db))
    assert state(ledger_db) == before


def test_an_output_that_is_another_sqlite_database_is_refused(ledger_db, tmp_path):
    other = tmp_path / "other.jsonl"  # a ledger, whatever its name
    with Ledger(other) as ledger:
        ledger.add(**forecast_fields())
    kept = other.read_bytes()
    refused(cli(ledger_db, "export", "-o", other), "is a SQLite database")
    assert other.read_bytes() == kept


# --- special files ------------------------------------------------------------------------------


def _special_files(folder: Path) -> dict[str, Path]:
    fifo = folder / "pipe.jsonl"
    os.mkfifo(fifo)
    sock = folder / "sock.jsonl"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(sock))
    (folder / "dir.jsonl").mkdir()
    (folder / "null.jsonl").symlink_to("/dev/null")
    return {"FIFO": fifo, "socket": sock, "directory": folder / "dir.jsonl", "device": folder / "null.jsonl",
            "/dev/null": Path("/dev/null"), "_server": server}  # fmt: skip


@pytest.mark.parametrize("command", ["export", "report", "backup"])
def test_an_output_that_is_not_a_regular_file_is_refused_without_opening_it(ledger_db, tmp_path, command):
    """A FIFO used to be replaced by a regular file (and opening one would block): refused from stat."""
    folder = tmp_path / "special"
    folder.mkdir()
    targets = _special_files(folder)
    server = targets.pop("_server")
    try:
        for what, target in targets.items():
            refused(cli(ledger_db, *WRITERS[command], target, timeout=30))
        assert stat.S_ISFIFO(os.lstat(folder / "pipe.jsonl").st_mode)
        assert stat.S_ISSOCK(os.lstat(folder / "sock.jsonl").st_mode)
        assert (folder / "dir.jsonl").is_dir() and os.path.islink(folder / "null.jsonl")
        assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    finally:
        server.close()


# --- modes ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["export", "report"])
def test_set_id_and_sticky_bits_are_never_carried_into_the_new_file(ledger_db, tmp_path, command):
    args, target = WRITERS[command], tmp_path / f"{command}.out"
    name = target.name
    target.write_text("old")
    os.chmod(target, 0o6751 | stat.S_ISVTX)
    link = tmp_path / f"link-{name}"
    link.symlink_to(target)
    for path in (target, link):
        result = cli(ledger_db, *args, path)
        assert result.returncode == 0, result.stderr
        assert stat.S_IMODE(os.stat(target).st_mode) == 0o751  # the permissions kept, the special bits not
        os.chmod(target, 0o6751 | stat.S_ISVTX)
    assert link.is_symlink() and os.readlink(link) == str(target)  # written through the link, like `>`
    assert target.read_text() != "old"


def test_a_new_output_file_gets_the_mode_a_new_file_gets(ledger_db, tmp_path):
    result = cli(ledger_db, "export", "-o", tmp_path / "new.jsonl", preexec_fn=lambda: os.umask(0o077))
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(os.stat(tmp_path / "new.jsonl").st_mode) == 0o600


# --- killed and interrupted exports -----------------------------------------------------------


@pytest.fixture(scope="module")
def big_ledger(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("big") / "big.db"
    with Ledger(db) as ledger:
        ledger.import_records(
            [(f"b:{i}", {**forecast_fields(id=f"big-{i:06d}", claim=f"Claim {i} " * 10), "made_on": "2026-01-15",
                         "deadline": "2026-12-31"}) for i in range(30_000)], today=TODAY)  # fmt: skip
    return db


def _writing_into(process: subprocess.Popen, folder: Path, timeout: float = 60) -> bool:
    """True once the process holds a file in `folder` open (its temporary output), as /proc shows."""
    deadline = time.monotonic() + timeout
    fds = Path(f"/proc/{process.pid}/fd")
    while time.monotonic() < deadline and process.poll() is None:
        try:
            for fd in fds.iterdir():
                with_name = os.readlink(fd)
                if with_name.startswith(str(folder) + "/"):
                    return True
        except OSError:
            pass
        time.sleep(0.001)
    return False


PYTHON_WITHOUT_O_TMPFILE = (
    "import os, sys; del os.O_TMPFILE; sys.argv[0] = 'predictions'; from predictions_cli.main import cli; cli()"
)


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="needs /proc to see the process's open files")
@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM", "SIGINT", "SIGTERM without O_TMPFILE", "SIGINT without O_TMPFILE"])
def test_a_killed_export_leaves_no_file_behind(big_ledger, tmp_path, how):
    """SIGKILL cannot be caught: the output is written to an anonymous O_TMPFILE, which vanishes
    with the process. Without O_TMPFILE the hidden named file is removed on SIGTERM and Ctrl-C."""
    folder = tmp_path / "out"
    folder.mkdir()
    signum = getattr(signal, how.split()[0])
    command = [str(PREDICTIONS)]
    if "without" in how:
        command = [sys.executable, "-c", PYTHON_WITHOUT_O_TMPFILE]
    process = subprocess.Popen([*command, "--db", str(big_ledger), "export", "-o", str(folder / "all.jsonl")],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert _writing_into(process, folder), "the export ended before it could be killed"
        process.send_signal(signum)
        process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode != 0
    assert list(folder.iterdir()) == []


def test_a_killed_backup_leaves_no_file_at_the_target_and_sigterm_no_file_at_all(big_ledger, tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    process = subprocess.Popen([str(PREDICTIONS), "--db", str(big_ledger), "backup", str(folder / "copy.db")],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    assert _writing_into(process, folder), "the backup ended before it could be stopped"
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM
    assert list(folder.iterdir()) == []


# --- the format follows the file name ----------------------------------------------------------


def test_the_export_format_follows_the_file_name(ledger_db, tmp_path):
    for name in ("all.jsonl", "all.json", "all.csv", "ALL.CSV", "all.ndjson"):
        assert cli(ledger_db, "export", "-o", tmp_path / name).returncode == 0
    assert [json.loads(line)["id"] for line in (tmp_path / "all.jsonl").read_text().splitlines()] == [
        "before-0", "before-1", "before-2"]  # fmt: skip
    assert [r["id"] for r in json.loads((tmp_path / "all.json").read_text())] == ["before-0", "before-1", "before-2"]
    with open(tmp_path / "all.csv", newline="", encoding="utf-8") as handle:
        assert [r["id"] for r in csv.DictReader(handle)] == ["before-0", "before-1", "before-2"]
    assert (tmp_path / "ALL.CSV").read_bytes() == (tmp_path / "all.csv").read_bytes()
    assert (tmp_path / "all.ndjson").read_bytes() == (tmp_path / "all.jsonl").read_bytes()
    # and what export wrote, import reads back under the same name
    for name in ("all.json", "all.csv"):
        result = cli(tmp_path / f"copy-{name}.db", "import", tmp_path / name)
        assert result.returncode == 0, result.stderr


def test_the_report_format_follows_the_file_name(ledger_db, tmp_path):
    for name in ("r.txt", "r.md", "r.html", "r.json"):
        assert cli(ledger_db, "report", "--for", "2026-03", "-o", tmp_path / name).returncode == 0
    assert (tmp_path / "r.html").read_text().lstrip().lower().startswith("<!doctype html")
    assert json.loads((tmp_path / "r.json").read_text())
    assert (tmp_path / "r.md").read_text().startswith("#")
    text, written = cli(ledger_db, "report", "--for", "2026-03").stdout, (tmp_path / "r.txt").read_text()
    assert written.splitlines()[0] == text.splitlines()[0] and "<" not in written and "#" not in written[:2]


@pytest.mark.parametrize("args, words", [
    (["export", "-o", "x.txt"], ["'-o' / '--output'", "has the extension '.txt'", "give --format"]),
    (["export", "-o", "noext"], ["'-o' / '--output'", "has no extension"]),
    (["report", "--for", "2026-03", "-o", "x.csv"], ["'-o' / '--output'", "has the extension '.csv'"]),
    (["export", "--format", "csv", "-o", "x.jsonl"], ["'--format'", "--format csv contradicts", "a jsonl file name"]),
    (["report", "--for", "2026-03", "--format", "html", "-o", "x.md"], ["'--format'", "contradicts"]),
])  # fmt: skip
def test_an_unknown_extension_or_a_contradicting_format_is_a_usage_error(ledger_db, tmp_path, args, words):
    result = cli(ledger_db, *args, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    for word in words:
        assert word in result.stderr, (word, result.stderr)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ledger.db"]


def test_an_explicit_format_writes_any_file_name(ledger_db, tmp_path):
    assert cli(ledger_db, "export", "--format", "csv", "-o", tmp_path / "data.txt").returncode == 0
    assert (tmp_path / "data.txt").read_text().startswith("id,")
    assert cli(ledger_db, "export").stdout.startswith('{"id": "before-0"') or cli(ledger_db, "export").stdout.startswith("{")


@given(
    suffix=st.sampled_from(["", ".txt", ".md", ".html", ".json", ".jsonl", ".csv", ".CSV", ".Html", ".x"]),
    given_fmt=st.sampled_from([None, "text", "md", "html", "json", "jsonl", "csv"]),
    table=st.sampled_from([EXPORT_EXTENSIONS, REPORT_EXTENSIONS]),
)
def test_output_format_rule(suffix, given_fmt, table):
    """The format is --format when given and consistent, else the extension's; never a silent mismatch."""
    implied = table.get(suffix.lower())
    try:
        chosen = output_format(f"out{suffix}", given_fmt, table, "default")
    except OutputError as exc:
        assert (given_fmt is None and implied is None) or (given_fmt is not None and implied not in (None, given_fmt))
        assert exc.option == ("output" if given_fmt is None else "format")
    else:
        assert chosen == (given_fmt or implied)
        assert implied in (None, chosen)
    assert output_format(None, given_fmt, table, "default") == (given_fmt or "default")


# --- extract -o: the same rules, and it never replaces a file ------------------------------------


def _article(folder: Path) -> Path:
    article = folder / "article.md"
    article.write_text("Acme will open a plant by 2027.\n", encoding="utf-8")
    return article


def test_extract_output_follows_the_same_rules(ledger_db, tmp_path):
    article = _article(tmp_path)
    extract = ["extract", article, "--source", "Acme", "--published", "2026-03-02", "-o"]
    before = state(ledger_db)
    for target in (Path(f"{ledger_db}-wal"), Path(f"{ledger_db}-journal"), ledger_db):
        refused(cli(ledger_db, *extract, target))
        assert state(ledger_db) == before
        assert not any(Path(f"{ledger_db}{side}").exists() for side in ("-wal", "-shm", "-journal"))
    fifo = tmp_path / "draft.toml"
    os.mkfifo(fifo)
    refused(cli(ledger_db, *extract, fifo, timeout=30), "not a regular file")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    result = cli(ledger_db, *extract, tmp_path / "new.toml", preexec_fn=lambda: os.umask(0o027))
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(os.stat(tmp_path / "new.toml").st_mode) == 0o640
    assert "Acme" in (tmp_path / "new.toml").read_text(encoding="utf-8")
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]


# --- input files that are not regular files --------------------------------------------------------


@pytest.mark.parametrize("command", ["import", "seed", "extract"])
def test_an_input_file_that_is_a_fifo_is_refused_at_once(tmp_path, command):
    """Opening a FIFO blocks until a writer comes; reading a device never ends."""
    name = {"import": "in.jsonl", "seed": "seed.toml", "extract": "article.md"}[command]
    fifo = tmp_path / name
    os.mkfifo(fifo)
    args = {"import": ["import", fifo], "seed": ["seed", fifo],
            "extract": ["extract", fifo, "--source", "S", "--published", "2026-03-02"]}[command]  # fmt: skip
    result = cli(tmp_path / "ledger.db", *args, timeout=30)
    assert result.returncode == 1 and "FIFO (named pipe), not a regular file" in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # and no ledger was made
