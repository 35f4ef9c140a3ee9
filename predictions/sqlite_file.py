"""Opening a ledger file safely: what is refused, how SQLite's failures read, transactions.

A file that is not SQLite, a SQLite file that is not a ledger, a ledger written by a newer
version, and anything that is not a regular file (a FIFO, a device: refused from `stat`, never
opened) are refused before anything is written to them. A writer's connection puts the file in
WAL mode at its first write (a new one, or a copy of the example kept in rollback-journal mode) and
migrates it; every connection waits up to BUSY_TIMEOUT_SECONDS for another writer.

A reader's connection (`read_only=True`) never writes: it does not migrate (a ledger of an older
schema is refused with one line saying how to upgrade it), and where SQLite cannot make the
`-shm` file WAL mode needs to read (a folder the user cannot write, a full disk, a read-only file
system) it reads the file as immutable. SQLite's errors become one-line LedgerErrors that say what
happened to the data (`sqlite_errors`).
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import stat
import time
import urllib.parse
from pathlib import Path
from typing import Callable, Iterator

from .errors import LedgerError, NotALedgerError, OlderSchemaError
from .migrations import MIGRATION_SET, known_names, migrations

SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_SECONDS = 60


def connect(
    path: Path, *, create: bool, read_only: bool = False, wal: bool = True, shown_as: Path | None = None
) -> sqlite3.Connection:
    """A connection to the ledger at `path`: a writer's, migrated to this version's schema, or a
    reader's (`read_only`), which writes nothing and refuses a schema it would have to migrate.

    `wal=False` keeps a new file in rollback-journal mode (a ledger being built under a private
    name: nobody else reads it, and it must be one self-contained file when it is published).
    Errors name `shown_as` (default `path`).
    """
    shown_as = shown_as or path
    _check_file(path, create and not read_only)
    with sqlite_errors(shown_as):
        conn = _connect_reader(path) if read_only else _connect(path)
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_SECONDS * 1000}")
            if read_only:
                _check_current(conn, path)
            else:
                _migrate(conn, shown_as, wal=wal)
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


def _pending_side_file(path: Path) -> str | None:
    """A -wal or -journal with content beside `path`: reading the file alone would be wrong."""
    for suffix in ("-wal", "-journal"):
        try:
            if os.path.getsize(f"{path}{suffix}") > 0:
                return f"{path}{suffix}"
        except OSError:
            continue
    return None


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
            # SQLite's temporary files (sorts, statement journals) may be on another disk than the ledger
            raise LedgerError(f"{shown}: the disk is full ({text}); nothing was written (full: the ledger's disk, "
                              "or the one for SQLite's temporary files: SQLITE_TMPDIR, TMPDIR, /var/tmp or /tmp)") from None
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

def transaction(conn: sqlite3.Connection, path: Path, *, wal: bool = True) -> Iterator[None]:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any exception; SQLite errors as LedgerErrors.

    With `wal` (the default) a file in a rollback-journal mode is switched to WAL first.
    """
    with sqlite_errors(path):
        if wal and conn.execute("PRAGMA journal_mode").fetchone()[0] in ("delete", "truncate", "persist"):
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


class _Connection(sqlite3.Connection):
    """A ledger's connection, which remembers how it was opened (`reopener`)."""

    opened_as: tuple[str | bytes, bool] | None = None


def _open(database: str | bytes, *, uri: bool = False, **options) -> sqlite3.Connection:
    conn = sqlite3.connect(database, uri=uri, factory=_Connection, **options)
    conn.opened_as = (database, uri)
    return conn


def reopener(conn: sqlite3.Connection) -> Callable[[], sqlite3.Connection] | None:
    """A function that opens another connection to `conn`'s file exactly as `conn` was opened (the
    same name or URI, so the same read-only or immutable mode), for reading only; None for a
    connection not opened here. verify reads the file on two connections at once with it."""
    opened = getattr(conn, "opened_as", None)
    if opened is None:
        return None
    database, uri = opened

    def reopen() -> sqlite3.Connection:
        other = sqlite3.connect(database, uri=uri, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
        try:
            other.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_SECONDS * 1000}")
            other.execute("PRAGMA query_only = ON")
        except BaseException:
            other.close()
            raise
        return other

    return reopen


def _connect(path: Path) -> sqlite3.Connection:
    # check_same_thread: one connection shared by threads interleaves their transactions (a
    # reviewer saw rows written outside the chain); sqlite3 then refuses use from another thread.
    options = {"timeout": BUSY_TIMEOUT_SECONDS, "isolation_level": None, "check_same_thread": True}
    if path.exists() and read_only_fs(path) and not _has_pending_wal(path):
        # On a read-only file system SQLite cannot make the -shm file WAL mode needs even to
        # read. Nobody can write there, so the file is immutable: read it without locks. Every
        # write then fails with "attempt to write a readonly database", reported as read-only.
        uri = f"file:{urllib.parse.quote(os.fsencode(path.absolute()))}?mode=ro&immutable=1"
        return _open(uri, uri=True, **options)
    # As bytes: a name holding bytes that are not UTF-8 (\udcXX in Python) then still opens.
    return _open(os.fsencode(path), **options)


def _connect_reader(path: Path) -> sqlite3.Connection:
    """A connection that writes nothing (`PRAGMA query_only`).

    In WAL mode even a reader needs the `-shm` file. Tried in turn: an ordinary connection
    (which, closing last, tidies the -wal and -shm away as a writer's would), a read-only one
    (which can use a -shm it cannot write), and where neither can make or use the -shm (a folder
    that is not the user's, a full disk, a read-only file system), the file read as immutable:
    without locks, ignoring any -wal. That is exact when no -wal holds changes and no -journal a
    transaction to roll back (a writer that closes cleanly leaves neither), so it is refused when
    one is there; a writer
    committing while such a read runs could make it see a mix (documented in docs/integrity.md).
    """
    options = {"timeout": BUSY_TIMEOUT_SECONDS, "isolation_level": None, "check_same_thread": True}
    uri = f"file:{urllib.parse.quote(os.fsencode(path.absolute()))}"
    failure: sqlite3.OperationalError | None = None
    for query in ("", "?mode=ro"):
        conn = _open(uri + query, uri=True, **options)
        try:
            conn.execute("PRAGMA query_only = ON")
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return conn
        except sqlite3.OperationalError as exc:
            conn.close()
            if _is_busy(exc):
                raise
            failure = exc
    pending = _pending_side_file(path)
    if pending:
        raise LedgerError(
            f"cannot read {shown_path(path)}: {shown_path(pending)} holds changes (committed to a -wal, or a "
            f"transaction to roll back from a -journal) that cannot be read without writing beside the file "
            f"({failure}); a command that writes, run by the file's owner, settles them"
        )
    conn = _open(uri + "?mode=ro&immutable=1", uri=True, **options)
    conn.execute("PRAGMA query_only = ON")
    return conn


def file_kind(mode: int) -> str:
    """What a non-regular file is, for a message."""
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):  # fmt: skip
        if test(mode):
            return name
    return "a special file"


def _check_file(path: Path, create: bool) -> None:
    shown = shown_path(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        if os.path.lexists(path):
            raise NotALedgerError(f"{shown} is a symbolic link to a file that does not exist") from None
        if not create:
            raise NotALedgerError(f"no ledger at {shown} (add or import a forecast to create one)") from None
        return
    except OSError as exc:
        raise LedgerError(f"cannot open {shown}: {exc.strerror}") from None
    if stat.S_ISDIR(mode):
        raise NotALedgerError(f"{shown} is a directory, not a ledger file")
    if not stat.S_ISREG(mode):  # opening a FIFO would block, a device could be anything
        raise NotALedgerError(f"{shown} is {file_kind(mode)}, not a ledger file")
    try:  # without blocking, and checked again, in case a FIFO was swapped in since the stat
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
        try:
            mode = os.fstat(fd).st_mode
            header = os.read(fd, len(SQLITE_HEADER)) if stat.S_ISREG(mode) else b""
        finally:
            os.close(fd)
    except OSError as exc:
        raise LedgerError(f"cannot read {shown}: {exc.strerror}") from None
    if not stat.S_ISREG(mode):
        raise NotALedgerError(f"{shown} is {file_kind(mode)}, not a ledger file")
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


def _check_current(conn: sqlite3.Connection, path: Path) -> None:
    """A reader's check: the file is a ledger with every migration applied (a reader migrates nothing)."""
    applied = _applied(conn, path)
    if applied is None:
        raise NotALedgerError(f"{shown_path(path)} is empty, not yet a ledger (add or import a forecast to make it one)")
    missing = [name for name in known_names() if name not in applied]
    if missing:
        raise OlderSchemaError(
            f"{shown_path(path)} was written by an older version of predictions (it lacks schema step {missing[0]}); "
            "upgrade it with `predictions upgrade` (commands that only read never change the file)"
        )


def _migrate(conn: sqlite3.Connection, path: Path, *, wal: bool = True) -> None:
    applied = _applied(conn, path)
    if applied is not None and len(applied) == len(known_names()):
        return
    with transaction(conn, path, wal=wal):  # which puts a new file in WAL mode first
        # Checked again under the write lock: another process may have migrated meanwhile.
        from sqlite_utils import Database  # only here: importing it costs about 0.27 s

        migrations.apply(Database(conn, execute_plugins=False))


def use_wal(conn: sqlite3.Connection, path: Path) -> None:
    """Put a ledger this process may write in WAL mode, if it is not in it already."""
    with sqlite_errors(path):
        if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            _enable_wal(conn)


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
