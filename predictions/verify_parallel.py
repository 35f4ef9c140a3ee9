"""verify's pure-SQL steps, and running them on a second connection while verify's own does the one pass.

The file's integrity check, the projections' three queries and the full-text check call no Python
function: SQLite releases the GIL while it steps them, so on a second connection in a thread they
use a second CPU while verify's connection reads the chain (`chain_scan.rows_agree`). Their rows
(and the error that stopped them, if any) are then replayed, in the steps' own order, to the same
code that words them, so the report, its order and what `on_problem` hears are what the
sequential verify gives: each step's findings come from the same rows either way.

Both connections must read the same state of the file. The proof is `PRAGMA data_version`, which
changes, for one connection, when any OTHER connection has committed since that connection's last
read, and which inside a read transaction is frozen at the state it reads:

    1. the second connection reads data_version (d0), outside any transaction;
    2. verify's connection makes its first read: its snapshot, the state at that moment;
    3. the second connection BEGINs and reads data_version again (d1): its snapshot.

If d1 == d0, nobody committed between 1 and 3, so the states read at 2 and 3 are one. Else (or if
anything else differs: the file's name, journal mode, page count, schema version, last entry) the
second connection runs nothing, and verify runs every step on its own connection, as it always
did. A connection opened as immutable takes no locks and cannot see commits (its data_version never
moves): two such read the same bytes the one would (docs/integrity.md says what a writer running
meanwhile can do to an immutable read).

The second connection is opened exactly as the ledger's (`sqlite_file.reopener`: the same file
name or URI, so the same read-only or immutable mode, which decides whether the integrity check
evaluates every CHECK); where there is none (a connection handed in by a caller, `:memory:`), or
it cannot be opened, verify runs sequentially. The thread opens, uses and closes that connection
itself; `close` interrupts and joins it on every path, KeyboardInterrupt included (the thread is a
daemon and, interrupted, stops at its next statement).
"""

from __future__ import annotations

import sqlite3
import threading
from typing import Any, Callable, Iterable, Iterator

from .chain import INTEGRITY_MESSAGES
from .scoring import pair_weights_sql

# Each step's rows in the order the sequential verify reads them (a job: a function of a connection).
OUTCOME_MISMATCH_SQL = """WITH latest AS MATERIALIZED (
       SELECT question_id, outcome, resolved_on, max(id) FROM resolutions GROUP BY question_id)
   SELECT q.id, q.outcome, q.resolved_on, r.outcome, r.resolved_on
   FROM questions q LEFT JOIN latest r ON r.question_id = q.id
   WHERE q.outcome IS NOT r.outcome OR q.resolved_on IS NOT r.resolved_on LIMIT 5"""

FORECASTERS_MISMATCH_SQL = """
    WITH c AS MATERIALIZED (SELECT question_id, count(DISTINCT source) AS n FROM forecasts GROUP BY question_id)
    SELECT q.id, q.forecasters, c.n FROM questions q LEFT JOIN c ON c.question_id = q.id
    WHERE q.forecasters IS NOT c.n LIMIT 5"""


WEIGHTS_MISMATCH_SQL = (
    f"WITH w AS MATERIALIZED ({pair_weights_sql()}) "
    "SELECT f.id, f.weight, w.weight FROM forecasts f JOIN w ON w.id = f.id WHERE f.weight IS NOT w.weight LIMIT 5"
)
INTEGRITY_SQL = f"PRAGMA integrity_check({INTEGRITY_MESSAGES})"


def _fulltext(conn: sqlite3.Connection) -> Iterator[str]:
    from . import fts
    from .schema_check import fulltext_intact

    return fts.problems(conn, fulltext_intact(conn))


# Longest first (at 100k: 0.84, 0.36, 0.21, 0.12, 0.10 CPU s), the order both sides take them in,
# so that the two finish close together; the steps then replay them in their own order.
JOBS: dict[str, Callable[[sqlite3.Connection], Iterable[Any]]] = {
    "integrity": lambda conn: conn.execute(INTEGRITY_SQL),
    "weights": lambda conn: conn.execute(WEIGHTS_MISMATCH_SQL),
    "fulltext": _fulltext,
    "outcome": lambda conn: conn.execute(OUTCOME_MISMATCH_SQL),
    "forecasters": lambda conn: conn.execute(FORECASTERS_MISMATCH_SQL),
}


def _collected(job: Callable[[sqlite3.Connection], Iterable[Any]], conn: sqlite3.Connection):
    """The rows a job gives, and the exception that stopped it (None if it ended)."""
    rows: list[Any] = []
    try:
        for row in job(conn):
            rows.append(row)
    except Exception as exc:  # noqa: BLE001 - replayed where the sequential step would have raised it
        return rows, exc
    return rows, None


def _replayed(rows: list[Any], exc: BaseException | None) -> Iterator[Any]:
    yield from rows
    if exc is not None:
        raise exc


def _fingerprint(conn: sqlite3.Connection) -> tuple | None:
    """What two reads of the same state of the same file agree on (None: it could not be read)."""
    try:
        return (
            tuple(row[2] for row in conn.execute("PRAGMA database_list") if row[1] == "main"),
            conn.execute("PRAGMA journal_mode").fetchone(),  # 'delete' for a WAL file read as immutable
            conn.execute("PRAGMA schema_version").fetchone(),
            conn.execute("PRAGMA page_count").fetchone(),
            conn.execute("PRAGMA freelist_count").fetchone(),
            conn.execute("SELECT seq, CAST(hash AS BLOB) FROM entries ORDER BY seq DESC LIMIT 1").fetchone(),
        )
    except (sqlite3.Error, UnicodeError):
        return None


class Steps:
    """Runs each step of verify; a step that SQLite cannot finish is a finding, not a crash."""

    def __init__(self, report):
        self.report = report

    def run(self, what: str, step: Callable[[], None]) -> None:
        try:
            step()
        except sqlite3.OperationalError as exc:
            if "Could not decode" in str(exc):
                raise  # text that is not UTF-8: verify reads the file again, keeping such bytes
            self.report(None, None, f"{what} could not be read ({exc}): the file is damaged")
        except sqlite3.DatabaseError as exc:
            self.report(None, None, f"{what} could not be read ({exc}): the file is damaged")


# Called in the thread between verify's first read and the second connection's BEGIN: a test
# commits from a third connection here, the worst moment.
_between_snapshots: Callable[[], None] | None = None


class SecondReader:
    """A thread with its own connection that runs JOBS in verify's snapshot, or none at all."""

    def __init__(self, reopen: Callable[[], sqlite3.Connection]):
        self._reopen = reopen
        self._lock = threading.Condition()
        self._pending = list(JOBS)  # taken from the front by whichever side is free
        self._results: dict[str, tuple[list[Any], BaseException | None]] = {}
        self._mine: set[str] = set()  # the jobs the thread took
        self._state = "opening"  # -> "ready" (d0 read) -> "go" -> "same" | "apart"; or "failed"
        self._mark: tuple | None = None  # verify's connection's fingerprint, given by go()
        self._stopped = False
        self._conn: sqlite3.Connection | None = None
        self._thread = threading.Thread(target=self._run, name="predictions-verify", daemon=True)

    # --- the verify side --------------------------------------------------------------------

    def start(self) -> bool:
        """Open the second connection and read d0; False if that could not be done."""
        self._thread.start()
        with self._lock:
            self._lock.wait_for(lambda: self._state != "opening")
            return self._state == "ready"

    def go(self, conn: sqlite3.Connection) -> None:
        """Called just after verify's connection has made its first read (its snapshot)."""
        mark = _fingerprint(conn)
        with self._lock:
            self._mark = mark
            self._state = "go"
            self._lock.notify_all()

    def result(self, name: str, conn: sqlite3.Connection) -> Iterator[Any]:
        """The job's rows (and the error that stopped it), replayed. Until they are there, verify's
        own connection `conn` runs the next job nobody has taken (this one, or another the thread
        would otherwise run after the one it is on), and waits only when none is left."""
        with self._lock:  # once the thread has decided, it has taken its first job if it takes any
            self._lock.wait_for(lambda: self._state in ("same", "apart"))
        while True:
            with self._lock:
                if name in self._results:
                    return _replayed(*self._results[name])
                if not self._pending:  # the thread is on it
                    self._lock.wait_for(lambda: name in self._results)
                    return _replayed(*self._results[name])
                job = self._pending.pop(0)
            outcome = _collected(JOBS[job], conn)
            with self._lock:
                self._results[job] = outcome

    @property
    def shared(self) -> bool:
        """Whether the thread ran any job (the two snapshots were shown to be one)."""
        return bool(self._mine)

    def close(self) -> None:
        with self._lock:
            self._stopped = True
            self._lock.notify_all()
            conn = self._conn
        if conn is not None:
            conn.interrupt()  # safe from another thread; the thread stops at its next statement
        self._thread.join()

    # --- the thread -------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._conn = conn = self._reopen()
        except Exception:  # noqa: BLE001 - no second connection: verify runs sequentially
            with self._lock:
                self._state = "failed"
                self._lock.notify_all()
            return
        try:
            self._serve(conn)
        finally:
            with self._lock:
                self._conn = None
            conn.close()

    def _serve(self, conn: sqlite3.Connection) -> None:
        try:
            d0 = conn.execute("PRAGMA data_version").fetchone()[0]
        except sqlite3.Error:
            d0 = None
        with self._lock:
            self._state = "ready" if d0 is not None else "failed"
            self._lock.notify_all()
            self._lock.wait_for(lambda: self._state == "go" or self._stopped)
            if self._stopped or d0 is None:
                self._state = "apart"
                return
        same = False
        try:
            if _between_snapshots is not None:
                _between_snapshots()
            conn.execute("BEGIN")
            d1 = conn.execute("PRAGMA data_version").fetchone()[0]
            same = d1 == d0 and self._mark is not None and _fingerprint(conn) == self._mark
        except sqlite3.Error:
            pass
        finally:
            with self._lock:
                self._state = "same" if same else "apart"
                name = self._take() if same else None  # in the same breath: the integrity check is ours
                self._lock.notify_all()
        while name is not None:
            outcome = _collected(JOBS[name], conn)
            with self._lock:
                self._results[name] = outcome
                name = self._take()
                self._lock.notify_all()
        if conn.in_transaction:
            try:
                conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass  # interrupted: closing the connection ends the transaction

    def _take(self) -> str | None:  # under the lock
        if self._stopped or not self._pending:
            return None
        name = self._pending.pop(0)
        self._mine.add(name)
        return name
