"""Opening a ledger file safely: what is refused, how SQLite's failures read, transactions.

A file that is not SQLite, a SQLite file that is not a ledger, and a ledger written by a newer
version are refused before anything is written to them. A file is put in WAL mode at its first
write (a new one, or a copy of the example kept in rollback-journal mode) and migrated; every
connection waits up to BUSY_TIMEOUT_SECONDS for another writer. A ledger on a
read-only file system is opened immutable, so it can still be read. SQLite's errors become
one-line LedgerErrors that say what happened to the data (`sqlite_errors`).
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import time
import urllib.parse
from pathlib import Path
from typing import Iterator

from .errors import LedgerError, NotALedgerError
from .migrations import MIGRATION_SET, known_names, migrations

SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_SECONDS = 60


def connect(path: Path, *, create: bool) -> sqlite3.Connection:
    """A connection to the ledger at `path`, migrated to this version's schema."""
    _check_file(path, create)
    with sqlite_errors(path):
        conn = _connect(path)
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_SECONDS * 1000}")
            _migrate(conn, path)
            conn.execute("PRAGMA foreign_keys = ON")
        except BaseException:
            conn.close()
            raise
    return conn


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc)
    return "locked" in text or "busy" in text


def shown_path(path: str | os.PathLike) -> str:
    """A path for a one-line message: quoted and escaped if it holds line breaks or control characters."""
    text = os.fspath(path)
    text = os.fsdecode(text) if isinstance(text, bytes) else text
    return text if text.isprintable() else repr(text)


def checked_path(path: str | os.PathLike, what: str) -> Path:
    """A file name the OS can take: a NUL byte would make every os call raise ValueError."""
    text = os.fspath(path)
    if isinstance(text, bytes):
        text = os.fsdecode(text)
    if "\x00" in text:
        raise LedgerError(f"the {what} path {text!r} contains a NUL character")
    if not text.strip():
        raise LedgerError(f"the {what} path is empty")
    try:
        os.fsencode(text)  # bytes that were not UTF-8 come back as \udcXX and encode again; others do not
    except UnicodeEncodeError:
        raise LedgerError(f"the {what} path {text!r} is not valid Unicode") from None
    return Path(text)


def _has_pending_wal(path: Path) -> bool:
    """A -wal file with content: committed changes not yet copied into the main file."""
    try:
        return os.path.getsize(f"{path}-wal") > 0
    except OSError:
        return False


def read_only_fs(path: Path) -> bool:
    """True when `path` (or, for a file not yet made, its folder) is on a read-only file system."""
    for candidate in (path, path.parent if str(path.parent) else Path(".")):
        try:
            return bool(os.statvfs(candidate).f_flag & os.ST_RDONLY)
        except OSError:
            continue
    return False


@contextlib.contextmanager

def sqlite_errors(path: Path) -> Iterator[None]:
    """Turn SQLite's failures into one-line LedgerErrors that say what happened to the data."""
    shown = shown_path(path)
    try:
        yield
    except sqlite3.OperationalError as exc:
        text = str(exc)
        if "disk is full" in text:
            raise LedgerError(f"{shown}: the disk is full ({text}); nothing was written") from None
        if "disk I/O error" in text:
            raise LedgerError(
                f"{shown}: the disk refused a write ({text}: it is full, failing or over a size limit); "
                "nothing was written"
            ) from None
        if "readonly" in text or "read-only" in text:
            raise LedgerError(f"{shown} is read-only; nothing was written") from None
        if _is_busy(exc):
            raise LedgerError(
                f"{shown} stayed locked by another writer for {BUSY_TIMEOUT_SECONDS} s; nothing was written, try again"
            ) from None
        if "Could not decode to UTF-8" in text:  # the message goes on to quote the bytes: not shown
            column = re.match(r"Could not decode to UTF-8 column '(\w+)'", text)
            raise LedgerError(
                f"{shown}: the column {column[1] if column else '?'} holds bytes that are not UTF-8 text: "
                "the file was changed outside predictions (`predictions verify` names the entry)"
            ) from None
        if "no such index" in text or "no query solution" in text:
            raise LedgerError(
                f"{shown}: {text}: an index the ledger reads through is missing or altered "
                "(`predictions verify` says what changed in the schema)"
            ) from None
        if "unable to open" in text:
            if read_only_fs(path):
                raise LedgerError(f"cannot create {shown}: its folder is on a read-only file system") from None
            raise LedgerError(f"cannot open {shown}: {text}") from None
        raise LedgerError(f"{shown}: database error: {text}") from None
    except sqlite3.IntegrityError as exc:
        raise LedgerError(f"{shown}: the database refused the change ({exc}); nothing was written") from None
    except sqlite3.ProgrammingError as exc:  # misuse of this Ledger object, not a fault of the file
        if "closed database" in str(exc):
            raise LedgerError(f"{shown}: this Ledger was closed; open it again") from None
        if "same thread" in str(exc):
            raise LedgerError(
                f"{shown}: a Ledger belongs to the thread that opened it; open one in each thread "
                "(they share the file safely)"
            ) from None
        raise
    except sqlite3.DatabaseError as exc:
        raise NotALedgerError(f"{shown}: {exc}") from None
    except UnicodeEncodeError:
        # Text holding a lone surrogate (what Python makes of bytes on a command line that are not
        # UTF-8, or of a JSON escape such as "\ud800") cannot be stored or looked up.
        raise LedgerError(
            "some text is not valid Unicode (it holds a lone surrogate, e.g. bytes that are not UTF-8); "
            "nothing was written"
        ) from None


@contextlib.contextmanager

def transaction(conn: sqlite3.Connection, path: Path) -> Iterator[None]:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any exception; SQLite errors as LedgerErrors."""
    with sqlite_errors(path):
        if conn.execute("PRAGMA journal_mode").fetchone()[0] in ("delete", "truncate", "persist"):
            # A copy of ledger.db.example (kept in rollback-journal mode, so reading it leaves no
            # files beside it) becomes a working ledger: in WAL, readers do not wait for writers.
            try:
                _enable_wal(conn)
            except sqlite3.OperationalError as exc:
                if "within a transaction" not in str(exc):
                    raise  # a read still open on this connection (an export being iterated): next time

        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")


def _connect(path: Path) -> sqlite3.Connection:
    # check_same_thread: one connection shared by threads interleaves their transactions (a
    # reviewer saw rows written outside the chain); sqlite3 then refuses use from another thread.
    options = {"timeout": BUSY_TIMEOUT_SECONDS, "isolation_level": None, "check_same_thread": True}
    if path.exists() and read_only_fs(path) and not _has_pending_wal(path):
        # On a read-only file system SQLite cannot make the -shm file WAL mode needs even to
        # read. Nobody can write there, so the file is immutable: read it without locks. Every
        # write then fails with "attempt to write a readonly database", reported as read-only.
        uri = f"file:{urllib.parse.quote(os.fsencode(path.absolute()))}?mode=ro&immutable=1"
        return sqlite3.connect(uri, uri=True, **options)
    # As bytes: a name holding bytes that are not UTF-8 (\udcXX in Python) then still opens.
    return sqlite3.connect(os.fsencode(path), **options)


def _check_file(path: Path, create: bool) -> None:
    if path.is_dir():
        raise NotALedgerError(f"{shown_path(path)} is a directory, not a ledger file")
    if not path.exists():
        if not create:
            raise NotALedgerError(f"no ledger at {shown_path(path)} (add or import a forecast to create one)")
        return
    try:
        with open(path, "rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise LedgerError(f"cannot read {shown_path(path)}: {exc.strerror}") from None
    if header and header != SQLITE_HEADER:
        raise NotALedgerError(f"{shown_path(path)} is not a SQLite database; refusing to touch it")


def _applied(conn: sqlite3.Connection, path: Path) -> list[str] | None:
    """Migration names applied to this file, or None if the file has no tables at all."""
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not tables:
        return None
    if migrations.migrations_table not in tables:
        raise NotALedgerError(f"{shown_path(path)} is a SQLite database but not a predictions ledger")
    names = [
        row[0]
        for row in conn.execute(
            f"SELECT name FROM {migrations.migrations_table} WHERE migration_set = ? ORDER BY rowid",
            [MIGRATION_SET],
        )
    ]
    if not names:
        raise NotALedgerError(f"{shown_path(path)} is a SQLite database but not a predictions ledger")
    newer = [name for name in names if name not in known_names()]
    if newer:
        raise NotALedgerError(
            f"{shown_path(path)} was written by a newer version of predictions (schema step {newer[0]}); "
            "upgrade predictions to use it"
        )
    return names


def _migrate(conn: sqlite3.Connection, path: Path) -> None:
    applied = _applied(conn, path)
    if applied is not None and len(applied) == len(known_names()):
        return
    with transaction(conn, path):  # which puts a new file in WAL mode first
        # Checked again under the write lock: another process may have migrated meanwhile.
        from sqlite_utils import Database  # only here: importing it costs about 0.27 s

        migrations.apply(Database(conn, execute_plugins=False))


def _enable_wal(conn: sqlite3.Connection) -> None:
    """Switch the file to WAL, waiting like the busy timeout would.

    Changing the journal mode does not go through SQLite's busy handler: when several
    processes create the same ledger at once, all but one get "database is locked" at once.
    So retry here, for as long as any other write would wait.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
    delay = 0.002
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL").fetchone()
            return
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc) or time.monotonic() + delay > deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.05)
