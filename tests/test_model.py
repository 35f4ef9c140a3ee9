"""The value classes: every field validates itself, values are frozen, records round-trip."""

from __future__ import annotations

import datetime as dt
import math

import attrs
import pytest

from predictions import Document, Forecast, Question, Resolution, ValidationError
from predictions.model import check_forecast_on, check_resolution, status_of
from predictions.records import forecast_from_record

D = dt.date
STAMP = "2026-11-22T09:30:00.000001Z"
QUESTION_FIELDS = frozenset(Question.FIELDS) - {"id", "recorded_at"}


class OnItsQuestion:
    """A forecast and the question it came with, read as one (as a record of one forecast is)."""

    def __init__(self, question: Question, forecast: Forecast):
        self.the_question, self.the_forecast = question, forecast

    def __getattr__(self, name):
        return getattr(self.the_question if name in QUESTION_FIELDS else self.the_forecast, name)


def forecast(**overrides) -> OnItsQuestion:
    values = {
        "id": "abc123def456",
        "source": "Example Outlet",
        "claim": "Widget sales double",
        "resolution_criteria": "YES if 2026 widget sales are at least twice 2025's.",
        "made_on": D(2026, 1, 15),
        "deadline": D(2026, 12, 31),
        "probability": 0.7,
        "probability_basis": "assigned",
        "recorded_at": STAMP,
    }
    values.update(overrides)
    own = {k: v for k, v in values.items() if k not in QUESTION_FIELDS}
    made = Forecast(question_id=values["id"] if isinstance(values["id"], str) else "abc123def456", **own)
    question = Question(id=made.question_id, recorded_at=made.recorded_at,
                        **{k: v for k, v in values.items() if k in QUESTION_FIELDS})  # fmt: skip
    check_forecast_on(question, made)
    return OnItsQuestion(question, made)


def resolution(**overrides) -> Resolution:
    values = {
        "question_id": "abc123def456",
        "outcome": "yes",
        "resolved_on": D(2026, 6, 1),
        "evidence": "Annual report, p. 4",
        "recorded_at": STAMP,
    }
    values.update(overrides)
    return Resolution(**values)


def refused(field: str, message: str, make=forecast, **overrides) -> None:
    with pytest.raises(ValidationError) as caught:
        make(**overrides)
    assert caught.value.field == field
    assert str(caught.value) == f"field {field}: {message}"


# --- Forecast fields ----------------------------------------------------------------------------


def test_a_valid_forecast_keeps_its_values():
    f = forecast(made_on="2026-01-15", deadline="2026-12-31", probability="0.7", tags=["b", "a", "a"])
    assert f.made_on == D(2026, 1, 15) and f.deadline == D(2026, 12, 31)
    assert f.probability == 0.7
    assert f.tags == ("a", "b")  # sorted, duplicates dropped
    assert f.quote is None and f.document is None and f.deadline_assumed is False


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("AB", "'AB' is not an id: 3-40 characters of lower-case letters, digits and '-', starting with a letter or digit"),
        ("ab", "'ab' is not an id: 3-40 characters of lower-case letters, digits and '-', starting with a letter or digit"),
        ("-abc", "'-abc' is not an id: 3-40 characters of lower-case letters, digits and '-', starting with a letter or digit"),
        ("a" * 41, f"{'a' * 41!r} is not an id: 3-40 characters of lower-case letters, digits and '-', starting with a letter or digit"),
        ("ab c", "'ab c' is not an id: 3-40 characters of lower-case letters, digits and '-', starting with a letter or digit"),
        (None, "None is not an id: 3-40 characters of lower-case letters, digits and '-', starting with a letter or digit"),
    ],
)
def test_id_must_be_short_and_safe_to_type(value, message):
    refused("id", message, id=value)


@pytest.mark.parametrize("field", ["source", "resolution_criteria"])
def test_required_text_fields(field):
    refused(field, "is required", **{field: None})
    refused(field, "must not be empty", **{field: "   "})
    refused(field, "must be text, not int", **{field: 7})
    refused(field, "contains a control character (such as NUL); remove it", **{field: "a\x00b"})
    refused(field, "contains a control character (such as NUL); remove it", **{field: "a\x1b[31mred"})


def test_a_claim_is_required_of_a_new_question_not_of_a_forecast_on_one():
    record = {"source": "S", "resolution_criteria": "K", "made_on": "2026-01-01", "deadline": "2026-06-01",
              "probability": 0.5}  # fmt: skip
    with pytest.raises(ValidationError, match="field claim: is required"):
        forecast_from_record(record, recorded_at=STAMP, today=TODAY)
    with pytest.raises(ValidationError, match="field claim: must not be empty"):
        forecast_from_record({**record, "claim": "  "}, recorded_at=STAMP, today=TODAY)
    question, made, _ = forecast_from_record({**record, "question_id": "q-one"}, recorded_at=STAMP, today=TODAY)
    assert made.claim is None and made.question_id == question.id == "q-one"
    assert forecast(claim=None).claim is None  # the model itself: the claim is the source's own words, if any


def test_text_length_limits():
    refused("claim", "is 20,001 characters long; the limit is 20,000", claim="x" * 20_001)
    refused("source", "is 301 characters long; the limit is 300", source="x" * 301)
    assert forecast(claim="x" * 20_000).claim == "x" * 20_000


def test_single_line_fields_refuse_line_breaks_free_text_keeps_them():
    refused("source", "must be a single line", source="two\nlines")
    refused("deadline_text", "must be a single line", deadline_text="by\t2027")
    refused("phrase", "must be a single line", phrase="likely\r")
    text = "line one\nline two\ttabbed\r\nend"
    assert forecast(claim=text, quote=text, question=text, note=text).quote == text


@pytest.mark.parametrize("field", ["quote", "question", "note", "deadline_text", "phrase"])
def test_optional_text_blank_is_none(field):
    assert getattr(forecast(**{field: ""}), field) is None
    assert getattr(forecast(**{field: "  "}), field) is None


def test_unicode_text_is_kept_exactly():
    text = "Überraschung — 中文, \"quoted\", 'single', emoji 🎯"
    assert forecast(claim=text, source="Zürich Times").claim == text


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("made_on", "2026-13-01", "'2026-13-01' is not a real date (month must be in 1..12)"),
        ("made_on", "2026-02-30", "'2026-02-30' is not a real date (day is out of range for month)"),
        ("made_on", "15/01/2026", "'15/01/2026' is not a date in YYYY-MM-DD form"),
        ("made_on", "20260115", "'20260115' is not a date in YYYY-MM-DD form"),
        ("made_on", 20260115, "must be a date (YYYY-MM-DD), not int"),
        ("made_on", None, "must be a date (YYYY-MM-DD), not NoneType"),
        ("deadline", "next year", "'next year' is not a date in YYYY-MM-DD form"),
    ],
)
def test_dates(field, value, message):
    refused(field, message, **{field: value})


def test_a_datetime_is_taken_as_its_date():
    assert forecast(made_on=dt.datetime(2026, 1, 15, 12, 0)).made_on == D(2026, 1, 15)


def test_deadline_before_made_on_is_refused_but_same_day_is_fine():
    refused("deadline", "2026-01-14 is before made_on 2026-01-15", deadline=D(2026, 1, 14))
    assert forecast(deadline=D(2026, 1, 15)).deadline == D(2026, 1, 15)


def test_back_filled_made_on_is_normal():
    assert forecast(made_on=D(1999, 3, 1), deadline=D(2000, 1, 1)).made_on == D(1999, 3, 1)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (1.5, "1.5 is outside [0, 1]"),
        (-0.01, "-0.01 is outside [0, 1]"),
        (math.nan, "must be a number between 0 and 1, not nan"),
        (math.inf, "must be a number between 0 and 1, not inf"),
        ("nan", "must be a number between 0 and 1, not nan"),
        ("seventy", "'seventy' is not a number"),
        (True, "must be a number between 0 and 1, not a boolean"),
        (None, "must be a number between 0 and 1, not NoneType"),
        (10**400, "10000000000000000000... is outside [0, 1]"),
    ],
)
def test_probability_in_zero_one(value, message):
    refused("probability", message, probability=value)


@pytest.mark.parametrize("value", [0, 1, 0.0, 1.0, "0.25", 0.999999])
def test_probability_bounds_are_inclusive(value):
    assert forecast(probability=value).probability == float(value)


def test_probability_basis_is_one_of_three():
    for basis in ("stated", "assigned"):
        assert forecast(probability_basis=basis).probability_basis == basis
    assert forecast(probability_basis="verbal", phrase="likely").phrase == "likely"
    refused("probability_basis", "'guessed' is not one of stated, verbal, assigned", probability_basis="guessed")
    refused("phrase", "is required when probability_basis is verbal", probability_basis="verbal")


def test_source_kind_is_optional_but_checked():
    assert forecast(source_kind="person").source_kind == "person"
    assert forecast(source_kind="").source_kind is None
    refused("source_kind", "'robot' is not one of outlet, person, organisation, estimate, other", source_kind="robot")


@pytest.mark.parametrize(("value", "expected"), [(True, True), (0, False), ("true", True), ("false", False), ("", False), ("1", True)])
def test_deadline_assumed_flag(value, expected):
    assert forecast(deadline_assumed=value).deadline_assumed is expected


def test_deadline_assumed_refuses_other_values():
    refused("deadline_assumed", "must be true or false, not 'maybe'", deadline_assumed="maybe")


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, ()), ("", ()), ("oil,energy", ("energy", "oil")), ([" ai ", "ai"], ("ai",)), (("a.b_c-d",), ("a.b_c-d",))],
)
def test_tags(value, expected):
    assert forecast(tags=value).tags == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (["O il"], "'O il' is not a tag: use letters, digits, '.', '_' or '-' (at most 40)"),
        (["two words"], "'two words' is not a tag: use letters, digits, '.', '_' or '-' (at most 40)"),
        ([""], "'' is not a tag: use letters, digits, '.', '_' or '-' (at most 40)"),
        ([7], "each tag must be text, not int"),
        (7, "must be a list of tags, not int"),
    ],
)
def test_bad_tags(value, message):
    refused("tags", message, tags=value)


@pytest.mark.parametrize(("value", "expected"), [(["Tech"], ("tech",)), (["AI", "ai", " Ai "], ("ai",)),
                                                 ("Oil,ENERGY", ("energy", "oil")), (["Past-At-Publication"], ("past-at-publication",))])
def test_ascii_tags_are_lower_cased_not_refused(value, expected):
    assert forecast(tags=value).tags == expected


@pytest.mark.parametrize("look_alike", ["\u212a", "\u0130stanbul", "TECH\u200b"])  # Kelvin sign, dotted I, zero width
def test_only_ascii_is_lower_cased_so_look_alikes_stay_refused(look_alike):
    with pytest.raises(ValidationError) as caught:
        forecast(tags=[look_alike])
    assert str(caught.value).startswith(f"field tags: {look_alike!r} is not a tag")


def test_a_huge_tag_is_refused_with_an_excerpt():
    with pytest.raises(ValidationError) as caught:
        forecast(tags=["T" * 5_000_000])
    assert "(5,000,000 characters) is not a tag" in str(caught.value) and len(str(caught.value)) < 200


def test_a_recorded_at_that_is_not_text_is_refused_naming_it():
    refused("recorded_at", "a list is not a UTC timestamp like 2026-11-22T09:30:00Z", recorded_at=[1])
    refused("recorded_at", "a dict is not a UTC timestamp like 2026-11-22T09:30:00Z", recorded_at={"a": 1})


def test_recorded_at_must_be_a_utc_timestamp():
    assert forecast(recorded_at="2026-11-22T09:30:00Z").recorded_at == "2026-11-22T09:30:00Z"
    refused("recorded_at", "'2026-11-22 09:30' is not a UTC timestamp like 2026-11-22T09:30:00Z", recorded_at="2026-11-22 09:30")
    refused("recorded_at", "'2026-11-22T09:30:00+01:00' is not a UTC timestamp like 2026-11-22T09:30:00Z",
            recorded_at="2026-11-22T09:30:00+01:00")  # fmt: skip
    with pytest.raises(ValidationError, match="is not a real time"):
        forecast(recorded_at="2026-11-22T25:30:00Z")


def test_document_must_be_a_document():
    refused("document", "must be a Document", document="a title")
    assert forecast(document={"title": "x"}).document == Document(title="x")  # a record's document is read


# --- Document -----------------------------------------------------------------------------------


def test_document_fields_and_content_id():
    doc = Document(title="Oil outlook", url="https://example.org/a", published_on="2026-05-12")
    assert doc.published_on == D(2026, 5, 12)
    assert doc.id == Document(title="Oil outlook", url="https://example.org/a", published_on=D(2026, 5, 12)).id
    assert doc.id != Document(title="Oil outlook 2").id
    assert doc.id.startswith("d") and len(doc.id) == 16


def test_document_validation():
    refused("document.title", "must be a single line", make=Document, title="a\nb")
    refused("document.published_on", "'May 2026' is not a date in YYYY-MM-DD form", make=Document, published_on="May 2026")


def test_document_from_record():
    assert Document.from_record(None) is None
    assert Document.from_record({}) is None
    assert Document.from_record({"title": "", "url": None}) is None  # all blank: no document
    doc = Document(title="T", author="A")
    assert Document.from_record(doc.to_record()) == doc
    with pytest.raises(ValidationError, match="field document: unknown key 'colour'"):
        Document.from_record({"title": "T", "colour": "red"})
    with pytest.raises(ValidationError, match="field document: must be an object, not str"):
        Document.from_record("T")


# --- Resolution ---------------------------------------------------------------------------------


def test_resolution_fields():
    r = resolution(resolved_on="2026-06-01", note="", correction_reason=None)
    assert r.resolved_on == D(2026, 6, 1) and r.note is None
    refused("outcome", "'maybe' is not one of yes, no, ambiguous, annulled", make=resolution, outcome="maybe")
    refused("outcome", "'YES' is not one of yes, no, ambiguous, annulled", make=resolution, outcome="YES")
    refused("evidence", "must not be empty", make=resolution, evidence=" ")
    refused("resolved_on", "'June' is not a date in YYYY-MM-DD form", make=resolution, resolved_on="June")
    refused("question_id", "'X' is not an id: 3-40 characters of lower-case letters, digits and '-', starting with a letter or digit",
            make=resolution, question_id="X")  # fmt: skip
    refused("recorded_by", "must be a single line", make=resolution, recorded_by="a\nb")


# --- frozen -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "attribute"),
    [(forecast().the_forecast, "probability"), (forecast().the_question, "deadline"), (resolution(), "outcome"),
     (Document(title="T"), "title")],
)
def test_values_are_frozen(value, attribute):
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        setattr(value, attribute, None)


def test_evolve_revalidates():
    with pytest.raises(ValidationError, match="1.5 is outside"):
        attrs.evolve(forecast().the_forecast, probability=1.5)


# --- records ------------------------------------------------------------------------------------


def test_forecast_record_round_trip():
    f = forecast(
        source_kind="outlet", document=Document(title="T", published_on="2026-01-01", published_on_estimated=True),
        quote="“We think so”", question="Will sales double?", deadline_text="by the end of 2026",
        deadline_assumed=True, probability_basis="verbal", phrase="likely", probability=0.75,
        tags=["x", "y"], note="n",
    )  # fmt: skip
    record, question = f.the_forecast.to_record(), f.the_question.to_record()
    assert record["made_on"] == "2026-01-15" and question["deadline"] == "2026-12-31"
    assert question["tags"] == ["x", "y"]
    assert record["document"]["published_on"] == "2026-01-01"
    assert list(record) == list(Forecast.FIELDS) and list(question) == list(Question.FIELDS)
    assert Forecast.from_record(record) == f.the_forecast and Question.from_record(question) == f.the_question


def test_forecast_from_record_refuses_unknown_and_missing_keys():
    record = forecast().the_forecast.to_record()
    with pytest.raises(ValidationError) as caught:
        Forecast.from_record({**record, "colour": "red"})
    assert str(caught.value) == "field colour: is not a known key"
    del record["source"]
    with pytest.raises(ValidationError) as caught:
        Forecast.from_record(record)
    assert str(caught.value) == "field source: is required"
    question = forecast().the_question.to_record()
    del question["deadline"]
    with pytest.raises(ValidationError, match="field deadline: is required"):
        Question.from_record(question)


def test_resolution_record_round_trip():
    r = resolution(note="n", correction_reason="misread", early_reason=None, recorded_by="ed")
    assert list(r.to_record()) == list(Resolution.FIELDS)
    assert Resolution.from_record(r.to_record()) == r
    with pytest.raises(ValidationError, match="field evidence: is required"):
        Resolution.from_record({k: v for k, v in r.to_record().items() if k != "evidence"})


def test_content_id_is_stable_and_ignores_the_spelling_of_values():
    record = {"source": "S", "claim": "C", "made_on": D(2026, 1, 1), "deadline": D(2026, 6, 1),
              "probability": 0.5, "resolution_criteria": "K"}  # fmt: skip
    same = {**record, "made_on": "2026-01-01", "deadline": "2026-06-01", "probability": "0.50"}
    assert Forecast.content_id(record) == Forecast.content_id(same)
    assert len(Forecast.content_id(record)) == 12
    assert Forecast.content_id({**record, "claim": "C2"}) != Forecast.content_id(record)


# --- rules between values -------------------------------------------------------------------------


TODAY = D(2026, 11, 22)


def test_resolution_rules():
    f = forecast()  # made 2026-01-15, deadline 2026-12-31
    check_resolution(f.the_question, f.made_on, None, resolution(outcome="yes", resolved_on=D(2026, 6, 1)), TODAY)
    check_resolution(f.the_question, f.made_on, None, resolution(outcome="no", resolved_on=D(2026, 6, 1), early_reason="it closed"), TODAY)
    check_resolution(f.the_question, f.made_on, None, resolution(outcome="ambiguous", resolved_on=D(2026, 6, 1)), TODAY)

    def rule(message, current=None, **overrides):
        with pytest.raises(ValidationError) as caught:
            check_resolution(f.the_question, f.made_on, current, resolution(**overrides), TODAY)
        assert str(caught.value) == message

    rule("field resolved_on: 2026-11-23 is in the future (today is 2026-11-22)", resolved_on=D(2026, 11, 23))
    rule("field resolved_on: 2026-01-14 is before the forecast was made (2026-01-15)", resolved_on=D(2026, 1, 14))
    rule("field early_reason: resolving no on 2026-06-01, before the deadline 2026-12-31, needs a reason why it can no longer come true",
         outcome="no", resolved_on=D(2026, 6, 1))  # fmt: skip
    first = resolution()
    rule("field correction_reason: abc123def456 is already resolved yes on 2026-06-01; "
         "resolving it again is a correction and needs a reason", current=first, outcome="no")  # fmt: skip
    rule("field correction_reason: abc123def456 has no resolution to correct", correction_reason="oops")
    check_resolution(f.the_question, f.made_on, first, resolution(outcome="ambiguous", correction_reason="source retracted"), TODAY)


def test_yes_after_the_deadline_is_refused():
    f = forecast(deadline=D(2026, 3, 1))
    with pytest.raises(ValidationError, match="a forecast that came true late resolves no"):
        check_resolution(f.the_question, f.made_on, None, resolution(resolved_on=D(2026, 3, 2)), TODAY)
    check_resolution(f.the_question, f.made_on, None, resolution(resolved_on=D(2026, 3, 1)), TODAY)  # the deadline is inclusive


def test_status():
    f = forecast(deadline=D(2026, 11, 22))
    assert status_of(f.the_question, None, D(2026, 11, 22)) == "open"  # inclusive: still open on its deadline
    assert status_of(f.the_question, None, D(2026, 11, 23)) == "due"
    assert status_of(f.the_question, resolution(), D(2026, 11, 23)) == "resolved"
