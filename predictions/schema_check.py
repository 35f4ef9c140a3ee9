"""Is the file's schema the ledger's? Every object in `sqlite_master`, checked by type and name.

The chain covers rows, not the schema, and a schema object can change a rule or the answer of a
query with every row intact: a rewritten `scored` view changes every score, a dropped or added
trigger a rule, a UNIQUE or partial index which writes are accepted, an index with a collation
this process does not have makes every write to its table fail, and a view named like one of
SQLite's table-valued functions (`json_each`, `pragma_table_info`) replaces it in every query.

So every object is one of:
* the ledger's own (made by the migrations): it must be there, exactly as created;
* sqlite-utils' bookkeeping table `_sqlite_migrations` and its index (their wording is sqlite-utils');
* SQLite's own tables (`sqlite_stat1`, `sqlite_stat4`, `sqlite_sequence`), by name and exact text;
* accepted user objects: a table or view whose name shadows nothing, any index on such a table,
  and a plain index on a ledger table (not UNIQUE, not partial, columns only, built-in collations);
* anything else is a finding, named by its type and name: among them every virtual table that is
  not the ledger's full-text index (Datasette searches the first FTS table over a table that it
  finds, so another could answer `_search` in its place) and any table named like a shadow table
  of a virtual table (`<name>_...`) that the migrations do not make.

Whether an index's *contents* match its definition is a question for SQLite's integrity check,
which `verify` runs as well (see chain.py).
"""

from __future__ import annotations

import functools
import re
import sqlite3

from .fts import FULL_TEXT, SHADOW_SUFFIXES
from .migrations import migrations

SchemaRow = tuple[str, str, str, "str | None"]  # type, name, table, the CREATE statement

_SQLITE_TABLES = {  # SQLite writes these itself (ANALYZE, AUTOINCREMENT), always in these words
    "sqlite_stat1": "CREATE TABLE sqlite_stat1(tbl,idx,stat)",
    "sqlite_stat4": "CREATE TABLE sqlite_stat4(tbl,idx,neq,nlt,ndlt,sample)",
    "sqlite_sequence": "CREATE TABLE sqlite_sequence(name,seq)",
}
_SQLITE_UTILS = {  # (type, name) -> its table; sqlite-utils' own wording, which its versions may change
    ("table", migrations.migrations_table): migrations.migrations_table,
    ("index", "idx__sqlite_migrations_migration_set_name"): migrations.migrations_table,
}
BUILTIN_COLLATIONS = frozenset({"BINARY", "NOCASE", "RTRIM"})


def _schema(conn: sqlite3.Connection) -> dict[tuple[str, str], SchemaRow]:
    rows = conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall()
    return {(row[0], row[1]): row for row in rows}


@functools.lru_cache(maxsize=1)
def _expected_schema() -> dict[tuple[str, str], SchemaRow]:
    """The schema these migrations make, read off a fresh database in memory. The steps only call
    `db.execute`, which a plain connection has, so sqlite-utils need not be imported for this."""
    conn = sqlite3.connect(":memory:")
    try:
        for step in migrations._migrations:
            step.fn(conn)
        return _schema(conn)
    finally:
        conn.close()


def ledger_tables() -> frozenset[str]:
    return frozenset(name for kind, name in _expected_schema() if kind == "table") | {migrations.migrations_table}


def schema_differences(conn: sqlite3.Connection) -> list[str]:
    """Every way the file's schema objects differ from the ledger's, as one message each."""
    expected, actual = _expected_schema(), _schema(conn)
    differences = []
    for key in sorted(expected.keys() - actual.keys()):
        differences.append(f"the {key[0]} {key[1]} is missing from the schema")
    for key in sorted(expected.keys() & actual.keys()):
        if actual[key] != expected[key]:
            differences.append(f"the {key[0]} {key[1]} differs from the one the migrations create")
    extra = sorted(actual.keys() - expected.keys())
    # Names that would stand in for SQLite's own come first: the pragma functions used below could
    # otherwise be such an object. A file holding one is reported and its indexes not looked into.
    shadows = [key for key in extra if _shadows(key, actual[key], modules=())]
    modules = frozenset() if shadows else _modules(conn)
    tables = {name for kind, name in actual if kind == "table"}
    virtual = {row[1] for row in actual.values() if _is_virtual(row)}
    for key in extra:
        problem = _extra_problem(conn, actual[key], tables, modules, look_inside=not shadows)
        problem = problem or _virtual_problem(actual[key], virtual, extra)
        if problem:
            differences.append(problem)
    return differences


def fulltext_intact(conn: sqlite3.Connection) -> dict[str, bool]:
    """For each full-text index, whether it and its shadow tables are exactly the migrations':
    only then does verify look into its contents."""
    expected, actual = _expected_schema(), _schema(conn)
    return {
        index: all(actual.get(key) == expected.get(key) for key in
                   [("table", index), *(("table", f"{index}_{suffix}") for suffix in SHADOW_SUFFIXES)])
        for index in FULL_TEXT
    }  # fmt: skip


_VIRTUAL = re.compile(r"\s*CREATE\s+VIRTUAL\s+TABLE\b", re.IGNORECASE)


def _is_virtual(row: SchemaRow) -> bool:
    return row[0] == "table" and isinstance(row[3], str) and bool(_VIRTUAL.match(row[3]))


def _virtual_problem(row: SchemaRow, virtual: set[str], extra: list[tuple[str, str]]) -> str | None:
    """A virtual table of the user's, or a table named as a virtual table's shadow table."""
    kind, name = row[0], row[1]
    if _is_virtual(row):
        return (f"the virtual table {name} is not part of the ledger's schema (a full-text index "
                "Datasette could search instead of the ledger's, or a module's table)")  # fmt: skip
    owner = next((v for v in sorted(virtual) if name.lower().startswith(v.lower() + "_")), None)
    if kind == "table" and owner is not None and ("table", owner) not in extra:  # else the owner is named
        return f"the table {name} is named like a shadow table of {owner} but is not one the migrations make"
    return None


def _shadows(key: tuple[str, str], row: SchemaRow, modules: frozenset[str] | tuple) -> str | None:
    kind, name = key
    lower = name.lower()
    if kind not in ("table", "view"):
        return None
    if lower.startswith("sqlite_"):
        if kind == "table" and _SQLITE_TABLES.get(name) == row[3]:
            return None
        return f"the {kind} {name} is named like one of SQLite's own tables but is not one"
    if lower.startswith("pragma_") or lower in modules:
        return f"the {kind} {name} stands in for SQLite's built-in {name}: queries using it would read this instead"
    return None


def _modules(conn: sqlite3.Connection) -> frozenset[str]:
    """Table-valued functions and virtual-table modules of this SQLite (json_each, fts5, ...)."""
    return frozenset(row[0].lower() for row in conn.execute("SELECT name FROM pragma_module_list"))


def _extra_problem(conn, row: SchemaRow, tables: set[str], modules, *, look_inside: bool) -> str | None:
    kind, name, table, sql = row
    if (kind, name) in _SQLITE_UTILS:
        if table != _SQLITE_UTILS[(kind, name)]:
            return f"the {kind} {name} is not sqlite-utils' own: it is on {table}"
        return None
    if kind == "trigger":
        return f"the trigger {name} is not part of the ledger's schema (it is on {table}: a trigger can refuse or rewrite writes)"
    if kind in ("table", "view"):
        return _shadows((kind, name), row, modules)
    if kind != "index":
        return f"the schema holds an object of unknown type {kind!r} named {name}"
    if table not in tables:
        return f"the index {name} is on {table}, which is not a table of this file"
    if table not in ledger_tables():
        return None  # a user's table: its indexes are the user's business
    if sql is None:
        return f"the index {name} on {table} is an automatic index of a constraint the migrations do not make"
    if not look_inside:
        return None
    return _index_problem(conn, name, table)


def _index_problem(conn: sqlite3.Connection, name: str, table: str) -> str | None:
    """Why a user's index on a ledger table can change a rule or an answer, or None if it cannot."""
    listed = [r for r in conn.execute("SELECT name, \"unique\", partial FROM pragma_index_list(?)", [table]) if r[0] == name]
    if not listed:
        return f"the index {name} on {table} cannot be read by SQLite"
    _, unique, partial = listed[0]
    where = f"the index {name} on {table}"
    if unique:
        return f"{where} is UNIQUE: it refuses writes the ledger accepts"
    if partial:
        return f"{where} is partial (it holds only some rows): only plain indexes of your own are accepted"
    for _, cid, _, _, collation, key in conn.execute("SELECT * FROM pragma_index_xinfo(?)", [name]):
        if not key:
            continue
        if cid == -2:
            return f"{where} indexes an expression: only plain indexes of columns are accepted"
        if collation is None or collation.upper() not in BUILTIN_COLLATIONS:
            return (f"{where} uses the collation {collation}, which is not one of SQLite's own: "
                    "writes fail or sort differently where it is not defined")  # fmt: skip
    return None
