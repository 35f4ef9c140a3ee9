"""Files the library writes beside the ledger: new ledgers, backups and output files (`-o`),
and how it opens the files it reads (`open_regular`: a FIFO or a device is refused, never waited on).

Three rules for writing, each kept here once:

* **A name only ever points at a complete file.** A new ledger (`new_ledger`, which a bulk
  import into a new file can use as it is) or a backup (`backup_into`) is built under a private,
  unique temporary name beside its target and then linked to the target's name with an
  operation that fails if that name exists (`link_no_replace`). Nothing here ever deletes or
  overwrites the target of a new ledger: a process that fails before it publishes leaves no file,
  and one that finds the name taken learns so and can write into the ledger now there.
* **An output file never lands on the ledger.** `check_output_path` refuses the ledger itself, its
  `-wal`, `-shm` and `-journal` files (by name, also before they exist, and by device and inode,
  so a symbolic or hard link to any of them is caught), any SQLite database, and anything that
  exists and is not a regular file (a FIFO, a device, a directory, a socket: refused from
  `stat`, never opened, since opening a FIFO blocks).
* **No half-written file and no leftover.** `write_output` writes into an anonymous file
  (Linux `O_TMPFILE`), so a process killed even with SIGKILL leaves nothing behind, and links it
  into place only when it is complete. Where `O_TMPFILE` is not available, a hidden named
  temporary file is used instead and removed on any error, Ctrl-C or SIGTERM (only SIGKILL or a
  power cut can leave it). Set-id and sticky bits are never carried into a new file.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import sqlite3
import stat
import threading
from pathlib import Path
from typing import IO, Callable, Iterable, Iterator, Mapping

from .errors import LedgerError
from .sqlite_file import SQLITE_HEADER, checked_path, connect, file_kind, read_only_fs, shown_path, sqlite_errors, transaction

SIDE_FILES = ("-wal", "-shm", "-journal")  # SQLite's own files beside a database
_NO_LINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.ENOSYS, errno.EMLINK, errno.EXDEV}


class OutputError(LedgerError):
    """An output path or format that was refused; `option` says which ("output" or "format")."""

    def __init__(self, message: str, option: str = "output"):
        self.option = option
        super().__init__(message)


def open_regular(path: str | os.PathLike) -> IO[bytes]:
    """Open an input file for reading in binary, refusing (OSError, errno EINVAL) anything that
    is not a regular file: a FIFO would block the open or the read forever, a device never ends.
    Opened without blocking and checked on the open file itself, so nothing swapped in between
    a check and the open can make it wait."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), os.fspath(path))
        if not stat.S_ISREG(mode):
            raise OSError(errno.EINVAL, f"it is {file_kind(mode)}, not a regular file", os.fspath(path))
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


# --- modes, links and signals ---------------------------------------------------------------------


def new_file_mode() -> int:
    """The mode a plain open() gives a new file: 0666 less the umask (read without changing it)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    umask = os.umask(0o022)  # elsewhere: the classic two calls (briefly visible to other threads)
    os.umask(umask)
    return 0o666 & ~umask


# ctypes and tempfile are imported where a file is created: a reading command never needs them
# (a few ms of every start-up, benchmarks/goals.py).
def _libc():
    import ctypes

    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


_AT_FDCWD, _AT_SYMLINK_FOLLOW, _RENAME_NOREPLACE = -100, 0x400, 1


def link_no_replace(source: Path, target: Path) -> None:
    """Give the file at `source` the name `target` too, failing with FileExistsError if `target`
    exists (as anything, a dangling symbolic link included). The source name is then removed.

    A hard link is atomic and never replaces. On a file system without hard links, Linux's
    renameat2(RENAME_NOREPLACE) does the same in one step.
    """
    try:
        os.link(source, target)
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in _NO_LINKS or not _rename_no_replace(source, target):
            raise
    else:
        os.unlink(source)
    _sync_folder(target)


def _sync_folder(path: Path) -> None:
    """Make a new name durable (best effort: not every file system lets a folder be synced)."""
    with contextlib.suppress(OSError):
        fd = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _errno() -> int:
    import ctypes

    return ctypes.get_errno()


def _rename_no_replace(source: Path, target: Path) -> bool:
    libc = _libc()
    if libc is None or not hasattr(libc, "renameat2"):
        return False
    if libc.renameat2(_AT_FDCWD, os.fsencode(source), _AT_FDCWD, os.fsencode(target), _RENAME_NOREPLACE) == 0:
        return True
    code = _errno()
    if code == errno.EEXIST:
        raise FileExistsError(code, os.strerror(code), str(target))
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(target))


def _link_anonymous(fd: int, target: Path) -> bool:
    """Name an O_TMPFILE file (Linux linkat through /proc); False where that is not possible."""
    libc = _libc()
    if libc is None:
        return False
    proc = f"/proc/self/fd/{fd}".encode()
    if libc.linkat(_AT_FDCWD, proc, _AT_FDCWD, os.fsencode(target), _AT_SYMLINK_FOLLOW) == 0:
        return True
    code = _errno()
    if code == errno.EEXIST:
        raise FileExistsError(code, os.strerror(code), str(target))
    if code in (errno.ENOENT, errno.EINVAL, errno.ENOSYS, errno.EPERM, errno.EOPNOTSUPP):
        return False  # no /proc, or a file system that cannot link it
    raise OSError(code, os.strerror(code), str(target))


class Terminated(SystemExit):
    """SIGTERM or SIGHUP arrived: unwind (running every cleanup) and exit 128 + the signal."""


@contextlib.contextmanager
def cleanup_on_signals() -> Iterator[None]:
    """While a temporary file exists, SIGTERM and SIGHUP unwind like Ctrl-C does, so `finally`
    blocks remove it. Only in the main thread, and only where the signal still has its default
    action (an application's own handler is left alone)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {}
    for signum in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(signum) is signal.SIG_DFL:
            previous[signum] = signal.signal(signum, _terminate)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _terminate(signum, _frame):
    raise Terminated(128 + signum)


# --- new files under a private name ---------------------------------------------------------------


@contextlib.contextmanager
def scratch_beside(target: Path, suffix: str = ".new") -> Iterator[Path]:
    """A private, unique, empty file beside `target` (so it can be linked to it), removed on the
    way out with any SQLite side files, whatever happened. It is never the target's own name."""
    folder = target.parent if str(target.parent) else Path(".")
    scratch = None
    with cleanup_on_signals():
        try:
            with _signals_deferred():  # a Ctrl-C between creating the file and noting its name would leak it
                try:
                    fd, name = _mkstemp(dir=folder, prefix=f".{target.name}.", suffix=suffix)
                except OSError as exc:
                    why = "its folder is on a read-only file system" if exc.errno == errno.EROFS else exc.strerror
                    raise LedgerError(f"cannot create {shown_path(target)}: {why}") from None
                os.close(fd)
                scratch = Path(name)
            os.chmod(scratch, new_file_mode())  # mkstemp's 0600, made what a new file would have
            yield scratch
        finally:
            for leftover in ("", *SIDE_FILES) if scratch is not None else ():
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(f"{scratch}{leftover}")


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold SIGINT, SIGTERM and SIGHUP back for a few system calls (delivered when the block ends)."""
    held = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


@contextlib.contextmanager
def new_ledger(target: Path, *, if_taken: Callable[[Path], None]) -> Iterator[sqlite3.Connection]:
    """Build a whole new ledger for `target` and give it that name only once complete.

    Yields a connection to a migrated, empty ledger under a private name beside `target`, inside
    one write transaction (in rollback-journal mode, so the committed file is self-contained).
    When the block ends without an error, the transaction commits and the file is linked to
    `target` (`link_no_replace`). If `target` exists by then (another process published a
    ledger there), `if_taken(path_of_what_was_built)` is called instead, so the caller can put
    what it built into that ledger. On any error, or Ctrl-C/SIGTERM, nothing is left behind.
    """
    with scratch_beside(target) as scratch:
        conn = connect(scratch, create=True, wal=False, shown_as=target)
        try:
            # Nobody else reads this file, and a failure discards it whole: the rollback journal
            # can live in memory (the pages of a file being filled are new, so it stays small) and
            # writes need no syncing until the end, when the file is synced once before it is named.
            conn.execute("PRAGMA journal_mode = MEMORY")
            conn.execute("PRAGMA synchronous = OFF")
            with transaction(conn, target, wal=False):
                yield conn
        finally:
            conn.close()
        _fsync(scratch)
        try:
            link_no_replace(scratch, target)
        except FileExistsError:
            if_taken(scratch)
        except OSError as exc:
            raise LedgerError(f"cannot create {shown_path(target)}: {exc.strerror}; nothing was written") from None


def _mkstemp(**options) -> tuple[int, str]:
    import tempfile

    return tempfile.mkstemp(**options)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def backup_into(conn: sqlite3.Connection, target: Path, *, protect: Path, progress=None) -> None:
    """Copy the database of `conn` to `target` with SQLite's online backup, built under a private
    name and linked into place when complete. `target` must not exist (the link refuses it
    atomically) and must pass `check_output_path` (not the ledger `protect`, nor its files)."""
    exists = LedgerError(f"{shown_path(target)} already exists; choose a new path")
    if os.path.lexists(target):
        raise exists
    real = check_output_path(target, protect=[protect])  # e.g. the ledger's -wal, not there yet
    if os.path.lexists(real):
        raise exists
    if read_only_fs(real):
        raise LedgerError(f"cannot write {shown_path(target)}: its folder is on a read-only file system")
    with scratch_beside(real, ".partial") as scratch:
        with sqlite_errors(target):
            dest = sqlite3.connect(os.fsencode(scratch))
            try:  # one step: a backup in steps restarts each time another process writes
                conn.backup(dest, progress=(lambda _s, left, total: progress(total - left, total)) if progress else None)
            finally:
                dest.close()
        if os.path.exists(f"{scratch}-wal") and os.path.getsize(f"{scratch}-wal") > 0:
            raise LedgerError(f"cannot write {shown_path(target)}: the copy could not be completed; nothing was written")
        try:
            link_no_replace(scratch, real)
        except FileExistsError:
            raise exists from None
        except OSError as exc:
            raise LedgerError(f"cannot write {shown_path(target)}: {exc.strerror}") from None


def _about(exc: OSError, path: Path) -> OSError:
    """The same error, about the user's path: a temporary file's name is ours, not theirs."""
    return type(exc)(exc.errno, exc.strerror, str(path))


# --- output files ---------------------------------------------------------------------------------


def _identity(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def _strip_side_suffix(name: str) -> str:
    for suffix in SIDE_FILES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def check_output_path(target: str | os.PathLike, *, protect: Iterable[str | os.PathLike] = ()) -> Path:
    """The real path an output should be written to, or OutputError saying why not.

    `protect` lists databases (the ledger) that must survive: the target may be none of them,
    none of their side files, and no link to any of those. Symbolic links are followed (the
    output goes where the link points, as with a shell's `>`).
    """
    given = checked_path(target, "output")
    real = Path(os.path.realpath(given))
    shown = shown_path(given)
    try:
        st = os.stat(real)
    except OSError:  # absent, or unreachable (no such folder, no permission): writing it will say so
        st = None
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise OutputError(f"{shown} exists and is {file_kind(st.st_mode)}, not a regular file; choose a file name")
    # The target, and the database it would be a side file of: each compared by name and by inode.
    candidates = {str(real), _strip_side_suffix(str(real))}
    ids = {i for i in map(_identity, candidates) if i}
    for database in protect:
        db_real = os.path.realpath(os.fspath(database))
        names = {db_real, *(db_real + s for s in SIDE_FILES)}
        db_ids = {i for i in map(_identity, names) if i}
        if candidates & names or ids & db_ids:
            raise OutputError(f"{shown} is the ledger {shown_path(database)} or one of its files; choose another file")
    if st is not None and st.st_size >= len(SQLITE_HEADER) and _starts_with_sqlite_header(real):
        raise OutputError(f"{shown} is a SQLite database; refusing to overwrite it")
    return real


def _starts_with_sqlite_header(path: Path) -> bool:
    try:  # a regular file (checked above), opened without blocking in case it was swapped since
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except OSError:
        return False
    try:
        return stat.S_ISREG(os.fstat(fd).st_mode) and os.read(fd, len(SQLITE_HEADER)) == SQLITE_HEADER
    finally:
        os.close(fd)


@contextlib.contextmanager
def write_output(
    target: str | os.PathLike, *, protect: Iterable[str | os.PathLike] = (), replace: bool = True
) -> Iterator[IO[str]]:
    """A UTF-8 text handle whose content replaces `target` only once it is complete.

    The rules of `check_output_path` apply (checked before anything is written, and again just before
    the file is put in place). The new file has the mode of the file it replaces, without set-id
    or sticky bits, or that of a new file. `replace=False` never replaces a file: FileExistsError
    if `target` exists, before writing or (atomically) when the file is put in place.
    """
    protect = list(protect)
    real = check_output_path(target, protect=protect)
    if not replace and (os.path.lexists(target) or os.path.lexists(real)):
        raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), os.fspath(target))
    folder = real.parent
    fd, named = None, None
    with cleanup_on_signals():
        try:
            with _signals_deferred():  # a Ctrl-C between creating the file and noting its name would leak it
                fd, named = _anonymous_file(folder, Path(target))
                if fd is None:  # no O_TMPFILE here: a hidden named file, removed on the way out
                    try:
                        fd, name = _mkstemp(dir=folder, prefix=f".{real.name}.", suffix=".tmp")
                    except OSError as exc:
                        raise _about(exc, Path(target)) from None
                    named = Path(name)
            with open(fd, "w", encoding="utf-8", newline="", closefd=False) as handle:
                yield handle
                handle.flush()
                os.fsync(fd)  # the bytes reach the disk before the name points at them
            check_output_path(target, protect=protect)  # nothing swapped in meanwhile
            os.fchmod(fd, _replacing_mode(real))
            _put_in_place(fd, named, real, replace)
            named = None
        except OSError as exc:
            if exc.filename not in (None, str(named)):
                raise
            raise _about(exc, Path(target)) from None  # the temporary file's trouble is the target's
        finally:
            if fd is not None:
                os.close(fd)
            if named is not None:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(named)


def _anonymous_file(folder: Path, target: Path) -> tuple[int | None, Path | None]:
    flag = getattr(os, "O_TMPFILE", 0)
    if not flag or not os.path.isdir("/proc/self/fd"):  # naming the file later needs /proc
        return None, None
    try:
        return os.open(folder, flag | os.O_WRONLY | getattr(os, "O_CLOEXEC", 0), 0o600), None
    except OSError as exc:
        if exc.errno in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL, errno.ENOTSUP):
            return None, None  # a file system (or kernel) without O_TMPFILE
        raise _about(exc, target) from None


def _replacing_mode(real: Path) -> int:
    try:
        return os.stat(real).st_mode & 0o777  # never S_ISUID, S_ISGID or S_ISVTX
    except FileNotFoundError:
        return new_file_mode()


def _put_in_place(fd: int, named: Path | None, real: Path, replace: bool) -> None:
    if named is not None:  # the fallback: an ordinary rename over the target (or a link beside none)
        os.replace(named, real) if replace else link_no_replace(named, real)
        return
    try:
        if _link_anonymous(fd, real):  # no file there yet: the complete file appears at once
            return
    except FileExistsError:
        if not replace:
            raise
    # Replacing a file: name the complete file privately, then rename it over the target. Only a
    # SIGKILL between these two calls can leave the private name behind.
    for _ in range(100):
        temporary = real.with_name(f".{real.name}.{os.urandom(6).hex()}.tmp")
        try:
            if not _link_anonymous(fd, temporary):
                raise OSError(errno.EOPNOTSUPP, "cannot name the new file", str(real))
            break
        except FileExistsError:
            continue
    else:
        raise OSError(errno.EEXIST, "no free temporary name", str(real))
    try:
        os.replace(temporary, real) if replace else link_no_replace(temporary, real)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


# --- formats from file names ----------------------------------------------------------------------


def output_format(path: str | os.PathLike | None, given: str | None, extensions: Mapping[str, str], default: str) -> str:
    """The format to write: `given` (--format), else the one `path`'s extension names, else `default`
    when writing to stdout. A --format that contradicts the extension, or an extension that names
    no format when --format is not given, is an OutputError (option "format" or "output")."""
    if path is None:
        return given or default
    suffix = Path(os.fspath(path)).suffix.lower()
    implied = extensions.get(suffix)
    if given is None:
        if implied is None:
            known = ", ".join(sorted(extensions))
            what = f"the extension {suffix!r}" if suffix else "no extension"
            raise OutputError(f"{shown_path(path)} has {what}: name it {known}, or give --format")
        return implied
    if implied is not None and implied != given:
        raise OutputError(f"--format {given} contradicts {shown_path(path)}, a {implied} file name", "format")
    return given
