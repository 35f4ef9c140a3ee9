"""The seeds (seeds/*.toml) and the example ledger built from them (ledger.db.example).

Nothing here writes to the repository: the committed ledger is copied into tmp_path first.
Expected values are computed from the TOML files with tomllib, independently of the loader.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import sqlite3
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from predictions_cli.main import cli

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "seeds"
EXAMPLE = REPO / "ledger.db.example"
ARTICLES = REPO.parent / "shared" / "articles"  # beside the clone, in CI as on a developer's machine
DOCS = REPO / "docs" / "seeds.md"
TODAY = "2026-11-23"  # the day the seeds were recorded; docs/seeds.md gives statuses as of it
QUOTE_GAP = " […] "  # joins verbatim excerpts in one quote


def run(*args: str):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def export(db: Path, today: str = TODAY) -> str:
    result = run("--db", db, "--today", today, "export", "--format", "jsonl")
    assert result.exit_code == 0, result.stderr
    return result.stdout


def seed_tables() -> list[tuple[Path, dict]]:
    return [(path, tomllib.loads(path.read_text(encoding="utf-8"))) for path in sorted(SEEDS.glob("*.toml"))]


def seeded_forecasts() -> list[tuple[dict, dict]]:
    """(document table, forecast table) for every forecast in the seeds."""
    return [(data["document"], forecast) for _, data in seed_tables() for forecast in data["forecasts"]]


@pytest.fixture
def example(tmp_path) -> Path:
    """A copy of the committed example ledger: tests never open the repository's file."""
    copy = tmp_path / "example.db"
    shutil.copyfile(EXAMPLE, copy)
    return copy


@pytest.fixture(scope="module")
def example_export(tmp_path_factory) -> str:
    copy = tmp_path_factory.mktemp("example") / "example.db"
    shutil.copyfile(EXAMPLE, copy)
    return export(copy)


# --- (1) the committed ledger is exactly what the seeds build -----------------------------------


def test_rebuilding_from_the_seeds_gives_the_committed_example(tmp_path, example_export):
    fresh = tmp_path / "fresh.db"
    result = run("--db", fresh, "--today", TODAY, "seed", "--rebuild", SEEDS)
    assert result.exit_code == 0, result.stderr
    first = export(fresh)
    assert first == example_export, "ledger.db.example is stale: rebuild it (docs/seeds.md)"

    result = run("--db", fresh, "--today", TODAY, "seed", "--rebuild", SEEDS)  # over the old one
    assert result.exit_code == 0, result.stderr
    assert export(fresh) == first, "building twice must give the same export"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fresh.db"], "no -wal, -shm or scratch file left"


def test_the_committed_example_is_a_complete_single_file(tmp_path):
    assert not Path(f"{EXAMPLE}-wal").exists() and not Path(f"{EXAMPLE}-shm").exists()
    copy = tmp_path / "example.db"
    shutil.copyfile(EXAMPLE, copy)
    with sqlite3.connect(copy) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        count = conn.execute("SELECT count(*) FROM forecasts").fetchone()[0]
    conn.close()
    assert count == len(seeded_forecasts())


# --- (2) what every seeded forecast must carry --------------------------------------------------


def test_every_seeded_forecast_is_complete(example_export):
    records = [json.loads(line) for line in example_export.splitlines()]
    assert len(records) == len(seeded_forecasts()) >= 20
    for record in records:
        for field in ("quote", "question", "resolution_criteria", "source", "claim", "deadline"):
            assert record[field] and record[field].strip(), f"{record['id']}: {field} is empty"
        assert 0 < record["probability"] < 1, record["id"]
        assert record["source_kind"], record["id"]
        assert record["document"] and record["document"]["file"], record["id"]
    assert len({r["source"] for r in records}) >= 3
    assert len({r["id"] for r in records}) == len(records)


def test_the_seeds_cover_all_five_articles():
    files = {data["document"]["file"] for _, data in seed_tables()}
    assert len(files) == 5
    if ARTICLES.is_dir():
        assert files == {p.name for p in ARTICLES.glob("*.txt")}
    for path, data in seed_tables():
        assert path.name[:3] == data["document"]["file"][:3], f"{path.name} is named after its article"
        assert data["document"]["recorded_at"] == dt.datetime(2026, 11, 23, tzinfo=dt.timezone.utc)


def test_every_deadline_is_explicit_and_editorial_ones_say_why():
    for document, forecast in seeded_forecasts():
        assert isinstance(forecast.get("deadline"), dt.date), f"{forecast['id']}: give the date, not only the wording"
        if forecast.get("deadline_assumed"):
            assert forecast.get("note"), forecast["id"]
        if document.get("published_on_estimated"):
            assert document.get("published_on_note"), document["file"]


@pytest.mark.skipif(not ARTICLES.is_dir(), reason="the source articles are not beside the repository")
def test_quotes_are_verbatim_from_their_article():
    texts = {p.name: p.read_text(encoding="utf-8") for p in ARTICLES.glob("*.txt")}
    for document, forecast in seeded_forecasts():
        for excerpt in forecast["quote"].split(QUOTE_GAP):
            assert excerpt in texts[document["file"]], f"{forecast['id']}: not verbatim: {excerpt[:60]!r}"


def test_resolutions_cite_another_article_and_are_consistent():
    for document, forecast in seeded_forecasts():
        resolution = forecast.get("resolution")
        if not resolution:
            continue
        assert re.search(r"[Aa]rticle \d{3}", resolution["evidence"]), forecast["id"]
        assert resolution["resolved_on"] <= dt.date.fromisoformat(TODAY)
        assert resolution["resolved_on"] >= forecast.get("made_on", document["published_on"])
        if resolution["outcome"] == "yes":
            assert resolution["resolved_on"] <= forecast["deadline"], forecast["id"]
        if resolution["outcome"] == "no" and resolution["resolved_on"] < forecast["deadline"]:
            assert resolution.get("early_reason"), forecast["id"]


# --- (3) the chain of the example verifies ------------------------------------------------------


def test_verify_passes_on_the_example(example):
    result = run("--db", example, "verify")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.stdout.startswith("OK")


# --- (4) a bad seed file is refused whole, naming where and what --------------------------------

GOOD = '''\
[document]
file = "999_test.txt"
title = "A test article"
outlet = "Test Outlet"
published_on = 2026-05-15
recorded_at = 2026-11-23T00:00:00Z

[[forecasts]]
id = "t-first"
source = "Test Outlet"
source_kind = "outlet"
claim = "Something happens."
quote = "Something will happen within 18 months."
question = "Does something happen by 15 November 2027?"
resolution_criteria = "YES if it happens by the deadline; NO otherwise."
deadline_text = "within 18 months"
deadline = 2027-11-15
probability = 0.93
probability_basis = "verbal"
phrase = "will"

[[forecasts]]
id = "t-second"
source = "Test Outlet"
source_kind = "outlet"
claim = "Something else likely happens."
quote = "Something else will likely happen by 2027."
question = "Does something else happen by 31 December 2027?"
resolution_criteria = "YES if it happens by the deadline; NO otherwise."
deadline_text = "by 2027"
deadline = 2027-12-31
probability = 0.75
probability_basis = "verbal"
phrase = "will likely"
'''

SECOND = GOOD[GOOD.index('id = "t-second"'):]


def _edit_second(old: str, new: str) -> str:
    assert old in SECOND
    return GOOD.replace(SECOND, SECOND.replace(old, new))


SYNTAX_ERROR = GOOD.replace("probability = 0.75", "probability = 0.75 0.2")

# t-second as another source's forecast on t-first's question: no question fields of its own.
JOINING = GOOD.replace(SECOND, SECOND.replace(
    'question = "Does something else happen by 31 December 2027?"\n'
    'resolution_criteria = "YES if it happens by the deadline; NO otherwise."\n'
    'deadline_text = "by 2027"\ndeadline = 2027-12-31\n', 'question_id = "t-first"\n',
).replace('source = "Test Outlet"', 'source = "Other Outlet"'))
assert JOINING != GOOD and "question_id" in JOINING


def _edit_joining(old: str, new: str) -> str:
    joining = JOINING[JOINING.index('id = "t-second"'):]
    assert old in joining
    return JOINING.replace(joining, joining.replace(old, new))


# (name, bad text, field the error must name or None, where: "id" for the line of t-second, or a line number)
BAD = [
    ("toml-syntax", SYNTAX_ERROR, None, 1 + SYNTAX_ERROR.splitlines().index("probability = 0.75 0.2")),
    ("unknown-key", _edit_second('phrase = "will likely"', 'phrase = "will likely"\nconfidence = 0.7'),
     "confidence", "id"),
    ("probability-1.5", _edit_second('probability = 0.75\nprobability_basis = "verbal"\nphrase = "will likely"\n',
                                     'probability = 1.5\nprobability_basis = "assigned"\n'), "probability", "id"),
    ("phrase-mismatch", _edit_second("probability = 0.75", "probability = 0.93"), "probability", "id"),
    ("deadline-contradicts-wording", _edit_second("deadline = 2027-12-31", "deadline = 2027-06-30"),
     "deadline", "id"),
    ("missing-criteria", _edit_second('resolution_criteria = "YES if it happens by the deadline; NO otherwise."\n', ""),
     "resolution_criteria", "id"),
    ("assumed-without-note", _edit_second('deadline_text = "by 2027"\n', "deadline_assumed = true\n"), "note", "id"),
    ("phrase-mismatch-without-basis", _edit_second('probability = 0.75\nprobability_basis = "verbal"\n',
                                                   "probability = 0.93\n"), "probability", "id"),
    ("assumed-without-date", _edit_second('deadline_text = "by 2027"\ndeadline = 2027-12-31\n',
                                          'deadline_text = "eventually"\ndeadline_assumed = true\n'
                                          'note = "No horizon."\n'), "deadline", "id"),
    ("certain", _edit_second('probability = 0.75\nprobability_basis = "verbal"\nphrase = "will likely"\n',
                             'probability = 1.0\nprobability_basis = "stated"\n'), "probability", "id"),
    ("yes-after-deadline", _edit_second('deadline_text = "by 2027"\ndeadline = 2027-12-31',
                                        'deadline_text = "in the first half of 2026"\ndeadline = 2026-06-30')
     + '\n[forecasts.resolution]\noutcome = "yes"\nresolved_on = 2026-07-01\nevidence = "Article 000 says so."\n',
     "resolved_on", "id"),
    ("join-unknown-question", _edit_joining('question_id = "t-first"', 'question_id = "t-nowhere"'), "question_id", "id"),
    ("join-conflicting-criteria", _edit_joining('question_id = "t-first"\n', 'question_id = "t-first"\n'
                                                'resolution_criteria = "YES if it happens at all."\n'),
     "resolution_criteria", "id"),
    ("join-conflicting-deadline", _edit_joining('question_id = "t-first"\n', 'question_id = "t-first"\n'
                                                'deadline = 2027-12-31\n'), "deadline", "id"),
    ("join-with-own-resolution", JOINING + '\n[forecasts.resolution]\noutcome = "no"\nresolved_on = 2026-07-01\n'
                                           'evidence = "Article 000 says so."\nearly_reason = "It cannot happen."\n',
     "resolution", "id"),
    ("join-a-joiner", JOINING + '\n[[forecasts]]\nid = "t-third"\nquestion_id = "t-second"\nsource = "Third"\n'
                                'source_kind = "outlet"\nclaim = "It happens."\nquote = "It happens."\n'
                                'probability = 0.93\nphrase = "will"\n',
     "question_id", 3 + JOINING.count("\n")),  # the line of t-third's id
]


def _bad_dir(tmp_path: Path, text: str) -> tuple[Path, Path]:
    """A seed folder whose first file is good (and new) and whose second is `text`."""
    folder = tmp_path / "bad-seeds"
    folder.mkdir()
    (folder / "a_good.toml").write_text(GOOD.replace("t-first", "t-good-one").replace("t-second", "t-good-two"))
    bad = folder / "b_bad.toml"
    bad.write_text(text)
    return folder, bad


def _check_refusal(result, bad: Path, field: str | None, where) -> None:
    assert result.exit_code == 1, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    message = lines[0]
    line = where if isinstance(where, int) else 1 + bad.read_text().splitlines().index('id = "t-second"')
    assert f"{bad}:{line}" in message, message
    if field:  # a resolution's field is named as the import format has it: resolutions[0].resolved_on
        assert re.search(rf"field (resolutions\[0\]\.)?{field}:", message), message
    assert "Traceback" not in result.stderr


def test_the_bad_cases_are_what_they_say():
    assert tomllib.loads(GOOD)
    for name, text, _, where in BAD:
        if name == "toml-syntax":
            assert text.splitlines()[where - 1].startswith("probability = 0.75 0.2")
        else:
            assert tomllib.loads(text), name


@pytest.mark.parametrize("name,text,field,where", BAD, ids=[case[0] for case in BAD])
def test_a_bad_seed_fails_a_rebuild_and_writes_nothing(tmp_path, example, example_export, name, text, field, where):
    folder, bad = _bad_dir(tmp_path, text)
    before = example.read_bytes()
    result = run("--db", example, "--today", TODAY, "seed", "--rebuild", folder)
    _check_refusal(result, bad, field, where)
    assert example.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad-seeds", "example.db"], "a scratch file was left"

    missing = tmp_path / "new.db"
    result = run("--db", missing, "--today", TODAY, "seed", "--rebuild", folder)
    _check_refusal(result, bad, field, where)
    assert not missing.exists()


@pytest.mark.parametrize("name,text,field,where", BAD, ids=[case[0] for case in BAD])
def test_a_bad_seed_added_to_a_ledger_changes_nothing(tmp_path, example, example_export, name, text, field, where):
    folder, bad = _bad_dir(tmp_path, text)
    result = run("--db", example, "--today", TODAY, "seed", folder)
    _check_refusal(result, bad, field, where)
    assert export(example) == example_export


def test_a_good_seed_added_to_a_ledger_is_added(tmp_path, example, example_export):
    folder = tmp_path / "more"
    folder.mkdir()
    (folder / "999_test.toml").write_text(GOOD)
    result = run("--db", example, "--today", TODAY, "seed", folder)
    assert result.exit_code == 0, result.stderr
    after = export(example)
    assert after.startswith(example_export)
    assert [json.loads(line)["id"] for line in after.splitlines()[-2:]] == ["t-first", "t-second"]


def _joined_export(tmp_path: Path, files: dict[str, str]) -> list[dict]:
    folder = tmp_path / "joined"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text)
    result = run("--db", tmp_path / "joined.db", "--today", TODAY, "seed", "--rebuild", folder)
    assert result.exit_code == 0, result.stderr
    return [json.loads(line) for line in export(tmp_path / "joined.db").splitlines()]


def test_a_seed_forecast_joins_the_question_it_names(tmp_path):
    first, second = _joined_export(tmp_path, {"999_test.toml": JOINING})
    assert (first["id"], first["question_id"]) == ("t-first", "t-first")
    assert (second["id"], second["question_id"], second["source"]) == ("t-second", "t-first", "Other Outlet")
    for key in ("question", "resolution_criteria", "deadline", "deadline_text", "tags"):
        assert second[key] == first[key], key
    assert second["probability"] == 0.75 and second["claim"] == "Something else likely happens."
    show = run("--db", tmp_path / "joined.db", "--today", TODAY, "show", "t-second", "--json")
    assert show.exit_code == 0, show.stderr
    assert "t-first" in show.stdout and "t-second" in show.stdout and "Other Outlet" in show.stdout


@pytest.mark.parametrize("target,message", [
    ("t-nowhere", "'t-nowhere' is the id of no seed forecast"),
    ("t-second", "'t-second' itself joins question 't-first': name that one"),
    ("t-third", "names this forecast itself"),
])
def test_a_joining_forecast_names_a_question_of_the_seeds(tmp_path, target, message):
    text = JOINING + ('\n[[forecasts]]\nid = "t-third"\nquestion_id = "TARGET"\nsource = "Third"\n'
                      'source_kind = "outlet"\nclaim = "It happens."\nquote = "It happens."\n'
                      'probability = 0.93\nphrase = "will"\n').replace("TARGET", target)
    path = tmp_path / "999_test.toml"
    path.write_text(text)
    line = text.splitlines().index('id = "t-third"') + 1
    result = run("--db", tmp_path / "new.db", "--today", TODAY, "seed", "--rebuild", tmp_path)
    assert result.exit_code == 1 and result.stderr.startswith(f"Error: {path}:{line}: field question_id: {message}")
    assert not (tmp_path / "new.db").exists()


def test_a_joining_forecast_may_repeat_its_questions_fields_exactly(tmp_path):
    text = _edit_joining('question_id = "t-first"\n', 'question_id = "t-first"\ndeadline = 2027-11-15\n'
                         'resolution_criteria = "YES if it happens by the deadline; NO otherwise."\n')
    _, second = _joined_export(tmp_path, {"999_test.toml": text})
    assert second["question_id"] == "t-first" and second["deadline"] == "2027-11-15"


def test_a_forecast_may_join_a_question_of_a_later_file(tmp_path):
    """Files are read in name order, and all of them before the first record is written: a joiner
    in an earlier file is written right after its question's own forecast."""
    joiner = JOINING[JOINING.index("[[forecasts]]\nid = \"t-second\""):]
    own = GOOD[: GOOD.index("[[forecasts]]\nid = \"t-second\"")]
    header = GOOD[: GOOD.index("[[forecasts]]")].replace("999_test.txt", "998_test.txt")
    records = _joined_export(tmp_path, {"a_joins.toml": header + joiner, "b_question.toml": own})
    assert [(r["id"], r["question_id"]) for r in records] == [("t-first", "t-first"), ("t-second", "t-first")]
    assert records[1]["document"]["file"] == "998_test.txt" and records[0]["document"]["file"] == "999_test.txt"


# --- (5) due lists exactly the passed, unresolved deadlines --------------------------------------


@pytest.mark.parametrize("today", [TODAY, "2027-06-01", "2029-01-01"])
def test_due_lists_exactly_the_passed_unresolved_forecasts(example, today):
    day = dt.date.fromisoformat(today)
    expected = sorted(
        (forecast["deadline"], forecast["id"])
        for _, forecast in seeded_forecasts()
        if forecast["deadline"] < day and "resolution" not in forecast
    )
    result = run("--db", example, "--today", today, "due", "--json")
    assert result.exit_code == 0, result.stderr
    listed = [(dt.date.fromisoformat(r["deadline"]), r["id"]) for r in json.loads(result.stdout)]
    assert listed == expected
    assert all(r["status"] == "due" for r in json.loads(result.stdout))


def test_due_today_is_not_empty(example):
    """At least one seeded deadline has passed unresolved, so the example shows what `due` is for."""
    result = run("--db", example, "--today", TODAY, "due", "--json")
    assert json.loads(result.stdout)


# --- docs/seeds.md lists every forecast as it is ------------------------------------------------


def _status(forecast: dict) -> str:
    resolution = forecast.get("resolution")
    if resolution:
        return f"resolved {resolution['outcome']}"
    return "due" if forecast["deadline"] < dt.date.fromisoformat(TODAY) else "open"


def test_the_table_in_docs_lists_every_forecast_accurately():
    rows = {}
    for line in DOCS.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and re.fullmatch(r"`a\d{3}-[a-z0-9-]+`", cells[0]):
            rows[cells[0].strip("`")] = cells[1:]
    expected = {
        forecast["id"]: [
            forecast["source"],
            forecast["deadline"].isoformat() + (" (assumed)" if forecast.get("deadline_assumed") else ""),
            f"{forecast['probability']:g}",
            _status(forecast),
        ]
        for _, forecast in seeded_forecasts()
    }
    assert rows == expected


def test_the_annotated_example_in_docs_loads(tmp_path):
    text = DOCS.read_text(encoding="utf-8")
    example = re.search(r"```toml\n(.*?)```", text, re.S).group(1)
    folder = tmp_path / "docs-example"
    folder.mkdir()
    (folder / "005_example.toml").write_text(example, encoding="utf-8")
    result = run("--db", tmp_path / "docs.db", "--today", TODAY, "seed", "--rebuild", folder)
    assert result.exit_code == 0, result.stderr
    assert "2 forecasts and 1 resolution" in result.stdout


def test_the_joining_example_in_docs_joins_the_annotated_examples_question(tmp_path):
    first, joining = re.findall(r"```toml\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S)[:2]
    records = _joined_export(tmp_path, {"005_example.toml": first + "\n" + joining})
    joined = {r["id"]: r for r in records}["a006-fortune500-default"]
    assert joined["question_id"] == "a005-fortune500-default" and joined["deadline"] == "2027-11-15"


def test_a_rebuild_refuses_a_target_that_is_not_a_ledger(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n")
    result = CliRunner().invoke(cli, ["--db", str(notes), "seed", "--rebuild", str(SEEDS)])
    assert result.exit_code == 1 and result.stderr == f"Error: {notes} is not a SQLite database; refusing to touch it\n"
    assert notes.read_text() == "my notes\n" and sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_each_forecast_of_a_long_seed_file_is_located_by_its_id_line(tmp_path):
    """The lines are indexed in one pass (a search from the top for every forecast was quadratic)."""
    block = GOOD[GOOD.index("[[forecasts]]"):GOOD.index('[[forecasts]]\nid = "t-second"')]
    body = "".join(block.replace('id = "t-first"', f'id = "t-{i:04d}"') for i in range(300))
    text = GOOD[: GOOD.index("[[forecasts]]")] + body.replace('id = "t-0299"', "id = 't-0299'\nbogus = 1", 1)
    path = tmp_path / "long.toml"
    path.write_text(text)
    line = text.splitlines().index("id = 't-0299'") + 1
    from predictions import ValidationError
    from predictions.seeds import read_seed_file

    with pytest.raises(ValidationError) as caught:
        list(read_seed_file(path))
    assert str(caught.value).startswith(f"{path}:{line}: field bogus")
