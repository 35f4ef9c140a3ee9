"""The import's validating thread (pipeline.Validating) changes nothing but when validation runs.

With importing.PIPELINE on, each batch after the first is validated in a second thread while the
batch before it is written. These tests run the same imports with it on and off and compare
what matters: the rows and chain (so the head), every refusal's message and line, the database
unchanged after one, the re-import rules, the create-race replay; and that an exception or a
KeyboardInterrupt leaves no thread running and the process's settings as they were.
"""

from __future__ import annotations

import gc
import json
import shutil
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from predictions import Ledger, files, importing, pipeline, store, writer
from predictions.errors import ValidationError
from predictions.io import read_records

from .conftest import TODAY, forecast_fields
from .test_import_speed_paths import RECORDED_AT, _contents, _records

BATCH = 20  # _records(130): batches of 20, the last one of 10
PLATFORMS = Path(__file__).parent / "fixtures" / "platforms"


def _validating_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("predictions-validate")]


@pytest.fixture(autouse=True)
def small_batches(monkeypatch):
    monkeypatch.setattr(importing, "BATCH_SIZE", BATCH)


@pytest.fixture(params=[True, False], ids=["thread", "one-thread"])
def threaded(request, monkeypatch):
    monkeypatch.setattr(importing, "PIPELINE", request.param)
    return request.param


def _pairs(records, start=1, seen=None):
    for k, record in enumerate(records, start=start):
        if seen is not None:
            seen.append(bool(_validating_threads()))
        yield f"in.jsonl:{k}", record


def _import(db, records, *, start=1, seen=None, **kwargs):
    with Ledger(db) as ledger:
        return ledger.import_records(_pairs(records, start, seen), recorded_at=RECORDED_AT, today=TODAY, **kwargs)


def _both(monkeypatch, run):
    """run(tag) with the thread on, then off: both results."""
    out = []
    for on in (True, False):
        monkeypatch.setattr(importing, "PIPELINE", on)
        out.append(run("on" if on else "off"))
    return out


def test_the_thread_runs_and_writes_the_same_rows_and_head(tmp_path, monkeypatch):
    records = _records(130)

    def run(tag):
        seen: list[bool] = []
        first = _import(tmp_path / f"{tag}.db", records[:70], seen=seen)  # a bulk load into a new ledger
        second = _import(tmp_path / f"{tag}.db", records[70:], start=71, seen=seen)  # into a ledger of 70
        return first.head, second, seen, _contents(tmp_path / f"{tag}.db")

    (head_on, summary_on, seen_on, rows_on), (head_off, summary_off, seen_off, rows_off) = _both(monkeypatch, run)
    assert any(seen_on) and not any(seen_off)  # the thread did run (and only where it should)
    assert (head_on, summary_on) == (head_off, summary_off)
    assert rows_on == rows_off
    assert not _validating_threads()
    with Ledger(tmp_path / "on.db") as ledger:
        assert ledger.verify().ok


def test_the_first_batch_alone_starts_no_thread(tmp_path, threaded):
    seen: list[bool] = []
    _import(tmp_path / "l.db", _records(BATCH - 1), seen=seen)
    assert seen and not any(seen)


@pytest.mark.parametrize("line", [5, BATCH + 3, 2 * BATCH, 121, 130])  # batch 1, 2 (its end), the last
@pytest.mark.parametrize("into", ["new", "existing"])
def test_a_refusal_in_any_batch_names_its_line_and_writes_nothing(tmp_path, monkeypatch, line, into):
    records = _records(130)
    records[line - 1] = {**records[line - 1], "probability": 1.5}

    def run(tag):
        db = tmp_path / f"{tag}.db"
        if into == "existing":
            with Ledger(db) as ledger:
                ledger.add(**forecast_fields(id="already-here"))
        before = _contents(db) if into == "existing" else None
        with pytest.raises(ValidationError) as caught:
            _import(db, records)
        assert (_contents(db) if into == "existing" else db.exists()) == (before if into == "existing" else False)
        return str(caught.value)

    on, off = _both(monkeypatch, run)
    assert on == off == f"in.jsonl:{line}: field probability: 1.5 is outside [0, 1]"
    assert not _validating_threads()


def test_the_first_refusal_wins_a_database_one_before_a_later_batchs_validation(tmp_path, monkeypatch):
    """Batch 2 repeats an id of batch 1 (refused by the database, explained by _explain_refusal)
    while batch 3, already validated by the thread, holds a bad value: batch 2's refusal is the one."""
    records = _records(130)
    records[BATCH + 4] = {**records[BATCH + 4], "id": records[2]["id"]}
    records[2 * BATCH + 1] = {**records[2 * BATCH + 1], "made_on": "not a date"}

    def run(tag):
        with pytest.raises(ValidationError) as caught:
            _import(tmp_path / f"{tag}.db", records)
        assert not (tmp_path / f"{tag}.db").exists()
        return str(caught.value)

    on, off = _both(monkeypatch, run)
    assert on == off == f"in.jsonl:{BATCH + 5}: field id: 'rec-0002' is already in the ledger"  # an earlier batch's


def test_an_integrity_error_of_the_last_batch_is_explained_for_that_batch(tmp_path, monkeypatch):
    records = _records(130)
    records[-1] = {**records[-1], "id": records[BATCH + 1]["id"]}
    stored = tmp_path / "stored.db"
    _import(stored, [records[BATCH + 1]])

    def run(tag):
        db = tmp_path / f"{tag}.db"
        shutil.copyfile(stored, db)
        before = _contents(db)
        with pytest.raises(ValidationError) as caught:
            _import(db, records[BATCH + 2 :], start=BATCH + 3)
        assert _contents(db) == before
        return str(caught.value)

    on, off = _both(monkeypatch, run)
    assert on == off == f"in.jsonl:130: field id: {records[-1]['id']!r} is already in the ledger"


def test_an_unreadable_line_after_a_batchs_refusal_is_not_the_one_reported(tmp_path, monkeypatch):
    """The file is read a batch ahead: a line it cannot parse in batch 3 must not mask batch 2's refusal,
    and reported alone it names its line."""
    lines = [json.dumps(r) for r in _records(130)]
    bad_value = lines[:]
    bad_value[BATCH + 6] = json.dumps({**_records(130)[BATCH + 6], "claim": ""})
    for variant in (bad_value, lines):
        variant[2 * BATCH + 4] = '{"id": "broken",'
    for name, content in (("both.jsonl", bad_value), ("parse.jsonl", lines)):
        (tmp_path / name).write_text("\n".join(content) + "\n")

    def run(tag):
        messages = []
        for name in ("both.jsonl", "parse.jsonl"):
            with Ledger(tmp_path / f"{tag}-{name}.db") as ledger, pytest.raises(ValidationError) as caught:
                ledger.import_records(read_records(tmp_path / name), recorded_at=RECORDED_AT, today=TODAY)
            assert not (tmp_path / f"{tag}-{name}.db").exists()
            messages.append(str(caught.value))
        return messages

    on, off = _both(monkeypatch, run)
    assert on == off
    assert on[0].endswith(f"both.jsonl:{BATCH + 7}: field claim: must not be empty")
    assert f"parse.jsonl:{2 * BATCH + 5}:" in on[1] and "both.jsonl" not in on[1]


class _Interrupt:
    """Writer.write that raises KeyboardInterrupt in its `n`th batch, once the next batch is handed
    to the thread, so that it arrives while the thread validates."""

    def __init__(self, n):
        self.n, self.calls, self.threads = n, 0, []

    def __call__(self, real):
        def write(this, items, statements_start=None):
            self.calls += 1
            if self.calls == self.n:
                statements_start()
                self.threads = _validating_threads()
                raise KeyboardInterrupt
            return real(this, items, statements_start)

        return write


@pytest.mark.parametrize("into", ["new", "existing"])
def test_a_keyboard_interrupt_mid_import_stops_the_thread_and_writes_nothing(tmp_path, monkeypatch, into):
    db = tmp_path / "l.db"
    if into == "existing":
        _import(db, _records(130)[:3])
    before = _contents(db) if into == "existing" else None
    interval, threshold = sys.getswitchinterval(), gc.get_threshold()
    interrupt = _Interrupt(3)
    monkeypatch.setattr(writer.Writer, "write", interrupt(writer.Writer.write))
    with pytest.raises(KeyboardInterrupt):
        _import(db, [{**r, "id": f"new-{k}"} for k, r in enumerate(_records(130))])
    assert interrupt.threads  # it was running when the interrupt came
    assert not _validating_threads()  # and is not any more
    assert (sys.getswitchinterval(), gc.get_threshold()) == (interval, threshold)
    assert (_contents(db) if into == "existing" else db.exists()) == (before if into == "existing" else False)


def test_an_exception_in_the_thread_stops_the_import_and_the_thread(tmp_path, monkeypatch):
    real = importing._validated
    calls = []

    def failing(where, record, *args, **kwargs):
        calls.append(threading.current_thread().name)
        if where == f"in.jsonl:{2 * BATCH + 3}":
            raise RuntimeError("unforeseen")
        return real(where, record, *args, **kwargs)

    monkeypatch.setattr(importing, "_validated", failing)
    with pytest.raises(RuntimeError, match="unforeseen"):
        _import(tmp_path / "l.db", _records(130))
    assert any(name.startswith("predictions-validate") for name in calls)
    assert not _validating_threads() and not (tmp_path / "l.db").exists()


@pytest.mark.parametrize("refused", [False, True])
def test_the_switch_interval_is_lowered_while_the_thread_runs_and_restored(tmp_path, threaded, refused):
    records = _records(130)
    if refused:
        records[-1] = {**records[-1], "deadline": "never"}
    before, during = sys.getswitchinterval(), []

    def watched():
        for pair in _pairs(records):
            during.append((sys.getswitchinterval(), gc.get_threshold()[0]))
            yield pair

    with Ledger(tmp_path / "l.db") as ledger:
        if refused:
            with pytest.raises(ValidationError):
                ledger.import_records(watched(), recorded_at=RECORDED_AT, today=TODAY)
        else:
            ledger.import_records(watched(), recorded_at=RECORDED_AT, today=TODAY)
    expected = min(pipeline.SWITCH_INTERVAL, before) if threaded else before
    assert {interval for interval, _ in during} == {expected}
    assert {threshold for _, threshold in during} == {importing.IMPORT_GC_THRESHOLD}
    assert sys.getswitchinterval() == before


def test_a_switch_interval_already_lower_is_kept(tmp_path, threaded):
    before = sys.getswitchinterval()
    sys.setswitchinterval(pipeline.SWITCH_INTERVAL / 2)
    try:
        seen = []

        def watched():
            for pair in _pairs(_records(60)):
                seen.append(sys.getswitchinterval())
                yield pair

        with Ledger(tmp_path / "l.db") as ledger:
            ledger.import_records(watched(), recorded_at=RECORDED_AT, today=TODAY)
        assert set(seen) == {pipeline.SWITCH_INTERVAL / 2}
        assert sys.getswitchinterval() == pipeline.SWITCH_INTERVAL / 2
    finally:
        sys.setswitchinterval(before)


@pytest.mark.parametrize("platform, older, newer", [("fatebook", "fatebook.csv", "fatebook-newer.csv"),
                                                    ("manifold", "manifold.json", "manifold-newer.json")])  # fmt: skip
def test_a_platform_reimport_is_the_same_with_the_thread(tmp_path, monkeypatch, platform, older, newer):
    monkeypatch.setattr(importing, "BATCH_SIZE", 2)  # the fixtures hold a few dozen forecasts
    monkeypatch.setattr(store, "utc_now", lambda: RECORDED_AT)  # the same stamp in both runs

    def run(tag):
        db = tmp_path / f"{tag}.db"
        with Ledger(db) as ledger:
            first = ledger.import_platform(platform, PLATFORMS / older, today=TODAY)
            second = ledger.import_platform(platform, PLATFORMS / newer, today=TODAY)
            third = ledger.import_platform(platform, PLATFORMS / newer, today=TODAY)
        rows = _contents(db)
        return first.forecasts, second, third, rows

    on, off = _both(monkeypatch, run)
    assert on[0] > 2 and (on[1].corrections or on[1].differs_total or on[1].skipped_existing)
    assert [s.to_json() for s in on[1:3]] == [s.to_json() for s in off[1:3]]
    assert on[3] == off[3]


def test_skip_existing_is_the_same_with_the_thread(tmp_path, monkeypatch):
    records = _records(130)

    def run(tag):
        db = tmp_path / f"{tag}.db"
        _import(db, records[:50])
        summary = _import(db, records, skip_existing=True)
        return summary, _contents(db)

    on, off = _both(monkeypatch, run)
    assert on == off and on[0].skipped_existing == 50


def test_the_create_race_replay_reads_the_other_ledger_in_its_own_thread(db_path, monkeypatch, threaded):
    """The replay's records come from another ledger's connection (`export_records`), which only
    the thread that opened it may use: the records are read in the writing thread."""
    real = files.link_no_replace
    raced = []

    def late(source, target):
        if not raced:
            raced.append(target)
            with Ledger(target) as other:
                other.add(**forecast_fields(id="theirs", claim="Theirs"))
        real(source, target)

    monkeypatch.setattr(files, "link_no_replace", late)
    records = [(f"in:{k}", {**r, "id": f"mine-{k}"}) for k, r in enumerate(_records(130))]
    with Ledger(db_path) as ledger:
        summary = ledger.import_records(records, recorded_at=RECORDED_AT, today=TODAY)
        assert summary.head == ledger.head().hash and ledger.count() == 131
        assert ledger.verify().ok


def test_statements_stay_within_the_connections_parameter_limit(tmp_path, monkeypatch):
    """MULTIROW rows per statement, or fewer where the connection allows fewer parameters."""
    monkeypatch.setattr(importing, "BATCH_SIZE", 2000)
    records = _records(130)
    reference = _import(tmp_path / "ref.db", records).head
    real_of = writer.Writer.of.__func__
    limits = []

    def of(cls, conn):
        conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 600)  # the look-ups bind 500; 46 forecast rows a statement
        made = real_of(cls, conn)
        limits.append(made.parameters)
        return made

    monkeypatch.setattr(writer.Writer, "of", classmethod(of))
    assert _import(tmp_path / "small.db", records).head == reference
    assert limits == [600]
    assert _contents(tmp_path / "small.db") == _contents(tmp_path / "ref.db")


def test_the_installed_command_refuses_a_late_batch_with_one_line(tmp_path):
    """4,500 records (three batches of the real size): a bad value in the third is named, nothing written."""
    records = [{**forecast_fields(id=f"r-{k}", claim=f"Claim {k}"), "made_on": "2026-01-15", "deadline": "2026-12-31"}
               for k in range(4500)]  # fmt: skip
    records[4321]["probability"] = 1.5
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    bin_dir = Path(sys.executable).parent
    command = [str(bin_dir / "predictions"), "--db", str(tmp_path / "l.db"), "--today", "2026-11-22", "import", str(path)]
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 1, result.stderr
    assert result.stderr == f"Error: {path}:4322: field probability: 1.5 is outside [0, 1]\n"
    assert not (tmp_path / "l.db").exists()
    records[4321]["probability"] = 0.2
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    with Ledger(tmp_path / "l.db", read_only=True) as ledger:
        assert ledger.count() == 4500 and ledger.verify().ok


class _Refused(Exception):
    pass


@settings(max_examples=150, deadline=None)
@given(
    kinds=st.lists(st.sampled_from(["ok"] * 6 + ["bad", "unreadable"]), max_size=40),
    size=st.integers(1, 7),
    refused_batch=st.one_of(st.none(), st.integers(0, 8)),
    threaded=st.booleans(),
)
def test_batches_and_the_first_refusal_are_those_of_the_one_thread_loop(kinds, size, refused_batch, threaded):
    """Any records (some refused by validation, one unreadable), any batch size, a write refused in
    any batch: the batches written and the exception raised are the plain loop's."""

    def records():
        for k, kind in enumerate(kinds):
            if kind == "unreadable":
                raise _Refused(f"line {k}: unreadable")
            yield f"line {k}", kind

    def validate(where, kind):
        if kind == "bad":
            raise _Refused(f"{where}: bad")
        return where

    def run(loop):
        written = []

        def write(batch):
            if len(written) == refused_batch:
                raise _Refused(f"batch {len(written)} refused")
            written.append(list(batch))

        try:
            loop(write)
        except _Refused as exc:
            return written, str(exc)
        return written, None

    def plain(write):
        batch = []
        for where, kind in records():
            batch.append(validate(where, kind))
            if len(batch) >= size:
                write(batch)
                batch = []
        write(batch)

    def pipelined(write):
        with pipeline.validating(records(), validate, size=size, threaded=threaded) as batches:
            for batch in batches:
                batches.statements_start()
                write(batch)

    assert run(pipelined) == run(plain)
    assert not _validating_threads()
