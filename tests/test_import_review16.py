"""Review of `import --from` as a newcomer and an attacker: every refusal names its place (FILE:LINE
or the JSON path) and the file's own field, a wrong type is never read as "nothing", and files a
platform never writes (empty, lone-CR line ends, a key given twice) are refused in plain words, the
ledger unchanged."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli
from predictions import Ledger

FIXTURES = Path(__file__).parent / "fixtures" / "platforms"
TODAY = "2026-11-22"


@pytest.fixture
def ledger_db(tmp_path):
    """A ledger with something in it, and a check that a refusal leaves its bytes as they were."""
    db = tmp_path / "ledger.db"
    result = CliRunner().invoke(cli, ["--db", str(db), "--today", TODAY, "import", "--from", "fatebook",
                                      str(FIXTURES / "fatebook.csv")])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    return db


def refused(db: Path, platform: str, *paths: Path, source: str | None = None) -> str:
    """The one line a refused import prints; the ledger's bytes unchanged."""
    before = db.read_bytes() if db.exists() else None
    args = ["--db", str(db), "--today", TODAY, "import", "--from", platform, *map(str, paths)]
    result = CliRunner().invoke(cli, args + (["--source", source] if source else []))
    assert result.exit_code == 1, (result.stdout, result.stderr, result.exception)
    assert result.stdout == "" and result.stderr.count("\n") == 1 and result.stderr.startswith("Error: ")
    assert (db.read_bytes() if db.exists() else None) == before
    return result.stderr[len("Error: ") : -1]


def _json(tmp_path: Path, name: str, edit) -> Path:
    data = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    edit(data)
    path = tmp_path / f"edited-{name}"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _set(*keys_and_value):
    *keys, last, value = keys_and_value

    def edit(data):
        for key in keys:
            data = data[key]
        data[last] = value

    return edit


# --- every value a parser checks is located -----------------------------------------------------

@pytest.mark.parametrize("name, edit, platform, where", [
    ("manifold.json", _set(0, "market", "groupSlugs", ["news", "a\x1b[2Jb"]), "manifold", ":$[0].market.groupSlugs[1]: field groupSlugs: contains a control character"),
    ("manifold.json", _set(0, "market", "groupSlugs", [5]), "manifold", ":$[0].market.groupSlugs[0]: field groupSlugs: must be text"),
    ("metaculus-posts.json", _set("results", 0, "short_title", "a\x1b[2J"), "metaculus", ":$.results[0]: field short_title: contains a control character"),
    ("metaculus-posts.json", _set("results", 0, "question", "my_forecasts", "latest", "forecast_values", [0.25, "0.75"]), "metaculus",
     ":$.results[0].question.my_forecasts.latest: field forecast_values[1]: must be a number"),
])  # fmt: skip
def test_a_bad_value_is_named_by_its_json_path(ledger_db, tmp_path, name, edit, platform, where):
    path = _json(tmp_path, name, edit)
    assert refused(ledger_db, platform, path, source="alice" if "posts" in name else None).startswith(f"{path}{where}")


@pytest.mark.parametrize("name, edit, platform, where", [
    ("manifold.json", _set(0, "bets", {}), "manifold", ":$[0].bets: must be a list of bets, not an object"),
    ("manifold.json", _set(0, "market", "groupSlugs", {}), "manifold", ":$[0].market.groupSlugs: must be a list, not an object"),
    ("manifold.json", _set(0, "market", "groupSlugs", ""), "manifold", ":$[0].market.groupSlugs: must be a list, not text"),
    ("metaculus-posts.json", _set("results", 0, "projects", "category", {}), "metaculus", ":$.results[0].projects.category: must be a list, not an object"),
    ("metaculus-posts.json", _set("results", 0, "projects", []), "metaculus", ":$.results[0].projects: must be an object, not a list"),
    ("metaculus-posts.json", _set("results", 0, "question", "my_forecasts", "history", 0), "metaculus",
     ":$.results[0].question.my_forecasts.history: must be a list, not int"),
])  # fmt: skip
def test_a_list_of_the_wrong_type_is_refused_not_read_as_empty(ledger_db, tmp_path, name, edit, platform, where):
    path = _json(tmp_path, name, edit)
    assert refused(ledger_db, platform, path, source="alice" if "posts" in name else None) == f"{path}{where}"


def test_a_missing_list_is_still_an_empty_one(tmp_path):
    path = _json(tmp_path, "manifold.json", lambda data: [m["market"].pop("groupSlugs") for m in data])
    with Ledger(tmp_path / "ledger.db") as ledger:
        assert ledger.import_platform("manifold", path, today=TODAY).forecasts > 0


def test_metaculus_forecast_values_must_be_one_minus_p_and_p(ledger_db, tmp_path):
    path = _json(tmp_path, "metaculus-posts.json",
                 _set("results", 0, "question", "my_forecasts", "latest", "forecast_values", [0.9, 0.9]))
    assert refused(ledger_db, "metaculus", path, source="alice") == (
        f"{path}:$.results[0].question.my_forecasts.latest: field forecast_values: [0.9, 0.9] is not [1 - p, p]")


def test_a_resolved_market_without_its_resolution_says_so(ledger_db, tmp_path):
    path = _json(tmp_path, "manifold.json", lambda data: data[0]["market"].pop("resolution"))
    assert refused(ledger_db, "manifold", path) == f"{path}:$[0].market: field resolution: is required: isResolved is true"


def test_an_unlocated_refusal_still_names_the_file(ledger_db, tmp_path, monkeypatch):
    from predictions.errors import ValidationError
    from predictions.platforms import common

    def unlocated(*args, **kwargs):
        raise ValidationError("somefield", "is wrong")  # as a parser check no one wrapped would

    monkeypatch.setattr(common, "tags", unlocated)
    assert refused(ledger_db, "manifold", FIXTURES / "manifold.json") == f"{FIXTURES / 'manifold.json'}: field somefield: is wrong"


# --- the ledger's own rules, in the file's terms ----------------------------------------------------

def _fatebook(tmp_path: Path, old: str, new: str) -> Path:
    text = (FIXTURES / "fatebook.csv").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "edited.csv"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_a_ledger_rule_refusal_names_the_files_column_too(ledger_db, tmp_path):
    after = _fatebook(tmp_path, "0.6,2025-01-05 09:03:7", "0.6,2025-07-05 09:03:7")  # after the resolve-by date
    assert refused(ledger_db, "fatebook", after) == (
        f"{after}:2: field deadline (Question resolve by): 2025-06-01 is before made_on 2025-07-05")
    early = _fatebook(tmp_path, '"NO",2025-07-15 07:00:2', '"NO",2024-07-15 07:00:2')  # before its forecast
    assert refused(ledger_db, "fatebook", early).startswith(f"{early}:5: field resolved_on (Resolved at): 2024-07-15 is before")


def test_a_ledger_rule_refusal_in_the_api_files_terms(ledger_db, tmp_path):
    path = _json(tmp_path, "manifold.json", _set(0, "bets", 0, "createdTime", 1_900_000_000_000))  # after closeTime
    assert refused(ledger_db, "manifold", path) == (
        f"{path}:$[0].bets[0]: field deadline (closeTime): 2025-06-01 is before made_on 2030-03-17")


# --- files no platform writes ------------------------------------------------------------------------

def test_an_empty_fatebook_file_is_refused_and_makes_no_ledger(tmp_path):
    (tmp_path / "empty.csv").write_bytes(b"")
    db = tmp_path / "new.db"
    assert refused(db, "fatebook", tmp_path / "empty.csv") == f"{tmp_path / 'empty.csv'}:1: is empty (no header row)"
    assert not db.exists()


LONE_CR = "has a line break that is a lone CR (old Mac line ends); save the file with LF or CRLF line ends"


@pytest.mark.parametrize("rows", [1, 12_000])  # the short file, and one whose single "line" is over 1 MiB
def test_a_csv_with_lone_cr_line_ends_is_named_as_such(ledger_db, tmp_path, rows):
    lines = (FIXTURES / "fatebook.csv").read_text(encoding="utf-8").split("\n")
    path = tmp_path / "mac.csv"
    path.write_bytes("\r".join([lines[0], *[lines[1]] * rows]).encode() + b"\r")
    assert refused(ledger_db, "fatebook", path) == f"{path}:1: {LONE_CR}"


def test_a_metaculus_member_with_lone_cr_line_ends(ledger_db, tmp_path):
    path = tmp_path / "mac.zip"
    with zipfile.ZipFile(FIXTURES / "metaculus.zip") as source, zipfile.ZipFile(path, "w") as out:
        for info in source.infolist():
            data = source.read(info)
            out.writestr(info.filename, data.replace(b"\n", b"\r") if info.filename == "question_data.csv" else data)
    assert refused(ledger_db, "metaculus", path) == f"{path}!question_data.csv:1: {LONE_CR}"


@pytest.mark.parametrize("platform, name", [("predictionbook", "predictionbook.json"), ("manifold", "manifold.json"),
                                            ("metaculus", "metaculus-posts.json")])  # fmt: skip
def test_a_json_key_given_twice_is_refused(ledger_db, tmp_path, platform, name):
    # json keeps the last; a reader that keeps the first would see another outcome or id
    text = (FIXTURES / name).read_text(encoding="utf-8")
    path = tmp_path / name
    path.write_text(text.replace('"id": ', '"id": 1, "id": ', 1), encoding="utf-8")
    assert refused(ledger_db, platform, path, source="alice" if "posts" in name else None) == (
        f"{path}: not valid JSON (an object gives the key 'id' twice: which is meant?)")


def test_a_json_number_of_thousands_of_digits_is_worded_for_a_user(ledger_db, tmp_path):
    path = _json(tmp_path, "predictionbook.json", lambda data: None)
    path.write_text(path.read_text(encoding="utf-8").replace('"id": 1001', '"id": 1' + "0" * 5000, 1), encoding="utf-8")
    assert refused(ledger_db, "predictionbook", path) == f"{path}:1: not valid JSON (a number of more than 4,300 digits)"


def test_the_fixtures_still_import_whole(tmp_path):
    """The stricter reading refuses nothing a platform writes."""
    with Ledger(tmp_path / "ledger.db") as ledger:
        for platform, names in [("fatebook", ["fatebook.csv"]), ("predictionbook", ["predictionbook.json"]),
                                ("metaculus", ["metaculus.zip"]), ("manifold", ["manifold.json"]),
                                ("manifold", ["manifold-market.json", "manifold-bets.json"])]:  # fmt: skip
            paths = [FIXTURES / n for n in names]
            assert ledger.import_platform(platform, paths if platform == "manifold" else paths[0], today=TODAY)
        summary = ledger.import_platform("metaculus", FIXTURES / "metaculus-posts.json", source="alice", today=TODAY)
        assert summary.forecasts + summary.skipped_existing > 0
        assert ledger.verify().ok


# --- a resolution recorded by hand is not the platform's to correct ----------------------------------

def test_a_hand_resolution_is_reported_not_corrected_as_changed_on_the_platform(tmp_path):
    db = tmp_path / "ledger.db"
    with Ledger(db) as ledger:
        ledger.import_platform("fatebook", FIXTURES / "fatebook.csv", today=TODAY)
        library = ledger.import_platform("fatebook", FIXTURES / "fatebook-newer.csv", today=TODAY)
    assert library.corrections == 1  # the platform's own change (AMBIGUOUS -> NO) is still a correction
    qid = "fatebook-dddd448825eedc08"  # open in fatebook.csv, NO in fatebook-newer.csv
    db.unlink()
    with Ledger(db) as ledger:
        ledger.import_platform("fatebook", FIXTURES / "fatebook.csv", today=TODAY)
        ledger.resolve(qid, "yes", on="2025-12-20", evidence="I saw it open", today=TODAY)
        summary = ledger.import_platform("fatebook", FIXTURES / "fatebook-newer.csv", today=TODAY)
        history = ledger.history(qid)
    assert [(r.outcome, r.evidence) for r in history] == [("yes", "I saw it open")]
    assert (summary.corrections, summary.resolutions) == (1, 0)  # Q3 corrected as before; the library kept
    assert [(d.id, d.reason) for d in summary.differs] == [(qid, (
        "resolved yes on 2025-12-20 in the ledger (not from Fatebook), no on 2026-01-02 on Fatebook; kept as recorded"))]


@pytest.mark.parametrize("platform, names", [("fatebook", ["fatebook.csv", "fatebook-2023.csv", "fatebook-newer.csv"]),
                                             ("predictionbook", ["predictionbook.json", "predictionbook-withdrawn.json"]),
                                             ("metaculus", ["metaculus.zip", "metaculus-newer.zip"]),
                                             ("manifold", ["manifold.json", "manifold-newer.json"])])  # fmt: skip
def test_every_resolution_an_import_writes_is_known_as_the_platforms(platform, names):
    from predictions.platforms import read_platform
    from predictions.platforms.records import from_platform, to_records

    evidence = [record["evidence"] for name in names
                for _, record in to_records(read_platform(platform, FIXTURES / name)) if record.get("evidence")]
    assert evidence and all(from_platform(platform, e) for e in evidence)
    assert not any(from_platform(other, e) for other in ("fatebook", "manifold") if other != platform for e in evidence)


@pytest.mark.parametrize("name", ["manifold.json", "predictionbook.json", "manifold-bets.json"])
def test_another_platforms_json_is_not_read_as_metaculus_notebooks(tmp_path, name):
    # every post has a question, a group, a conditional or a notebook: an object with none is no post
    db = tmp_path / "new.db"
    assert "is not a Metaculus post (it has no question, group_of_questions, conditional or notebook)" in refused(
        db, "metaculus", FIXTURES / name, source="alice")
    assert not db.exists()


def test_a_json_element_of_countless_tiny_values_is_refused_before_it_is_parsed(ledger_db, tmp_path, monkeypatch):
    # 50 MB of "[]," parsed took 1.3 GB: the values are counted (commas, brackets) before parsing.
    # The limit is on an element of the streamed list (each is parsed alone), not on the file.
    from predictions.platforms import common

    monkeypatch.setattr(common, "MAX_JSON_VALUES", 1000)
    path = tmp_path / "lists.json"
    path.write_text('{"predictions": [[' + ",".join(["[]"] * 600) + "]]}", encoding="utf-8")
    assert refused(ledger_db, "predictionbook", path) == (
        f"{path}: holds about 1,200 JSON values; at most 1,000 are read (parsed, they would take gigabytes of memory)")
    path.write_text('{"predictions": [[' + ",".join(["[]"] * 400) + "]]}", encoding="utf-8")
    assert "must be a prediction" in refused(ledger_db, "predictionbook", path)  # under the limit: parsed
    many = ",".join(['{"id": 1}'] * 600)  # as many values in small elements: each is under the limit
    path.write_text('{"predictions": [' + many + "]}", encoding="utf-8")
    assert "field description" in refused(ledger_db, "predictionbook", path)


# --- invisible formatting characters: removed and counted, not a refusal of the whole file -----------

def test_emoji_joiners_and_rtl_marks_are_removed_and_counted_not_refused(tmp_path):
    # a Manifold title with a family emoji (ZWJ), a Hebrew Fatebook title with an RLM: real text
    path = _json(tmp_path, "manifold.json", _set(0, "market", "question", "Will the \U0001F468\u200d\U0001F469 bridge open?"))
    fatebook = _fatebook(tmp_path, '"Will the library open on Sundays by 2026?"', '"\u05d4\u05d0\u05dd \u05d4\u05e1\u05e4\u05e8\u05d9\u05d9\u05d4\u200f?"')
    with Ledger(tmp_path / "ledger.db") as ledger:
        summary = ledger.import_platform("manifold", path, today=TODAY)
        titles = {q.question.question for q in ledger.questions()}
        hebrew = ledger.import_platform("fatebook", fatebook, today=TODAY)
        again = ledger.import_platform("fatebook", fatebook, today=TODAY)  # the same text each time
    assert "Will the \U0001F468\U0001F469 bridge open?" in titles
    key = "invisible characters in text (zero-width joiners, bidi marks: the ledger refuses them; removed)"
    assert summary.skipped[key] == 1 and hebrew.skipped[key] == 1
    assert f"skipped 1 {key.replace('characters', 'character')}" in summary.skipped_lines()
    assert (again.forecasts, again.differs) == (0, ())


@pytest.mark.parametrize("title, message", [
    ("Will \x1b[31mX\x1b[0m happen?", "contains a control character (such as NUL)"),
    ("Will \x9b31m X happen?", "contains a control character (U+009B, a C1 control)"),
    ("Will\u2028 X happen?", "contains U+2028, a line or paragraph separator"),
])  # fmt: skip
def test_controls_and_separators_are_still_refused(ledger_db, tmp_path, title, message):
    path = _fatebook(tmp_path, '"Will the library open on Sundays by 2026?"', f'"{title}"')
    assert message in refused(ledger_db, "fatebook", path)


def test_what_is_removed_is_exactly_the_formatting_characters_the_ledger_refuses():
    import sys
    import unicodedata

    from predictions.escape import UNSAFE
    from predictions.platforms.common import FORMAT

    for code in range(sys.maxunicode + 1):
        char = chr(code)
        if UNSAFE.match(char) and unicodedata.category(char) == "Cf":
            assert FORMAT.match(char), f"U+{code:04X}"
        elif FORMAT.match(char):
            assert UNSAFE.match(char) and unicodedata.category(char) in ("Cf", "Cn"), f"U+{code:04X}"


def test_a_bad_source_option_is_named_as_the_option_not_a_place_in_the_file(ledger_db):
    # the file-naming net for unlocated refusals must not pin an option's refusal on the file
    assert refused(ledger_db, "fatebook", FIXTURES / "fatebook.csv", source="me\x1b[2J") == (
        "field source (--source): contains a control character (such as NUL); remove it")
