"""verify on two connections (predictions/verify_parallel.py) says exactly what the sequential verify
says: the same report, problems in the same order, each heard once by on_problem in the same order,
on sound and damaged ledgers, in every mode a ledger is opened in. A commit from another connection
at the worst moment (between the two snapshots' starts) makes the second connection run nothing;
the thread is joined and its connection closed on every path, an interrupt and a damaged file
included."""

from __future__ import annotations

import shutil
import sqlite3
import threading
import urllib.parse
from pathlib import Path

import pytest

from predictions import Ledger, VerificationError, chain, chain_scan, sqlite_file, store, verify_parallel

from .conftest import TODAY
from .test_chain_scan import _edit, _sound
from .test_integrity import _tamper


@pytest.fixture(scope="module")
def sound(tmp_path_factory):
    db = tmp_path_factory.mktemp("parallel") / "sound.db"
    _sound(db)
    return db


@pytest.fixture
def copy(sound, tmp_path):
    db = tmp_path / "ledger.db"
    shutil.copy(sound, db)
    return db


class Watch:
    """Records each verify's SecondReader (did the thread run a job?) and its connection."""

    def __init__(self, monkeypatch):
        self.readers, self.connections = [], []
        original_init, original_close = verify_parallel.SecondReader.__init__, verify_parallel.SecondReader.close
        watch = self

        def init(reader, reopen):
            def opened():
                conn = reopen()
                watch.connections.append(conn)
                return conn

            original_init(reader, opened)
            watch.readers.append(reader)

        def close(reader):
            original_close(reader)
            watch.shared.append(reader.shared)

        self.shared: list[bool] = []
        monkeypatch.setattr(verify_parallel.SecondReader, "__init__", init)
        monkeypatch.setattr(verify_parallel.SecondReader, "close", close)

    def all_closed(self) -> bool:
        for conn in self.connections:
            try:
                conn.execute("SELECT 1")
            except sqlite3.ProgrammingError:
                continue
            return False
        return not any(t.name == "predictions-verify" for t in threading.enumerate())


@pytest.fixture
def watch(monkeypatch):
    return Watch(monkeypatch)


def _verify(db: Path, *, sequential: bool, read_only: bool = True, **kwargs):
    heard = []
    with Ledger(db, read_only=read_only) as ledger:
        if sequential:
            original = store.reopener
            store.reopener = lambda conn: None
        try:
            result = ledger.verify(on_problem=heard.append, **kwargs)
        finally:
            if sequential:
                store.reopener = original
    return result, heard


def _both(db: Path, watch: Watch, **kwargs):
    sequential = _verify(db, sequential=True, **kwargs)
    parallel = _verify(db, sequential=False, **kwargs)
    assert watch.shared and watch.shared[-1], "the second connection ran no step"
    assert watch.all_closed()
    return sequential, parallel


def test_a_sound_ledger_verifies_the_same_on_two_connections(copy, watch):
    for read_only in (True, False):
        (seq, seq_heard), (par, par_heard) = _both(copy, watch, read_only=read_only)
        assert seq.ok and par == seq and par_heard == seq_heard == []
    head = seq.head
    (seq, _), (par, _) = _both(copy, watch, contains=head)
    assert par == seq and par.contains_found is True


def _corrupt_index(conn):
    conn.execute("CREATE INDEX spare ON forecasts(source) WHERE 0")
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'spare'").fetchone()[0]
    conn.execute("PRAGMA writable_schema = ON")
    conn.execute("UPDATE sqlite_master SET rootpage = ? WHERE name = 'forecasts_source'", [root])
    conn.execute("DELETE FROM sqlite_master WHERE name = 'spare'")
    conn.execute("PRAGMA writable_schema = OFF")


# Damage found by each step: the file (an index missing rows, a CHECK broken), the chain and rows,
# the projections (outcome, forecasters, weight), the full-text index, several at once.
DAMAGE = {
    "index missing rows": [_corrupt_index],
    "a CHECK broken": ["UPDATE forecasts SET made_on = '2025-02-30' WHERE rowid = 3"],
    "a payload's row edited": ["UPDATE forecasts SET probability = 0.123 WHERE rowid = 2"],
    "a row deleted": ["DELETE FROM forecasts WHERE id = 'rec-0003'"],
    "outcome": ["UPDATE questions SET outcome = NULL, resolved_on = NULL WHERE outcome IS NOT NULL AND rowid < 20"],
    "forecasters": ["UPDATE questions SET forecasters = 7 WHERE rowid < 9"],
    "weight": ["UPDATE forecasts SET weight = 0.5 WHERE rowid IN (4, 5)"],
    "full-text": ["DELETE FROM forecasts_fts_data WHERE id > 10"],
    "all of them": ["UPDATE forecasts SET made_on = '2025-02-30' WHERE rowid = 3",
                    "UPDATE forecasts SET probability = 0.123 WHERE rowid = 2",
                    "UPDATE questions SET forecasters = 7 WHERE rowid < 9",
                    "UPDATE forecasts SET weight = 0.5 WHERE rowid IN (4, 5)",
                    "DELETE FROM forecasts_fts_data WHERE id > 10"],
}  # fmt: skip
# More problems than verify's limit of 20, most from the integrity check: the same 20 either way.
DAMAGE["over the limit"] = [_corrupt_index, *DAMAGE["all of them"]]


def _damage(db: Path, statements) -> None:
    _tamper(db, *statements, ignore_checks=True)


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_ledger_gets_the_sequential_report_word_for_word(copy, watch, damage):
    _damage(copy, DAMAGE[damage])
    (seq, seq_heard), (par, par_heard) = _both(copy, watch)
    assert not seq.ok, damage
    assert par == seq  # the same problems, in the same order, the same counts and head
    assert par_heard == seq_heard == list(dict.fromkeys(seq_heard))  # heard once each, in order
    messages = " | ".join(p.message for p in seq.problems)
    if damage == "all of them":  # every kind of step found something, so their order was tested
        for words in ("CHECK constraint failed", "sources forecast it", "scoring weight", "full-text index",
                      "in the table but"):  # fmt: skip
            assert words in messages, (words, messages)
    if damage == "over the limit":
        assert len(seq.problems) == 20  # the integrity check's 20 (its own limit): the rest dropped alike


def test_a_commit_between_the_two_snapshots_makes_verify_run_everything_on_its_own(copy, watch, monkeypatch):
    # Between verify's first read and the second connection's BEGIN another connection commits a
    # change that only steps of the second connection would see (a wrong scoring weight): the
    # second connection must run nothing, and the report be that of verify's own snapshot.
    def commit_meanwhile():
        _damage(copy, ["UPDATE forecasts SET weight = 0.5 WHERE rowid IN (4, 5)"])

    monkeypatch.setattr(verify_parallel, "_between_snapshots", commit_meanwhile)
    with Ledger(copy, read_only=True) as ledger:
        report = ledger.verify()
    assert watch.shared == [False]  # the fallback: every step ran on verify's connection
    assert report.ok  # verify's snapshot, before the commit
    monkeypatch.setattr(verify_parallel, "_between_snapshots", None)
    after, _ = _verify(copy, sequential=False)  # the commit is real: the next verify finds it
    assert watch.shared[-1] is True
    assert [p.message for p in after.problems if "scoring weight" in p.message]
    assert watch.all_closed()


def test_data_version_alone_catches_a_commit_that_changes_nothing_else_compared(copy, watch, monkeypatch):
    # The same commit, with the fingerprint comparison made blind: the proof is data_version.
    monkeypatch.setattr(verify_parallel, "_fingerprint", lambda conn: ("same",))
    monkeypatch.setattr(verify_parallel, "_between_snapshots",
                        lambda: _damage(copy, ["UPDATE forecasts SET weight = 0.5 WHERE rowid = 4"]))  # fmt: skip
    with Ledger(copy, read_only=True) as ledger:
        assert ledger.verify().ok
    assert watch.shared == [False]


def test_a_commit_before_verifys_snapshot_is_seen_by_both(copy, watch, monkeypatch):
    # Committed before verify's first read: both connections see it; data_version moved, so it
    # falls back all the same (never a wrong answer, only the sequential time).
    real_start = verify_parallel.SecondReader.start

    def start_then_commit(reader):
        ready = real_start(reader)
        _damage(copy, ["UPDATE forecasts SET weight = 0.5 WHERE rowid = 4"])
        return ready

    monkeypatch.setattr(verify_parallel.SecondReader, "start", start_then_commit)
    with Ledger(copy, read_only=True) as ledger:
        report = ledger.verify()
    assert watch.shared == [False]
    assert any("scoring weight" in p.message for p in report.problems)


def _uri(db: Path, query: str) -> str:
    return f"file:{urllib.parse.quote(str(db.absolute()))}{query}"


@pytest.mark.parametrize("query", ["", "?mode=ro", "?mode=ro&immutable=1"])
def test_each_mode_is_kept_on_the_second_connection(copy, watch, query):
    # A broken CHECK is found by the integrity check on a connection that may write and not on a
    # read-only one: the second connection, opened as the first, must give that mode's answer.
    _damage(copy, DAMAGE["a CHECK broken"])
    opened = []
    conn = sqlite_file._open(_uri(copy, query), uri=True, isolation_level=None)
    try:
        conn.execute("PRAGMA query_only = ON")
        sequential = chain.verify(conn)
        reopen = sqlite_file.reopener(conn)

        def recorded():
            other = reopen()
            opened.append(other.execute("PRAGMA database_list").fetchone()[2])
            return other

        conn.execute("BEGIN")
        parallel = chain.verify(conn, reopen=recorded)
        conn.execute("ROLLBACK")
    finally:
        conn.close()
    assert parallel == sequential and watch.shared == [True]
    assert opened == [str(copy.absolute())]
    checked = any("CHECK constraint failed" in p.message for p in sequential.problems)
    assert checked == (query == "")  # the modes differ here, and each kept its own answer


def test_no_second_connection_where_the_ledger_was_not_opened_by_the_library(copy, watch):
    assert sqlite_file.reopener(sqlite3.connect(":memory:")) is None
    conn = sqlite3.connect(copy)  # a connection handed in by a caller: verified as before, alone
    try:
        assert chain.verify(conn).ok
    finally:
        conn.close()
    assert watch.readers == []


def test_a_second_connection_that_cannot_be_opened_means_the_sequential_verify(copy, watch, monkeypatch):
    def refuse(conn):
        def reopen():
            raise sqlite3.OperationalError("unable to open database file")

        return reopen

    monkeypatch.setattr(store, "reopener", refuse)
    _damage(copy, DAMAGE["weight"])
    report, _ = _verify(copy, sequential=False)
    seq, _ = _verify(copy, sequential=True)
    assert report == seq and watch.shared == [False] and watch.all_closed()


def test_a_step_that_fails_in_the_thread_is_the_same_finding(copy, watch, monkeypatch):
    def broken(conn):
        raise sqlite3.DatabaseError("database disk image is malformed")

    monkeypatch.setitem(verify_parallel.JOBS, "integrity", broken)
    monkeypatch.setitem(verify_parallel.JOBS, "fulltext", broken)
    (seq, seq_heard), (par, par_heard) = _both(copy, watch)
    assert par == seq and par_heard == seq_heard
    assert [str(p) for p in seq.problems] == [
        "ledger: the file could not be read (database disk image is malformed): the file is damaged",
        "ledger: the full-text index could not be read (database disk image is malformed): the file is damaged",
    ]


def test_a_damaged_page_gives_the_sequential_findings(copy, watch):
    # Overwrite the middle of a forecasts page: the integrity check (in the thread) and the row
    # reads both meet it.
    with sqlite3.connect(copy) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'forecasts'").fetchone()[0]
    conn.close()
    with open(copy, "r+b") as f:
        f.seek((root - 1) * page_size + 8)
        f.write(b"\xff" * 64)
    (seq, seq_heard), (par, par_heard) = _both(copy, watch)
    assert not seq.ok and par == seq and par_heard == seq_heard


def test_an_interrupt_joins_the_thread_and_closes_its_connection(copy, watch, monkeypatch):
    def interrupted(conn, contains):
        raise KeyboardInterrupt

    monkeypatch.setattr(chain_scan, "rows_agree", interrupted)
    with Ledger(copy, read_only=True) as ledger:
        with pytest.raises(KeyboardInterrupt):
            ledger.verify()
        assert not ledger.conn.in_transaction  # the snapshot was ended too
    assert len(watch.readers) == 1 and watch.all_closed()


def test_text_that_is_not_utf8_reruns_alone_with_the_same_report(copy, watch):
    _damage(copy, ["UPDATE forecasts SET claim = CAST(X'4761646765747320ff' AS TEXT) WHERE rowid = 2"])
    (seq, seq_heard), (par, par_heard) = _verify(copy, sequential=True), _verify(copy, sequential=False)
    assert not seq.ok and par == seq and par_heard == seq_heard
    assert watch.all_closed()


def test_the_installed_command_verifies_on_two_connections(copy, tmp_path):
    import subprocess
    import sys

    script = Path(sys.executable).with_name("predictions")
    _damage(copy, DAMAGE["all of them"])
    done = subprocess.run([str(script), "--db", str(copy), "verify", "--json"], capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert done.returncode == 1 and "Traceback" not in done.stderr
    seq, _ = _verify(copy, sequential=True)
    import json

    assert json.loads(done.stdout) == seq.to_json()


def test_a_report_verifies_on_two_connections_and_refuses_a_damaged_ledger_the_same(copy, watch):
    with Ledger(copy, read_only=True) as ledger:
        report = ledger.report("2026", today=TODAY, min_n=1)
    assert report.verified and watch.shared and watch.shared[-1], "the report's verification used one connection"
    assert report.chain_head == _verify(copy, sequential=True)[0].head and watch.all_closed()
    _damage(copy, DAMAGE["a payload's row edited"])
    first = _verify(copy, sequential=True)[0].problems[0]
    with Ledger(copy, read_only=True) as ledger, pytest.raises(VerificationError) as refused:
        ledger.report("2026", today=TODAY, min_n=1)
    assert str(first) in str(refused.value) and watch.all_closed()
