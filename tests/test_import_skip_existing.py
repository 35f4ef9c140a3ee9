"""`import --skip-existing` for the project's own format: an overlapping export adds only what is new
(identical records skipped and counted); a record whose id is there with other content is refused
naming FILE:LINE and the field, and nothing is written. Without the option, import is as before."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli.main import cli
from predictions import Ledger

from .test_import_speed_paths import RECORDED_AT, _records

TODAY = "2026-11-22"


def run(db: Path, *args, code=0):
    result = CliRunner().invoke(cli, ["--db", str(db), "--today", TODAY, *map(str, args)])
    assert result.exit_code == code, (result.stdout, result.stderr, result.exception)
    if code == 1:
        assert result.stdout == "" and result.stderr.count("\n") == 1 and result.stderr.startswith("Error: ")
    return result


def write_jsonl(path: Path, records) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def state(db: Path):
    with Ledger(db, read_only=True) as ledger:
        return ledger.head(), db.read_bytes()


def exported(db: Path) -> list[dict]:
    return [json.loads(line) for line in run(db, "export").stdout.splitlines()]


def test_an_overlapping_export_adds_only_what_is_new(tmp_path):
    source, target = tmp_path / "source.db", tmp_path / "target.db"
    records = _records(40)
    run(source, "import", write_jsonl(tmp_path / "first.jsonl", records[:25]))
    older, newer = tmp_path / "older.jsonl", tmp_path / "newer.jsonl"
    run(source, "export", "-o", older)
    run(target, "import", older)
    run(source, "import", write_jsonl(tmp_path / "second.jsonl", records[25:]))
    run(source, "export", "-o", newer)
    export = newer
    summary = json.loads(run(target, "import", "--skip-existing", newer, "--json").stdout)
    assert (summary["forecasts"], summary["skipped_existing"]) == (15, 25)
    assert summary["resolutions"] == sum(len(r["resolutions"]) for r in exported(source)[25:])
    assert exported(target) == exported(source)  # the same records, recorded_at and histories included
    with Ledger(target, read_only=True) as ledger:
        assert ledger.verify().ok
    text = run(target, "import", "--skip-existing", export).stdout.splitlines()
    assert text[0].startswith("Imported 0 forecasts and 0 resolutions; chain head ")
    assert text[1:] == ["skipped 40 forecasts already in the ledger"]


def test_without_the_option_an_overlap_is_refused_as_before(tmp_path):
    db = tmp_path / "l.db"
    path = write_jsonl(tmp_path / "in.jsonl", _records(3)[1:])
    run(db, "import", path)
    before = state(db)
    result = run(db, "import", path, code=1)
    assert "in.jsonl:1: field id: 'rec-0001' is already in the ledger" in result.stderr
    assert state(db) == before


def test_the_same_id_with_other_content_is_refused_and_nothing_written(tmp_path):
    db = tmp_path / "l.db"
    records = _records(7)[1:]
    run(db, "import", write_jsonl(tmp_path / "first.jsonl", records[:4]))
    before = state(db)
    changed = [*records[:2], {**records[2], "probability": 0.9}, *records[4:]]  # line 3 differs; 5, 6 are new
    path = write_jsonl(tmp_path / "changed.jsonl", changed)
    result = run(db, "import", "--skip-existing", path, code=1)
    assert records[2]["probability"] == -0.0
    assert result.stderr == (f"Error: {path}:3: field probability: 'rec-0003' is already in the ledger with probability "
                             "0.0, here 0.9 (--skip-existing skips only identical records)\n")  # fmt: skip
    assert state(db) == before


def test_other_question_fields_or_resolutions_are_other_content(tmp_path):
    db = tmp_path / "l.db"
    records = _records(3)[1:]
    run(db, "import", write_jsonl(tmp_path / "first.jsonl", records))
    before = state(db)
    cases = [({**records[1], "deadline": "2026-07-01"}, "deadline"),
             ({**records[0], "outcome": "ambiguous"}, "resolutions")]  # fmt: skip
    for record, field in cases:
        result = run(db, "import", "--skip-existing", write_jsonl(tmp_path / "x.jsonl", [record]), code=1)
        assert f"x.jsonl:1: field {field}: '{record['id']}' is already in the ledger with " in result.stderr
        assert state(db) == before


def test_a_record_without_recorded_at_is_the_same_content(tmp_path):
    """recorded_at says when a record was written, not what it says: a hand-written file repeating
    a forecast (no recorded_at, no id: the content's id) is skipped."""
    db = tmp_path / "l.db"
    record = {k: v for k, v in _records(1)[0].items() if k != "id"}
    path = write_jsonl(tmp_path / "hand.jsonl", [record])
    run(db, "import", path)
    summary = json.loads(run(db, "import", "--skip-existing", path, "--json").stdout)
    assert (summary["forecasts"], summary["skipped_existing"]) == (0, 1)


def test_a_record_twice_in_one_file_is_refused_not_skipped(tmp_path):
    db = tmp_path / "l.db"
    records = _records(3)
    run(db, "import", write_jsonl(tmp_path / "first.jsonl", records[:1]))
    path = write_jsonl(tmp_path / "twice.jsonl", [records[1], records[2], records[1]])
    result = run(db, "import", "--skip-existing", path, code=1)
    assert "twice.jsonl:3: field id: 'rec-0001' appears twice in this input" in result.stderr


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=st.integers(0, 30), overlap_end=st.integers(0, 30))
def test_importing_in_two_overlapping_parts_equals_importing_once(tmp_path_factory, first, overlap_end):
    """Property: records[:first] then records[:max(first, overlap_end)+k] with skip_existing leaves
    the ledger holding exactly what one import of the longer list leaves (the same export)."""
    records = _records(30)
    end = max(first, overlap_end)
    folder = tmp_path_factory.mktemp("parts")
    with Ledger(folder / "parts.db") as parts, Ledger(folder / "once.db") as once:
        parts.import_records([(f"a:{i}", r) for i, r in enumerate(records[:first], 1)], recorded_at=RECORDED_AT, today=TODAY)
        summary = parts.import_records([(f"b:{i}", r) for i, r in enumerate(records[:end], 1)],
                                       recorded_at=RECORDED_AT, today=TODAY, skip_existing=True)  # fmt: skip
        once.import_records([(f"c:{i}", r) for i, r in enumerate(records[:end], 1)], recorded_at=RECORDED_AT, today=TODAY)
        assert (summary.forecasts, summary.skipped_existing) == (end - first, first)
        assert list(parts.export_records(today=TODAY)) == list(once.export_records(today=TODAY))
