"""The full-text index (migration m005): FTS5 tables that Datasette finds by itself.

Each is an external-content table named as sqlite-utils names them (`<table>_fts`, content=the
table), so Datasette's `?_search=` works on `forecasts` (claim, quote) and `questions` (question,
resolution_criteria) with no configuration. The index holds no copy of the text, only the words.

The tool keeps it current in the transaction of every write (`writer.Writer.refresh`): at the end
of the write, the rows it added are indexed in one statement (`index_since`); a write into an
empty ledger (a bulk import, a new ledger's first add, `seed --rebuild`) builds it in one pass
instead (`rebuild`). Indexed columns never change (the append-only triggers refuse it), so no
update or delete is ever needed. One statement per write, not one per import batch: simpler, and
cheaper (in memory, 0.22 s against 0.27 s of CPU for 60,000 rows in batches of 2,000).

`verify` checks the index against its content (`problems`) with FTS5's own integrity check, which
is a write statement; so it is run on a copy of the index in the connection's temporary
database, over a view of the content, and nothing is written to the ledger's file (a reader's
connection, even one of a read-only file, can check it).
"""

from __future__ import annotations

import contextlib
import sqlite3
from typing import Iterator

from .errors import LedgerError

# index name -> (content table, indexed columns). m005 creates exactly these (a test compares).
FULL_TEXT: dict[str, tuple[str, tuple[str, ...]]] = {
    "forecasts_fts": ("forecasts", ("claim", "quote")),
    "questions_fts": ("questions", ("question", "resolution_criteria")),
}
# The shadow tables FTS5 makes for an external-content table (no `_content`: the table is that).
SHADOW_SUFFIXES = ("data", "idx", "docsize", "config")
_CHECK = "predictions_fts_check"  # the temporary copy verify checks (in `temp`, rolled back after)


def last_rowids(conn: sqlite3.Connection) -> dict[str, int]:
    """The last rowid of each indexed table: a write indexes the rows after these."""
    return {
        index: conn.execute(f"SELECT coalesce(max(rowid), 0) FROM {table}").fetchone()[0]
        for index, (table, _) in FULL_TEXT.items()
    }


def index_since(conn: sqlite3.Connection, last: dict[str, int]) -> None:
    """Index the rows added after `last` (rowids only grow: rows are never deleted)."""
    for index, (table, columns) in FULL_TEXT.items():
        names = ", ".join(columns)
        with _damaged(index):
            conn.execute(
                f"INSERT INTO {index} (rowid, {names}) SELECT rowid, {names} FROM {table} WHERE rowid > ?",
                [last[index]],
            )


def rebuild(conn: sqlite3.Connection) -> None:
    """Build every index afresh from its table: one sorted pass, far cheaper than row by row."""
    for index in FULL_TEXT:
        with _damaged(index):
            conn.execute(f"INSERT INTO {index} ({index}) VALUES ('rebuild')")


def rebuild_sql(index: str) -> str:
    """What rebuilds an index from its table (the index is derived: nothing is lost)."""
    return f"INSERT INTO {index}({index}) VALUES ('rebuild')"


@contextlib.contextmanager
def _damaged(index: str) -> Iterator[None]:
    """A damaged index refuses the write in one line (FTS5 reports some damage as a constraint
    failure, and SQLite then rolls the whole transaction back: nothing is written either way)."""
    try:
        yield
    except sqlite3.OperationalError:
        raise  # locked, full, read-only: sqlite_file.sqlite_errors words these
    except sqlite3.DatabaseError as exc:
        raise LedgerError(
            f"the full-text index {index} is damaged ({exc}); nothing was written. Rebuild it with "
            f"{rebuild_sql(index)} (`predictions verify` checks it)"
        ) from None


def problems(conn: sqlite3.Connection, schema_ok: dict[str, bool]) -> Iterator[str]:
    """One message per index that does not match its table. `schema_ok[index]`: whether the index
    and its shadow tables are exactly the migrations' (otherwise the schema check has said so,
    and their contents are not looked into)."""
    for index, (table, columns) in FULL_TEXT.items():
        if not schema_ok.get(index):
            continue
        message = _check(conn, index, table, columns)
        if message:
            yield message


def _check(conn: sqlite3.Connection, index: str, table: str, columns: tuple[str, ...]) -> str | None:
    query_only = conn.execute("PRAGMA query_only").fetchone()[0]
    conn.execute("SAVEPOINT predictions_fts_check")
    try:
        conn.execute("PRAGMA query_only = OFF")  # for temp only: every statement below names its schema
        conn.execute(f"CREATE VIRTUAL TABLE temp.{_CHECK} USING fts5({', '.join(columns)}, content='{_CHECK}_source')")
        conn.execute(f"CREATE VIEW temp.{_CHECK}_source AS SELECT rowid AS rowid, {', '.join(columns)} FROM main.{table}")
        fresh = conn.execute(f"SELECT k, v FROM temp.{_CHECK}_config ORDER BY k").fetchall()
        if conn.execute(f"SELECT k, v FROM main.{index}_config ORDER BY k").fetchall() != fresh:
            return f"the full-text index {index} has settings the migrations do not make ({index}_config was changed)"
        for suffix in ("data", "idx", "docsize"):
            conn.execute(f"DELETE FROM temp.{_CHECK}_{suffix}")
            conn.execute(f"INSERT INTO temp.{_CHECK}_{suffix} SELECT * FROM main.{index}_{suffix}")
        try:  # rank 1: also compare the index with the content (by default only with itself)
            conn.execute(f"INSERT INTO temp.{_CHECK} ({_CHECK}, rank) VALUES ('integrity-check', 1)")
        except sqlite3.DatabaseError as exc:
            if "malformed" not in str(exc) and "corrupt" not in str(exc):
                raise
            return (f"the full-text index {index} does not match the {table} table (a search would find "
                    f"the wrong rows); rebuild it: {rebuild_sql(index)}")  # fmt: skip
        return None
    finally:
        conn.execute("ROLLBACK TO predictions_fts_check")
        conn.execute("RELEASE predictions_fts_check")
        conn.execute(f"PRAGMA query_only = {int(query_only)}")
