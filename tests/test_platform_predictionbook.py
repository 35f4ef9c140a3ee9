"""The PredictionBook JSON parser: every mapped field, the accepted shapes, a newer export, and
malformed files named by their JSON path and field."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from predictions import ValidationError
from predictions.platforms import read_platform

FIXTURES = Path(__file__).parent / "fixtures" / "platforms"
UTC = dt.timezone.utc


def read(path, **options):
    batch = read_platform("predictionbook", path, **options)
    return list(batch), batch.skipped.lines()


def test_my_predictions_maps_every_field():
    questions, skipped = read(FIXTURES / "predictionbook.json")
    assert [q.key for q in questions] == ["1001", "1002", "1003", "1004", "1006"]
    assert skipped == ["skipped 2 comments (responses without a confidence)"]  # comments are not forecasts
    bridge, rain, launch, ferry, library = questions
    assert bridge.platform == "predictionbook"
    assert bridge.title == "The Harbour Bridge reopens to cars before 1 June 2025"
    assert bridge.criteria == "As judged on PredictionBook."  # PredictionBook has no criteria field
    assert bridge.criteria_from_platform is False
    assert bridge.url == "https://predictionbook.com/predictions/1001"
    assert bridge.created == dt.datetime(2025, 1, 5, 9, 2, 41, tzinfo=UTC)
    assert bridge.deadline == dt.date(2025, 6, 1)
    assert bridge.tags == ()
    assert (bridge.outcome, bridge.resolved_on) == ("yes", dt.date(2025, 5, 21))
    assert bridge.resolved_at == dt.datetime(2025, 5, 21, 8, 0, tzinfo=UTC)
    assert bridge.evidence == "Judged right on PredictionBook at 2025-05-21T08:00:00Z (https://predictionbook.com/predictions/1001)."
    assert bridge.where.endswith("predictionbook.json:$.predictions[0]")
    assert [(f.key, f.source, f.probability, f.made_at, f.basis, f.comment) for f in bridge.forecasts] == [
        ("1001/5001", "Alice Example", 0.6, dt.datetime(2025, 1, 5, 9, 2, 41, tzinfo=UTC), "stated",
         "first guess; the works are on schedule"),
        ("1001/5002", "Bob Sample", 0.4, dt.datetime(2025, 1, 6, 11, 0, tzinfo=UTC), "stated", None),
        ("1001/5004", "Alice Example", 0.75, dt.datetime(2025, 3, 10, 14, 20, 9, tzinfo=UTC), "stated", None),
    ]
    assert bridge.forecasts[2].where.endswith("predictionbook.json:$.predictions[0].responses[3]")

    assert (rain.outcome, rain.resolved_on) == ("no", dt.date(2025, 7, 15))
    # judged "unknown" (a judgement with a null outcome) is not a resolution
    assert (launch.outcome, launch.resolved_on, launch.evidence) == (None, None, None)
    assert launch.title == 'The "Q3 launch" slips, again, past September — naïvely: yes'
    assert launch.created == dt.datetime(2025, 6, 1, 14, 45, 12, tzinfo=UTC)  # +02:00 in the file
    assert launch.forecasts[0].comment == "tab\there, and a line\nbreak"
    assert launch.forecasts[1].probability == 1.0  # confidence 100
    # outcome without last_judgement_at: the deadline is the date used, and the evidence says so
    assert (ferry.outcome, ferry.resolved_at, ferry.resolved_on) == ("yes", None, dt.date(2025, 12, 31))
    assert "the file gives no judgement time, so the prediction's deadline is used" in ferry.evidence
    assert ferry.forecasts[0].probability == 0.0
    assert library.outcome is None and [f.key for f in library.forecasts] == ["1006/5009"]


def test_a_withdrawn_prediction_is_annulled_on_its_last_update():
    """`predictions/:id` gives one prediction; my_predictions leaves withdrawn ones out."""
    (question,), skipped = read(FIXTURES / "predictionbook-withdrawn.json")
    assert (question.outcome, question.resolved_at, question.resolved_on) == ("annulled", None, dt.date(2025, 2, 20))
    assert question.evidence.startswith("Withdrawn on PredictionBook (https://predictionbook.com/predictions/1005)")
    assert question.where.endswith("predictionbook-withdrawn.json:$")
    assert question.forecasts[0].where.endswith("predictionbook-withdrawn.json:$.responses[0]")


def test_a_newer_export_adds_and_changes_only_what_changed():
    first, _ = read(FIXTURES / "predictionbook.json")
    newer, _ = read(FIXTURES / "predictionbook-newer.json")
    before, after = {q.key: q for q in first}, {q.key: q for q in newer}
    assert set(before) < set(after) and set(after) - set(before) == {"1007"}
    assert before["1002"].same_question(after["1002"]) == "outcome"  # re-judged wrong -> right
    assert all(before[k] == after[k] for k in before if k != "1002")
    old = {f.key for q in first for f in q.forecasts}
    new = {f.key for q in newer for f in q.forecasts}
    assert old < new and sorted(new - old) == ["1006/5012", "1007/5013", "1007/5014"]


@pytest.mark.parametrize("shape", ["list of predictions", "list of pages"])
def test_every_accepted_shape_gives_the_same_questions(tmp_path, shape):
    page = json.loads((FIXTURES / "predictionbook.json").read_text(encoding="utf-8"))
    data = page["predictions"] if shape == "list of predictions" else [
        dict(page, predictions=page["predictions"][:2]), dict(page, predictions=page["predictions"][2:])]
    path = tmp_path / "shape.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    expected, _ = read(FIXTURES / "predictionbook.json")
    questions, _ = read(path)
    assert questions == expected
    assert [f.key for q in questions for f in q.forecasts] == [f.key for q in expected for f in q.forecasts]


def test_source_overrides_only_a_single_persons_file(tmp_path):
    with pytest.raises(ValidationError, match=r"predictions\[0\]\.responses\[1\]: field source \(--source\): names one forecaster"):
        read(FIXTURES / "predictionbook.json", source="me")
    (question,), _ = read(FIXTURES / "predictionbook-withdrawn.json", source="me")
    assert question.forecasts[0].source == "me"


def _edited(tmp_path, change) -> Path:
    data = json.loads((FIXTURES / "predictionbook.json").read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_a_prediction_without_withdrawn_is_not_withdrawn(tmp_path):
    # missing was meant as null (not withdrawn), but reached the true/false check and was refused
    path = _edited(tmp_path, lambda data: [p.pop("withdrawn", None) for p in data["predictions"]])
    questions, _ = read(path)
    assert questions and all(q.outcome != "annulled" for q in questions)
    assert [q.key for q in questions] == [q.key for q in read(FIXTURES / "predictionbook.json")[0]]


def _set(path_keys, value):
    def change(data):
        target = data
        for key in path_keys[:-1]:
            target = target[key]
        if value is KeyError:
            del target[path_keys[-1]]
        else:
            target[path_keys[-1]] = value
    return change


@pytest.mark.parametrize("keys, value, where, message", [
    (["predictions", 1, "responses", 0, "confidence"], "high", "$.predictions[1].responses[0]",
     "field confidence: must be a number, not text"),
    (["predictions", 1, "responses", 0, "confidence"], 150, "$.predictions[1].responses[0]",
     "field confidence: 150.0 is outside [0, 100]"),
    (["predictions", 0, "deadline"], "next week", "$.predictions[0]", "field deadline: 'next week' is not an ISO 8601 time"),
    (["predictions", 0, "deadline"], KeyError, "$.predictions[0]", "field deadline: is required"),
    (["predictions", 0, "created_at"], "2025-02-30T00:00:00Z", "$.predictions[0]", "field created_at: '2025-02-30T00:00:00Z' is not a real time"),
    (["predictions", 0, "outcome"], "right", "$.predictions[0]", "field outcome: must be true, false or null, not text"),
    (["predictions", 0, "id"], [1], "$.predictions[0]", "field id: is not an id"),
    (["predictions", 0, "responses"], {"a": 1}, "$.predictions[0].responses", "must be a list of responses, not an object"),
    (["predictions", 2, "responses", 1, "user_label"], None, "$.predictions[2].responses[1]", "field user_label: is required"),
    (["predictions", 3], "a prediction", "$.predictions[3]", "must be a prediction object, not text"),
])
def test_malformed_values_are_refused_naming_the_json_path_and_field(tmp_path, keys, value, where, message):
    path = _edited(tmp_path, _set(keys, value))
    with pytest.raises(ValidationError) as refused:
        read(path)
    assert str(refused.value).startswith(f"{path}:{where}: ")
    assert message in str(refused.value)


def test_a_prediction_given_twice_differently_is_refused(tmp_path):
    def change(data):
        data["predictions"].append(dict(data["predictions"][0], description="edited"))
    path = _edited(tmp_path, change)
    with pytest.raises(ValidationError, match=r"\$\.predictions\[5\]: field title: differs from the same prediction at"):
        read(path)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2000))
def test_truncated_json_names_a_line(tmp_path_factory, cut):
    text = (FIXTURES / "predictionbook.json").read_text(encoding="utf-8")
    cut = min(cut, len(text) - 2)
    path = tmp_path_factory.mktemp("pb") / "cut.json"
    path.write_text(text[:cut], encoding="utf-8")
    with pytest.raises(ValidationError) as refused:
        read(path)
    assert str(refused.value).startswith(f"{path}:")
    assert "not valid JSON" in str(refused.value) or "must hold" in str(refused.value)
