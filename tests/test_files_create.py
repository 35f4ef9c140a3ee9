"""Creating a ledger never loses another process's forecast (issue 9, class 1).

A new ledger is built under a private name and linked into place with an operation that never
replaces a file; nothing deletes a ledger after a failure. Raced with real processes running the
installed command, many times, and checked deterministically through the library.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from predictions import Ledger, ValidationError, files

from .conftest import TODAY, forecast_fields

PREDICTIONS = Path(sys.executable).with_name("predictions")
pytestmark = pytest.mark.skipif(not PREDICTIONS.exists(), reason="the predictions command is not installed")

ADD = ["add", "--source", "S", "--criteria", "YES if it happens", "--made-on", "2026-01-01", "--deadline", "2026-12-31"]


def start(db: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [str(PREDICTIONS), "--db", str(db), "--today", TODAY.isoformat(), *map(str, args)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def ids_in(db: Path) -> set[str]:
    with Ledger(db, read_only=True) as ledger:
        assert ledger.verify().ok
        return {t.id for t in ledger.forecasts()}


def bad_import_file(folder: Path) -> Path:
    """A file whose second record is refused: the import fails inside its transaction."""
    good = {**forecast_fields(id="from-import"), "made_on": "2026-01-15", "deadline": "2026-12-31"}
    path = folder / "bad.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps({**good, "id": "x2", "probability": 1.5}) + "\n")
    return path


@pytest.mark.parametrize("failing", ["add", "import"])
def test_a_failing_command_racing_a_valid_add_on_a_new_path_never_loses_the_forecast(tmp_path, failing):
    """The issue's attack: a refused command and a valid `add` started at once on the same new
    file. Before, the refused one deleted the file it had created (having checked it was empty)
    after the valid one had committed to it, in about half the runs."""
    bad = bad_import_file(tmp_path)
    for round_ in range(10):
        db = tmp_path / f"new-{round_}.db"
        if failing == "add":
            refused = start(db, *ADD, "--claim", "Refused", "--probability", "1.5")
        else:
            refused = start(db, "import", bad)
        valid = start(db, *ADD, "--claim", f"Valid {round_}", "--probability", "0.4", "--id", f"valid-{round_}")
        out, err = valid.communicate(timeout=120)
        refused.communicate(timeout=120)
        assert valid.returncode == 0 and out.strip() == f"valid-{round_}", err
        assert refused.returncode != 0
        assert ids_in(db) == {f"valid-{round_}"}, f"round {round_}: the valid forecast was lost"
    leftovers = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("."))
    assert leftovers == []  # no private scratch file left behind


def test_two_valid_adds_racing_on_a_new_path_both_land(tmp_path):
    """Both build the new ledger under their own private names; the second to publish finds the
    name taken and writes its forecast into the ledger now there."""
    for round_ in range(6):
        db = tmp_path / f"both-{round_}.db"
        adding = [start(db, *ADD, "--claim", f"Claim {w}", "--probability", "0.3", "--id", f"writer-{w}") for w in range(2)]
        for process in adding:
            out, err = process.communicate(timeout=120)
            assert process.returncode == 0, err
        assert ids_in(db) == {"writer-0", "writer-1"}, f"round {round_}"


def _publish_after_another_process(monkeypatch, theirs: dict) -> None:
    """Make another ledger appear at the target just before this one publishes: the race, on demand."""
    real = files.link_no_replace
    raced = []

    def late(source: Path, target: Path) -> None:
        if not raced:  # once: the other process's own publication goes through unhindered
            raced.append(target)
            with Ledger(target) as other:
                other.add(**theirs)
        real(source, target)

    monkeypatch.setattr(files, "link_no_replace", late)


def test_when_the_name_is_taken_at_publication_an_add_goes_into_the_ledger_there(db_path, monkeypatch):
    _publish_after_another_process(monkeypatch, forecast_fields(id="theirs", claim="Theirs"))
    with Ledger(db_path) as ledger:
        mine = ledger.add(**forecast_fields(id="mine", claim="Mine", tags=["x"]))
        assert [r["id"] for r in ledger.export_records()] == ["theirs", "mine"]
        assert ledger.get("mine").forecast == mine  # the same record, recorded_at included
        assert ledger.verify().ok


def test_when_the_name_is_taken_at_publication_an_import_goes_in_whole_with_the_right_head(db_path, monkeypatch):
    _publish_after_another_process(monkeypatch, forecast_fields(id="theirs", claim="Theirs"))
    records = [(f"in:{i}", {**forecast_fields(id=f"rec-{i}", claim=f"Claim {i}"), "made_on": "2026-01-15",
                            "deadline": "2026-12-31", "outcome": "yes", "resolved_on": "2026-02-01",
                            "evidence": "E"}) for i in range(3)]  # fmt: skip
    with Ledger(db_path) as ledger:
        summary = ledger.import_records(records, today=TODAY)
        assert (summary.forecasts, summary.resolutions) == (3, 3)
        assert summary.head == ledger.head().hash  # the head of the ledger it went into
        assert [r["id"] for r in ledger.export_records()] == ["theirs", "rec-0", "rec-1", "rec-2"]
        assert all(t.current.outcome == "yes" for t in ledger.forecasts() if t.id != "theirs")
        assert ledger.verify().ok


def test_a_conflict_with_the_ledger_found_at_publication_is_refused_and_theirs_kept(db_path, monkeypatch):
    _publish_after_another_process(monkeypatch, forecast_fields(id="same", claim="Theirs"))
    with Ledger(db_path) as ledger, pytest.raises(ValidationError, match="'same' is already in the ledger"):
        ledger.add(**forecast_fields(id="same", claim="Mine"))
    with Ledger(db_path, read_only=True) as ledger:
        assert [t.forecast.claim for t in ledger.forecasts()] == ["Theirs"]


def test_a_library_script_whose_first_write_is_refused_leaves_no_file(tmp_path):
    db = tmp_path / "new.db"
    with Ledger(db) as ledger:
        with pytest.raises(ValidationError):
            ledger.add(**forecast_fields(probability=1.5))
        records = [("a:1", {**forecast_fields(id="okay"), "made_on": "2026-01-15", "deadline": "2026-12-31"}),
                   ("a:2", {**forecast_fields(id="okay"), "made_on": "2026-01-15", "deadline": "2026-12-31"})]  # fmt: skip
        with pytest.raises(ValidationError, match="a:2: field id: 'okay' appears twice"):
            ledger.import_records(records, today=TODAY)  # refused inside the transaction
        with pytest.raises(Exception):
            ledger.resolve("nothing", "yes", on="2026-02-01", evidence="E", today=TODAY)
    assert list(tmp_path.iterdir()) == []
    with Ledger(db) as ledger:  # and then a good write creates it, in WAL mode
        ledger.add(**forecast_fields(id="first"))
        assert ledger.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.db"]
    assert ids_in(db) == {"first"}


def test_a_new_ledger_has_the_mode_a_new_file_gets(tmp_path):
    old = os.umask(0o027)
    try:
        with Ledger(tmp_path / "new.db") as ledger:
            ledger.add(**forecast_fields())
    finally:
        os.umask(old)
    assert (tmp_path / "new.db").stat().st_mode & 0o7777 == 0o640


def test_a_dangling_symlink_as_the_ledger_is_refused_and_kept(tmp_path):
    link = tmp_path / "link.db"
    link.symlink_to(tmp_path / "missing.db")
    result = subprocess.run([str(PREDICTIONS), "--db", str(link), *ADD, "--claim", "C", "--probability", "0.4"],
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    assert result.returncode == 1 and result.stderr == f"Error: {link} is a symbolic link to a file that does not exist\n"
    assert link.is_symlink() and sorted(p.name for p in tmp_path.iterdir()) == ["link.db"]


def test_sigterm_during_the_first_import_leaves_no_ledger_and_no_scratch(tmp_path):
    big = tmp_path / "in" / "big.jsonl"
    big.parent.mkdir()
    with open(big, "w") as out:
        for i in range(60_000):
            out.write(json.dumps({**forecast_fields(id=f"big-{i:06d}", claim=f"Claim {i} " * 8),
                                  "made_on": "2026-01-15", "deadline": "2026-12-31"}) + "\n")  # fmt: skip
    folder = tmp_path / "ledgers"
    folder.mkdir()
    importing = start(folder / "new.db", "import", big)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and importing.poll() is None:
        if any(p.name.startswith(".new.db.") and p.stat().st_size > 1_000_000 for p in folder.iterdir()):
            break  # the scratch file is well under way
        time.sleep(0.005)
    assert importing.poll() is None, "the import ended before it could be stopped"
    importing.send_signal(signal.SIGTERM)
    importing.communicate(timeout=60)
    assert importing.returncode == 128 + signal.SIGTERM
    assert list(folder.iterdir()) == []


def test_two_imports_of_one_platform_export_racing_on_a_new_path_both_succeed(db_path, monkeypatch):
    # The winner publishes the same export first; the loser's replay skips it instead of refusing
    # "already in the ledger" with no place named.
    export = Path(__file__).parent / "fixtures" / "platforms" / "fatebook.csv"
    real = files.link_no_replace

    def late(source, target):
        monkeypatch.setattr(files, "link_no_replace", real)  # the other process publishes unhindered
        with Ledger(target) as theirs:
            theirs.import_platform("fatebook", export, today=TODAY)
        real(source, target)

    monkeypatch.setattr(files, "link_no_replace", late)
    with Ledger(db_path) as ledger:
        ledger.import_platform("fatebook", export, today=TODAY)
        ids = [r["id"] for r in ledger.export_records()]
        assert len(ids) == len(set(ids)) == 6
        assert ledger.verify().ok
