"""`predictions import --from PLATFORM FILE`: each platform fixture through the command, every mapped
field in the ledger, a second import that adds nothing, a newer overlapping export that adds only
what is new (a changed resolution as a correction "changed on PLATFORM"), an older one that undoes
nothing, an edit reported and not merged, and a malformed file of each platform refused with one
line, the ledger unchanged."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli
from predictions import Ledger
from predictions.platforms import read_platform
from predictions.platforms.records import NAMES, ledger_id

FIXTURES = Path(__file__).parent / "fixtures" / "platforms"
TODAY = "2026-11-22"
FILES = [("fatebook", ["fatebook.csv"]), ("fatebook", ["fatebook-2023.csv"]), ("fatebook", ["fatebook-2024.csv"]),
         ("predictionbook", ["predictionbook.json"]), ("predictionbook", ["predictionbook-withdrawn.json"]),
         ("metaculus", ["metaculus.zip"]), ("metaculus", ["metaculus-posts.json"]), ("manifold", ["manifold.json"]),
         ("manifold", ["manifold-market.json", "manifold-bets.json"])]  # fmt: skip
NEWER = [("fatebook", "fatebook.csv", "fatebook-newer.csv"), ("predictionbook", "predictionbook.json", "predictionbook-newer.json"),
         ("metaculus", "metaculus.zip", "metaculus-newer.zip"), ("metaculus", "metaculus-posts.json", "metaculus-posts-newer.json"),
         ("manifold", "manifold.json", "manifold-newer.json")]  # fmt: skip
SOURCE = {"metaculus-posts.json": "alice", "metaculus-posts-newer.json": "alice"}  # the API file names no one


@pytest.fixture
def run(tmp_path):
    def invoke(*args, code=0):
        result = CliRunner().invoke(cli, ["--db", str(tmp_path / "ledger.db"), "--today", TODAY, *map(str, args)])
        assert result.exit_code == code, (result.stdout, result.stderr, result.exception)
        if code == 1:
            assert result.stdout == "" and result.stderr.count("\n") == 1 and result.stderr.startswith("Error: ")
            assert "Traceback" not in result.stderr
        return result

    return invoke


def _args(platform, names):
    source = SOURCE.get(names[0])
    return ["import", "--from", platform, *[FIXTURES / n for n in names], *(["--source", source] if source else [])]


def _import(run, platform, names, *extra, code=0):
    result = run(*_args(platform, names), *extra, code=code)
    return json.loads(result.stdout) if "--json" in extra and code == 0 else result


def _batch(platform, names):
    batch = read_platform(platform, [FIXTURES / n for n in names], source=SOURCE.get(names[0]))
    return list(batch), batch.skipped.counts


def _state(db: Path):
    with Ledger(db, read_only=True) as ledger:
        return ledger.head(), ledger.count(), db.read_bytes()


@pytest.mark.parametrize("platform, names", FILES)
def test_each_fixture_imports_every_mapped_field_and_a_second_time_adds_nothing(run, tmp_path, platform, names):
    questions, skipped = _batch(platform, names)
    summary = _import(run, platform, names, "--json")
    forecasts = sum(len(q.forecasts) for q in questions)
    assert (summary["forecasts"], summary["questions"]) == (forecasts, len({q.key for q in questions}))
    assert summary["resolutions"] == len({q.key for q in questions if q.outcome})
    assert summary["skipped"] == skipped and summary["platform"] == platform
    assert (summary["skipped_existing"], summary["corrections"], summary["differs"]) == (0, 0, [])
    with Ledger(tmp_path / "ledger.db", read_only=True) as ledger:
        assert ledger.verify().ok and summary["head"] == ledger.head().hash
        for question in questions:
            stored = ledger.get_question(ledger_id(platform, question.key))
            assert stored.question.question == question.title
            assert stored.question.resolution_criteria == question.criteria
            assert (stored.question.deadline, stored.question.tags) == (question.deadline, question.tags)
            if question.outcome is None:
                assert stored.current is None
            else:
                assert stored.current.outcome == question.outcome
                expected_on = min(question.resolved_on, question.deadline) if question.outcome == "yes" else question.resolved_on
                assert stored.current.resolved_on == expected_on
                assert stored.current.evidence.startswith(question.evidence)
            by_id = {f.id: f for f in stored.forecasts}
            for forecast in question.forecasts:
                kept = by_id[ledger_id(platform, question.key, forecast.key)]
                assert (kept.source, kept.made_on, kept.probability, kept.probability_basis, kept.note) == (
                    forecast.source, forecast.made_at.date(), forecast.probability, forecast.basis, forecast.comment)
                assert (kept.claim, kept.document.outlet, kept.document.url) == (question.title, NAMES[platform], question.url)
    again = _import(run, platform, names, "--json")
    assert (again["forecasts"], again["questions"], again["resolutions"], again["corrections"]) == (0, 0, 0, 0)
    assert again["skipped_existing"] == forecasts and again["differs"] == [] and again["head"] == summary["head"]


@pytest.mark.parametrize("platform, older, newer", NEWER)
def test_a_newer_overlapping_export_adds_only_what_is_new(run, tmp_path, platform, older, newer):
    old_questions, _ = _batch(platform, [older])
    new_questions, _ = _batch(platform, [newer])
    _import(run, platform, [older])
    summary = _import(run, platform, [newer], "--json")

    def forecast_ids(questions):
        return {ledger_id(platform, q.key, f.key) for q in questions for f in q.forecasts}

    old_ids, new_ids = forecast_ids(old_questions), forecast_ids(new_questions)
    assert summary["forecasts"] == len(new_ids - old_ids) > 0
    assert summary["skipped_existing"] == len(new_ids & old_ids) > 0
    old_outcomes = {q.key: (q.outcome, q.resolved_on) for q in old_questions}
    changed = {q.key for q in new_questions if q.outcome and old_outcomes.get(q.key, (None,))[0] and
               old_outcomes[q.key] != (q.outcome, q.resolved_on)}  # fmt: skip
    newly = {q.key for q in new_questions if q.outcome and q.key in old_outcomes and old_outcomes[q.key][0] is None}
    assert summary["corrections"] == len(changed)
    assert summary["questions"] == len({q.key for q in new_questions} - set(old_outcomes))
    with Ledger(tmp_path / "ledger.db", read_only=True) as ledger:
        assert ledger.verify().ok and ledger.count() == len(old_ids | new_ids)
        for key in changed:
            history = ledger.history(ledger_id(platform, key))
            assert len(history) == 2 and history[-1].correction_reason == f"changed on {NAMES[platform]}"
            assert history[-1].outcome == next(q.outcome for q in new_questions if q.key == key)
        for key in newly:
            history = ledger.history(ledger_id(platform, key))
            assert len(history) == 1 and history[0].outcome == next(q.outcome for q in new_questions if q.key == key)
    head = summary["head"]
    again = _import(run, platform, [newer], "--json")
    assert (again["forecasts"], again["corrections"], again["head"]) == (0, 0, head)


def test_every_platform_has_a_changed_resolution_among_the_fixtures():
    """So that the correction rule is exercised for each platform's name, not only for one."""
    seen = set()
    for platform, older, newer in NEWER:
        old = {q.key: q.outcome for q in _batch(platform, [older])[0]}
        if any(q.outcome and old.get(q.key) and old[q.key] != q.outcome for q in _batch(platform, [newer])[0]):
            seen.add(platform)
    assert seen == set(NAMES)


def test_an_older_export_again_after_a_newer_one_undoes_nothing(run, tmp_path):
    _import(run, "fatebook", ["fatebook.csv"])
    _import(run, "fatebook", ["fatebook-newer.csv"])  # AMBIGUOUS became NO: a correction
    before = _state(tmp_path / "ledger.db")
    summary = _import(run, "fatebook", ["fatebook.csv"], "--json")
    assert (summary["forecasts"], summary["corrections"], summary["resolutions"]) == (0, 0, 0)
    reasons = {d["id"]: d["reason"] for d in summary["differs"]}
    assert len(reasons) == 2
    assert any("as the ledger had it before its no on 2025-10-03 (an older export?)" in r for r in reasons.values())
    assert any(r == "resolved no in the ledger, open on Fatebook; kept as recorded" for r in reasons.values())
    assert all(d["where"].startswith(str(FIXTURES / "fatebook.csv") + ":") for d in summary["differs"])
    assert _state(tmp_path / "ledger.db")[:2] == before[:2]


def test_an_edited_question_is_reported_and_not_merged(run, tmp_path):
    edited = json.loads((FIXTURES / "metaculus-posts.json").read_text(encoding="utf-8"))
    question = edited["results"][0]["question"]
    original_title = question["title"]
    question["title"] = "Will the Harbour Bridge reopen to cars (and trams) before June 1, 2025?"
    path = tmp_path / "posts-edited.json"
    path.write_text(json.dumps(edited), encoding="utf-8")
    _import(run, "metaculus", ["metaculus-posts.json"])
    head = _state(tmp_path / "ledger.db")[0]
    summary = json.loads(run("import", "--from", "metaculus", path, "--source", "alice", "--json").stdout)
    qid = ledger_id("metaculus", str(question["id"]))
    assert summary["differs"] == [{"id": qid, "where": summary["differs"][0]["where"], "fields": ["question"],
                                   "reason": "question edited on Metaculus; kept as recorded"}]  # fmt: skip
    assert summary["forecasts"] == 0 and summary["head"] == head.hash
    with Ledger(tmp_path / "ledger.db", read_only=True) as ledger:
        assert ledger.get_question(qid).question.question == original_title
    text = run("import", "--from", "metaculus", path, "--source", "alice").stdout
    assert f": {qid}: question edited on Metaculus; kept as recorded\n" in text


def test_a_changed_forecast_is_reported_and_kept_as_recorded(run, tmp_path):
    data = json.loads((FIXTURES / "predictionbook.json").read_text(encoding="utf-8"))
    response = data["predictions"][0]["responses"][0]
    response["confidence"] = 65
    path = tmp_path / "pb-changed.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    _import(run, "predictionbook", ["predictionbook.json"])
    summary = json.loads(run("import", "--from", "predictionbook", path, "--json").stdout)
    qkey = str(data["predictions"][0]["id"])
    fid = ledger_id("predictionbook", qkey, f"{qkey}/{response['id']}")
    assert [(d["id"], d["fields"], d["reason"]) for d in summary["differs"]] == [
        (fid, ["probability"], "forecast changed on PredictionBook; kept as recorded")]
    assert summary["forecasts"] == 0 and summary["skipped_existing"] == 7
    with Ledger(tmp_path / "ledger.db", read_only=True) as ledger:
        assert ledger.get(fid).forecast.probability == 0.6


def test_a_forecast_after_an_edited_deadline_is_reported_not_imported(run, tmp_path):
    lines = (FIXTURES / "fatebook.csv").read_text(encoding="utf-8").split("\n")
    library = lines[-1]
    assert library.startswith('"Will the library open on Sundays by 2026?"') and "2026-01-01 12:00:0" in library
    edited = library.replace("2026-01-01 12:00:0", "2026-06-01 12:00:0")
    later = edited.replace(",0.2,2025-08-09 19:05:5,", ",0.3,2026-02-01 10:00:0,")
    path = tmp_path / "fatebook-edited.csv"
    path.write_text("\n".join([*lines[:-1], edited, later]), encoding="utf-8")
    _import(run, "fatebook", ["fatebook.csv"])
    summary = json.loads(run("import", "--from", "fatebook", path, "--json").stdout)
    assert [(d["fields"], d["reason"]) for d in summary["differs"]] == [
        (["deadline"], "question edited on Fatebook; kept as recorded"),
        (["made_on"], "made after the question's recorded deadline 2026-01-01; not imported")]
    assert (summary["forecasts"], summary["skipped_existing"]) == (0, 6)


def test_the_text_summary_is_plain_words_with_plurals(run):
    lines = run(*_args("fatebook", ["fatebook.csv"])).stdout.splitlines()
    assert lines[0].startswith("Imported 6 forecasts, 4 new questions and 3 resolutions from Fatebook; chain head ")
    assert lines[1:] == ["skipped 1 multiple-choice question", "skipped 2 forecasts on multiple-choice questions"]
    lines = run(*_args("fatebook", ["fatebook-newer.csv"])).stdout.splitlines()
    assert lines[0].startswith("Imported 3 forecasts, 1 new question, 1 resolution and 1 correction from Fatebook; ")
    assert lines[1] == "skipped 6 forecasts already in the ledger"


# --- malformed files: one line naming where, the ledger unchanged ----------------------------------


def _zip_with(tmp_path, member: str, edit) -> Path:
    target = tmp_path / "bad.zip"
    with zipfile.ZipFile(FIXTURES / "metaculus.zip") as source, zipfile.ZipFile(target, "w") as out:
        for info in source.infolist():
            data = source.read(info)
            out.writestr(info.filename, edit(data) if info.filename.endswith(member) else data)
    return target


def _malformed(tmp_path, kind):
    if kind == "fatebook":  # a missing column
        lines = (FIXTURES / "fatebook.csv").read_text(encoding="utf-8").split("\n")
        lines[0] = lines[0].replace("Forecast created at,", "")
        path = tmp_path / "bad.csv"
        path.write_text("\n".join(lines), encoding="utf-8")
        return "fatebook", path, f"{path}:1: field Forecast created at: "
    if kind == "predictionbook":  # a wrong type
        data = json.loads((FIXTURES / "predictionbook.json").read_text(encoding="utf-8"))
        data["predictions"][1]["responses"][0]["confidence"] = "sixty"
        path = tmp_path / "bad.json"
        path.write_text(json.dumps(data), encoding="utf-8")
        return "predictionbook", path, f"{path}:$.predictions[1].responses[0]: field confidence: "
    if kind == "metaculus":  # a bad value in the zip's forecasts
        path = _zip_with(tmp_path, "forecast_data.csv", lambda d: d.replace(b"0.6", b"0.6x", 1))
        return "metaculus", path, f"{path}!"
    text = (FIXTURES / ("metaculus-posts.json" if kind == "metaculus-posts" else "manifold.json")).read_text(encoding="utf-8")
    path = tmp_path / "truncated.json"
    path.write_text(text[: len(text) // 2], encoding="utf-8")
    return ("metaculus" if kind == "metaculus-posts" else "manifold"), path, f"{path}:"


@pytest.mark.parametrize("kind", ["fatebook", "predictionbook", "metaculus", "metaculus-posts", "manifold"])
def test_a_malformed_file_is_refused_with_one_line_and_the_ledger_unchanged(run, tmp_path, kind):
    platform, path, where = _malformed(tmp_path, kind)
    _import(run, "fatebook", ["fatebook.csv"])  # a ledger with something in it
    before = _state(tmp_path / "ledger.db")
    result = run("import", "--from", platform, path, *(["--source", "alice"] if kind == "metaculus-posts" else []), code=1)
    assert result.stderr.startswith(f"Error: {where}"), result.stderr
    assert _state(tmp_path / "ledger.db") == before


def test_a_malformed_file_into_no_ledger_leaves_no_file(run, tmp_path):
    platform, path, where = _malformed(tmp_path, "fatebook")
    run("import", "--from", platform, path, code=1)
    assert not (tmp_path / "ledger.db").exists()


@pytest.mark.parametrize("args, message", [
    (["--from", "fatebook", "--format", "csv", FIXTURES / "fatebook.csv"], "--format is for the project's own formats"),
    (["--source", "me", FIXTURES / "fatebook.csv"], "--source is for --from PLATFORM"),
    (["--from", "fatebook", FIXTURES / "fatebook.csv", FIXTURES / "fatebook-newer.csv"], "--from fatebook reads one FILE, not 2"),
    (["--from", "manifold", *[FIXTURES / "manifold.json"] * 3], "--from manifold reads one FILE, not 3"),
    (["--from", "kalshi", FIXTURES / "fatebook.csv"], "'kalshi' is not one of"),
])  # fmt: skip
def test_usage_errors(run, tmp_path, args, message):
    result = run("import", *args, code=2)
    assert message in result.stderr and not (tmp_path / "ledger.db").exists()


def test_progress_hears_every_byte_of_the_files(tmp_path):
    heard = []
    names = [FIXTURES / "manifold-market.json", FIXTURES / "manifold-bets.json"]
    with Ledger(tmp_path / "ledger.db") as ledger:
        ledger.import_platform("manifold", names, progress=heard.append)
    assert sum(heard) == sum(p.stat().st_size for p in names)


# --- through the installed command ------------------------------------------------------------------

SCRIPT = Path(sys.executable).with_name("predictions")


@pytest.mark.skipif(not SCRIPT.exists(), reason="the predictions script is not installed beside python")
def test_the_installed_command_imports_and_reimports(tmp_path):
    shutil.copy(FIXTURES / "predictionbook.json", tmp_path / "pb.json")

    def predictions(*args):
        return subprocess.run([str(SCRIPT), "--db", str(tmp_path / "l.db"), "--today", TODAY, *map(str, args)],
                              capture_output=True, text=True, encoding="utf-8", stdin=subprocess.DEVNULL, timeout=60,
                              cwd=tmp_path)  # fmt: skip

    first = predictions("import", "--from", "predictionbook", "pb.json")
    assert first.returncode == 0 and first.stderr == ""  # no progress bar: stderr is not a terminal
    assert first.stdout.startswith("Imported 8 forecasts, 5 new questions and 3 resolutions from PredictionBook; ")
    again = predictions("import", "--from", "predictionbook", "pb.json", "--json")
    summary = json.loads(again.stdout)
    assert (summary["forecasts"], summary["skipped_existing"]) == (0, 8)
    assert summary["head"] == predictions("head").stdout.strip()
    newer = predictions("import", "--from", "predictionbook", FIXTURES / "predictionbook-newer.json")
    assert newer.returncode == 0 and "1 correction from PredictionBook" in newer.stdout
    bad = predictions("import", "--from", "predictionbook", FIXTURES / "manifold.json")
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1 and bad.stderr.startswith("Error: ")


def test_the_differences_listed_are_bounded_and_all_counted(run, monkeypatch):
    from predictions import importing

    _import(run, "fatebook", ["fatebook.csv"])
    _import(run, "fatebook", ["fatebook-newer.csv"])
    monkeypatch.setattr(importing, "MAX_DIFFERENCES", 1)
    summary = _import(run, "fatebook", ["fatebook.csv"], "--json")
    assert (len(summary["differs"]), summary["differs_total"]) == (1, 2)
    lines = run(*_args("fatebook", ["fatebook.csv"])).stdout.splitlines()
    assert lines[-1] == "... and 1 more kept as recorded (--json lists the first 1)"
