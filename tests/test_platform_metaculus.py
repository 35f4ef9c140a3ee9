"""The Metaculus parsers: the data-export zip and the API posts JSON, every mapped field, what
each shape gives, the same identity in both, newer exports, and malformed files."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import random
import zipfile
from pathlib import Path

import attrs
import pytest

from predictions import ValidationError
from predictions.platforms import read_platform
from predictions.platforms.metaculus import NO_CRITERIA

FIXTURES = Path(__file__).parent / "fixtures" / "platforms"
UTC = dt.timezone.utc


def read(path, **options):
    batch = read_platform("metaculus", path, **options)
    return list(batch), batch.skipped.lines()


def test_the_data_export_maps_every_field():
    questions, skipped = read(FIXTURES / "metaculus.zip")
    assert [q.key for q in questions] == ["31001", "31002", "31003", "31004", "31005"]
    assert skipped == [
        "skipped 1 multiple-choice question", "skipped 1 numeric question",
        "skipped 2 aggregate forecasts (the community prediction and the like)",
        "skipped 1 forecast on multiple-choice questions", "skipped 1 forecast on numeric questions",
    ]
    bridge, rain, ferry, launch, library = questions
    assert bridge.platform == "metaculus"
    assert bridge.title == "Will the Harbour Bridge reopen to cars before June 1, 2025?"
    assert bridge.url == "https://www.metaculus.com/questions/30001/harbour-bridge-reopening/"
    assert (bridge.criteria, bridge.criteria_from_platform) == (NO_CRITERIA, False)  # the export has none
    assert bridge.created == dt.datetime(2025, 1, 5, 9, 0, tzinfo=UTC)  # Open Time
    assert bridge.deadline == dt.date(2025, 6, 1)  # Scheduled Close Time
    assert bridge.tags == ("cities-towns", "infrastructure")  # Categories, as ledger tags
    assert (bridge.outcome, bridge.resolved_on) == ("yes", dt.date(2025, 5, 20))
    assert bridge.resolved_at == dt.datetime(2025, 5, 20, 18, 30, 45, 250000, tzinfo=UTC)  # Resolution Known Time
    assert bridge.evidence == ("Resolved yes on Metaculus at 2025-05-20T18:30:45.250000Z "
                               "(https://www.metaculus.com/questions/30001/harbour-bridge-reopening/).")
    assert bridge.where.endswith("metaculus.zip!question_data.csv:2")
    # the whole history: an update, a second forecaster and a bot; the aggregates are not anyone's
    assert [(f.key, f.source, f.probability, f.made_at, f.basis) for f in bridge.forecasts] == [
        ("31001/1111/2025-01-05T09:03:07.123456Z", "alice", 0.6, dt.datetime(2025, 1, 5, 9, 3, 7, 123456, tzinfo=UTC), "stated"),
        ("31001/2222/2025-01-06T11:00:00Z", "bob_s", 0.4, dt.datetime(2025, 1, 6, 11, 0, tzinfo=UTC), "stated"),
        ("31001/1111/2025-03-10T14:20:09Z", "alice", 0.75, dt.datetime(2025, 3, 10, 14, 20, 9, tzinfo=UTC), "stated"),
        ("31001/3333/2025-02-01T00:00:00Z", "fcst-bot", 0.55, dt.datetime(2025, 2, 1, tzinfo=UTC), "stated"),
    ]
    assert bridge.forecasts[0].where.endswith("metaculus.zip!forecast_data.csv:2")
    assert rain.title == 'Will it rain in Paris on July 14, 2025, per "Météo-France"?'
    assert (rain.outcome, rain.resolved_on, rain.deadline) == ("no", dt.date(2025, 7, 15), dt.date(2025, 7, 14))
    assert (ferry.outcome, ferry.resolved_on) == ("annulled", dt.date(2025, 3, 1))
    assert (launch.outcome, launch.resolved_on) == ("ambiguous", dt.date(2025, 10, 1))
    assert launch.forecasts[1].probability == 0.999
    assert (library.outcome, library.resolved_at, library.resolved_on) == (None, None, None)


def test_the_api_posts_map_every_field():
    questions, skipped = read(FIXTURES / "metaculus-posts.json")
    assert [q.key for q in questions] == ["31001", "31002", "31005", "31010"]
    assert skipped == ["skipped 1 multiple-choice question", "skipped 1 question without any forecast of yours",
                       "skipped 1 conditional question", "skipped 1 post without a question (notebooks)"]
    bridge, rain, library, toll = questions
    assert bridge.criteria == ("Resolves **Yes** if the city opens the bridge to car traffic before June 1, 2025.\n\n"
                               'Fine print: "Soft openings" for buses only do not count.')
    assert bridge.criteria_from_platform is True
    assert bridge.where.endswith("metaculus-posts.json:$.results[0].question")
    # history entries without values: only the latest forecast is there to read
    assert [(f.key, f.source, f.probability) for f in bridge.forecasts] == [
        ("31001/1111/2025-03-10T14:20:09Z", "Metaculus user 1111", 0.75)]
    assert bridge.forecasts[0].where.endswith("$.results[0].question.my_forecasts.latest")
    assert [(f.key, f.probability) for f in rain.forecasts] == [("31002/1111/2025-07-01T08:15:30Z", 0.3)]
    assert (library.criteria, library.criteria_from_platform) == (NO_CRITERIA, False)  # empty criteria and fine print
    # a group's sub-question: its own id and title, the group's criteria
    assert toll.title == "Harbour Bridge toll above $2 (2026)?"
    assert toll.url == "https://www.metaculus.com/questions/30010/bridge-tolls/"
    assert toll.criteria.startswith("Each sub-question resolves Yes if the posted toll exceeds")
    assert toll.where.endswith("$.results[4].group_of_questions.questions[0]")


def test_both_shapes_give_a_question_the_same_identity_and_content():
    exported = {q.key: q for q in read(FIXTURES / "metaculus.zip")[0]}
    posted = {q.key: q for q in read(FIXTURES / "metaculus-posts.json")[0]}
    for key in ("31001", "31002", "31005"):
        assert attrs.evolve(posted[key], criteria=NO_CRITERIA, criteria_from_platform=False) == exported[key]
    # alice's latest forecast on the bridge is the same forecast in both
    assert posted["31001"].forecasts[0].key in {f.key for f in exported["31001"].forecasts}
    assert posted["31001"].forecasts[0].made_at == exported["31001"].forecasts[2].made_at


def test_source_names_the_api_users_forecasts():
    questions, _ = read(FIXTURES / "metaculus-posts.json", source="alice")
    assert {f.source for q in questions for f in q.forecasts} == {"alice"}
    with pytest.raises(ValidationError, match=r"forecast_data\.csv:3: field source \(--source\): names one forecaster"):
        read(FIXTURES / "metaculus.zip", source="alice")


@pytest.mark.parametrize("first, newer", [("metaculus.zip", "metaculus-newer.zip"),
                                          ("metaculus-posts.json", "metaculus-posts-newer.json")])
def test_a_newer_export_keeps_every_identity(first, newer):
    before = read(FIXTURES / first)[0]
    after = read(FIXTURES / newer)[0]
    old = {f.key for q in before for f in q.forecasts}
    new = {f.key: f for q in after for f in q.forecasts}
    assert old < set(new)
    added = sorted((k.split("/")[0], new[k].probability) for k in set(new) - old)
    if first.endswith(".zip"):
        assert added == [("31005", 0.35), ("31008", 0.65), ("31008", 0.7)]
        by_key = {q.key: q for q in after}
        assert {q.key: q for q in before}["31002"].same_question(by_key["31002"]) == "outcome"  # no -> annulled
        assert (by_key["31005"].outcome, by_key["31005"].resolved_on) == ("yes", dt.date(2026, 6, 1))
    else:
        assert added == [("31005", 0.35), ("31008", 0.65)]


def _rewrite(tmp_path, *, questions=None, forecasts=None, extra=(), name="export.zip") -> Path:
    """A copy of metaculus.zip with either table changed by a function of its rows."""
    with zipfile.ZipFile(FIXTURES / "metaculus.zip") as source:
        tables = {n: list(csv.reader(io.StringIO(source.read(n).decode(), newline="")))
                  for n in ("question_data.csv", "forecast_data.csv")}
    if questions:
        tables["question_data.csv"] = questions(tables["question_data.csv"])
    if forecasts:
        tables["forecast_data.csv"] = forecasts(tables["forecast_data.csv"])
    path = tmp_path / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, rows in tables.items():
            out = io.StringIO()
            csv.writer(out).writerows(rows)
            archive.writestr(member, out.getvalue())
        for member, content in extra:
            archive.writestr(member, content)
    return path


@pytest.mark.parametrize("seed", range(3))
def test_an_unsorted_user_export_gives_the_same_forecasts(tmp_path, seed):
    """export_data_for_user does not sort its forecasts: a question is then yielded in pieces."""
    def shuffle(rows):
        body = rows[1:]
        random.Random(seed).shuffle(body)
        return [rows[0], *body]
    expected = read(FIXTURES / "metaculus.zip")[0]
    questions = read(_rewrite(tmp_path, forecasts=shuffle))[0]
    assert {q.key: q for q in questions} == {q.key: q for q in expected}
    assert sorted(f.key for q in questions for f in q.forecasts) == sorted(f.key for q in expected for f in q.forecasts)


def test_an_anonymized_export_names_forecasters_by_their_hash(tmp_path):
    def anonymize(rows):
        head = ["Question ID", "Forecaster (Anonymized)"] + rows[0][3:]
        return [head] + [[r[0], ("%064x" % int(r[1])) if r[1] else r[2]] + r[3:] for r in rows[1:]]
    questions = read(_rewrite(tmp_path, forecasts=anonymize))[0]
    assert questions[0].forecasts[0].source == "anonymous 000000000000"
    assert questions[0].forecasts[0].key == "31001/" + "%064x" % 1111 + "/2025-01-05T09:03:07.123456Z"


def _drop_column(name):
    def drop(rows):
        i = rows[0].index(name)
        return [r[:i] + r[i + 1:] for r in rows]
    return drop


def _set_cell(row, column, value):
    def change(rows):
        rows[row][rows[0].index(column)] = value
        return rows
    return change


@pytest.mark.parametrize("change, where, message", [
    ({"questions": _drop_column("Question Type")}, "question_data.csv:1", "field Question Type: is a required column and is missing"),
    ({"forecasts": _drop_column("Probability Yes")}, "forecast_data.csv:1", "field Probability Yes: is a required column and is missing"),
    ({"forecasts": _set_cell(2, "Probability Yes", "0,4")}, "forecast_data.csv:3", "field Probability Yes: '0,4' is not a number"),
    ({"forecasts": _set_cell(2, "Start Time", "yesterday")}, "forecast_data.csv:3", "field Start Time: 'yesterday' is not an ISO 8601 time"),
    ({"forecasts": _set_cell(2, "Question ID", "99999")}, "forecast_data.csv:3", "field Question ID: '99999' is not a question in question_data.csv"),
    ({"questions": _set_cell(1, "Resolution", "maybe")}, "question_data.csv:2", "field Resolution: 'maybe' is not yes, no, ambiguous, annulled or empty"),
    ({"questions": _set_cell(1, "Resolution Known Time", "")}, "question_data.csv:2", None),  # falls back to Actual Close Time
    ({"questions": _set_cell(1, "Categories", "['a', ['b']]")}, "question_data.csv:2", "field Categories: \"['a', ['b']]\" is not a list of names"),
    ({"questions": _set_cell(1, "Categories", "__import__('os')")}, "question_data.csv:2", "is not a list of names"),
    ({"questions": _set_cell(1, "Scheduled Close Time", "")}, "question_data.csv:2", "field Scheduled Close Time: is required"),
])
def test_malformed_exports_are_refused_naming_the_member_line_and_column(tmp_path, change, where, message):
    path = _rewrite(tmp_path, **change)
    if message is None:
        (bridge, *_), _ = read(path)
        assert bridge.resolved_on == dt.date(2025, 5, 20)  # Actual Close Time, the earlier of close and known
        return
    with pytest.raises(ValidationError) as refused:
        read(path)
    assert str(refused.value).startswith(f"{path}!{where}: ")
    assert message in str(refused.value)


@pytest.mark.parametrize("change, message", [
    (lambda post: post["question"].update(scheduled_close_time=5), "field scheduled_close_time: must be a time (ISO 8601 text), not int"),
    (lambda post: post["question"].update(type=None), "field type: is required"),
    (lambda post: post["question"]["my_forecasts"]["latest"].update(forecast_values=[0.2, 0.3, 0.5]),
     "field forecast_values: has 3 values; a binary forecast has 2"),
    (lambda post: post["question"]["my_forecasts"]["latest"].update(start_time="2025-03-10"),
     "field start_time: must be a number (time since 1970), not text"),
    (lambda post: post["question"]["my_forecasts"]["latest"].update(start_time=1e300),
     "field start_time: 1e+300 is not a time between the years 1 and 9999"),
    (lambda post: post["question"].update(resolution=["yes"]), "field resolution: must be text or null, not a list"),
    (lambda post: post.update(projects={"category": [{"name": 5}]}), "field name: must be text, not int"),
])
def test_malformed_posts_are_refused_naming_the_path_and_field(tmp_path, change, message):
    data = json.loads((FIXTURES / "metaculus-posts.json").read_text(encoding="utf-8"))
    change(data["results"][0])
    path = tmp_path / "posts.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ValidationError) as refused:
        read(path)
    assert str(refused.value).startswith(f"{path}:$.results[0]")
    assert message in str(refused.value)


def test_truncated_posts_json_names_its_line(tmp_path):
    text = (FIXTURES / "metaculus-posts.json").read_text(encoding="utf-8")
    path = tmp_path / "cut.json"
    path.write_text(text[: len(text) // 2], encoding="utf-8")
    with pytest.raises(ValidationError, match=r"cut\.json:\d+: not valid JSON"):
        read(path)
