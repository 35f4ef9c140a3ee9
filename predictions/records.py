"""Plain records (dicts, as in export files) to validated questions, forecasts and resolutions, and back.

One record is one forecast: the Forecast fields and its question's fields (`question_id` names the
question; without it the record is its own question, which takes the forecast's id), plus the
question's outcome, either flat (`outcome`, `resolved_on`, `evidence`) or as the full history
(`resolutions`, as `export` writes it). Records that share a `question_id` carry the same question
fields (the store refuses a conflict). Missing conveniences are filled in here, the one place for
them: an id from the content, the deadline from its wording, the probability from a hedge phrase,
the basis from which was given.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from .errors import ValidationError, excerpt, field_name, shown
from .hedges import UnknownPhraseError, probability_from_phrase
from .model import (
    Forecast,
    Question,
    Resolution,
    check_forecast_on,
    check_lengths,
    check_resolution,
    parse_date,
    parse_flag,
    parse_probability,
)

FLAT_OUTCOME_KEYS = ("outcome", "resolved_on", "evidence", "early_reason")
DERIVED_KEYS = ("status",)  # written by export, ignored by import: derived from the rest
# A record's own fields: the forecast's, then its question's (the question's id is question_id,
# and its recorded_at is that of the record that first recorded it).
RECORD_FIELDS = tuple(dict.fromkeys(Forecast.FIELDS + Question.FIELDS))
EXPORT_KEYS = (*RECORD_FIELDS, "status", "outcome", "resolved_on", "evidence", "resolutions")
RECORD_KEYS = frozenset(RECORD_FIELDS) | {"resolutions", *FLAT_OUTCOME_KEYS, *DERIVED_KEYS}
HISTORY_KEYS = frozenset(Resolution.FIELDS) - {"question_id"}
# The question's fields a record repeats: records sharing a question_id must agree on them.
QUESTION_KEYS = tuple(name for name in Question.FIELDS if name not in ("id", "recorded_at"))
# Required where a record creates its question (records joining one may leave the claim out).
_REQUIRED = ("source", "claim", "resolution_criteria", "made_on")


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def complete_forecast_fields(values: dict[str, Any], *, restored: bool = False, typed: bool = False) -> dict[str, Any]:
    """Fill deadline from deadline_text, probability from phrase, basis from which one was given.

    `restored` (a record from an export, with its recorded_at) skips the check, added later,
    that a verbal number is its phrase's value on the scale. `typed` (a forecast being added, not
    an import file, where the wording beside a date has always been kept as given): a date given
    with a wording must be the wording's date, or marked assumed.
    """
    check_lengths(values)  # first: a 100 MB claim is refused before it is hashed or parsed
    values = dict(values)
    if typed and not _blank(values.get("deadline")) and not _blank(values.get("deadline_text")):
        _check_date_beside_wording(values)
    if _blank(values.get("deadline")):
        if _blank(values.get("deadline_text")):
            raise ValidationError("deadline", "is required (give a date or a wording such as 'within 18 months')")
        made_on = parse_date(values.get("made_on"), "made_on")
        from .deadlines import DeadlineError, parse_deadline  # here: it loads dateutil, which reading never needs

        try:
            values["deadline"] = parse_deadline(values["deadline_text"], made_on)
        except DeadlineError as exc:
            raise ValidationError("deadline_text", str(exc)) from None
    from_phrase = False
    if _blank(values.get("probability")) and not _blank(values.get("phrase")):
        try:
            values["probability"] = probability_from_phrase(values["phrase"])
        except UnknownPhraseError as exc:
            raise ValidationError("phrase", str(exc)) from None
        from_phrase = True
    if _blank(values.get("probability")):
        raise ValidationError("probability", "is required (give a number or a hedge phrase)")
    basis = values.get("probability_basis")
    if _blank(basis):
        # Verbal only when the number is the phrase's value on the scale; a number given beside
        # a phrase (or one that differs from it) was assigned by whoever recorded it.
        values["probability_basis"] = "verbal" if from_phrase or _is_scale_value(values) else "assigned"
    elif from_phrase and basis != "verbal":
        raise ValidationError(
            "probability_basis", f"is {basis!r} but no probability was given: one read off the phrase is verbal"
        )
    elif basis == "verbal" and not from_phrase and not restored:
        _check_verbal(values)
    if _blank(values.get("id")):
        values["id"] = Forecast.content_id(values)
    return values


def _check_date_beside_wording(values: dict[str, Any]) -> None:
    """A deadline given with its wording is the date the wording means, unless it is marked assumed
    (an editorial date for "by early 2028", say, whose last day nobody agrees on)."""
    if parse_flag(values.get("deadline_assumed") or False, "deadline_assumed"):
        return
    made_on = parse_date(values.get("made_on"), "made_on")
    deadline = parse_date(values["deadline"], "deadline")
    from .deadlines import DeadlineError, parse_deadline  # here: it loads dateutil, which reading never needs

    try:
        meant = parse_deadline(values["deadline_text"], made_on)
    except DeadlineError as exc:
        raise ValidationError(
            "deadline_text", f"{exc}; a date chosen for it must be marked assumed (deadline_assumed)"
        ) from None
    if meant != deadline:
        raise ValidationError(
            "deadline",
            f"{deadline} but {excerpt(values['deadline_text'])} from {made_on} is {meant}: "
            "give one of them, or mark the date as assumed (deadline_assumed, --assumed-deadline)",
        )


def _scale_value(values: dict[str, Any]) -> float | None:
    """The phrase's value on the hedge scale; None without a phrase, or for one from another scale."""
    if _blank(values.get("phrase")):
        return None
    try:
        return probability_from_phrase(values["phrase"])
    except UnknownPhraseError:
        return None


def _check_verbal(values: dict[str, Any]) -> None:
    """A verbal probability is its phrase's value on the scale, where the phrase is on it."""
    expected = _scale_value(values)
    if expected is not None and parse_probability(values["probability"]) != expected:
        raise ValidationError(
            "probability",
            f"{_plain(values['probability'])} but the scale gives {excerpt(values['phrase'])} {expected} "
            "(a number someone chose is assigned)",
        )


def _plain(value: Any) -> str:
    """A value as typed, unquoted and short (a probability given as text or as a number)."""
    return value if isinstance(value, str) and len(value) <= 60 else shown(value)


def _is_scale_value(values: dict[str, Any]) -> bool:
    expected = _scale_value(values)
    try:
        return expected is not None and parse_probability(values["probability"]) == expected
    except ValidationError:  # refused by the model, naming the probability
        return False


def forecast_from_record(
    record: Any, *, recorded_at: str, today: dt.date, typed: bool = False
) -> tuple[Question, Forecast, list[Resolution]]:
    """Validate one record: its question, forecast and the question's resolution history.

    Raises ValidationError naming the field; nothing is written here. `typed`: the record is a
    forecast being added (Ledger.add), not a line of an import file."""
    if not isinstance(record, dict):
        raise ValidationError(None, f"a record must be an object, not {type(record).__name__}")
    unknown = [key for key in record if key not in RECORD_KEYS]
    if unknown:
        raise ValidationError(field_name(unknown[0]), "is not a known key")
    values = {k: v for k, v in record.items() if k in RECORD_FIELDS}
    # A record that says when it was recorded (an export) is restored as it was then: the rules
    # added since for recording (`restored` below) do not refuse what an earlier version accepted.
    restored = not _blank(values.get("recorded_at"))
    if not restored:
        values["recorded_at"] = recorded_at
    for name in _REQUIRED:
        if name == "claim":
            if values.get("claim") is None and _blank(values.get("question_id")):
                raise ValidationError("claim", "is required (a forecast on an existing question, with question_id, may leave it out)")
            if _blank(values.get("claim")) and values.get("claim") is not None:
                raise ValidationError("claim", "must not be empty")
        elif name not in values:
            raise ValidationError(name, "is required")
    values = complete_forecast_fields(values, restored=restored, typed=typed)
    if _blank(values.get("question_id")):
        values["question_id"] = values["id"]
    forecast = Forecast.from_record({k: values[k] for k in Forecast.FIELDS if k in values})
    question = Question.from_record(
        {**{k: values[k] for k in QUESTION_KEYS if k in values}, "id": forecast.question_id,
         "recorded_at": forecast.recorded_at}
    )  # fmt: skip
    check_forecast_on(question, forecast)
    if not restored and forecast.made_on > today:
        raise ValidationError("made_on", f"{forecast.made_on} is in the future (today is {today})")
    if restored:
        check_recorded_before_now(forecast.recorded_at)
    history = _history(record, question, recorded_at)
    check_history(record, question, forecast, history, today)
    return question, forecast, history


def check_history(record: dict[str, Any], question: Question, forecast: Forecast, history: list[Resolution],
                  today: dt.date) -> None:  # fmt: skip
    """The rules of a record's resolutions, in order, each given the one before (its current)."""
    entries = record.get("resolutions")
    entries = entries if isinstance(entries, list) and entries else None  # else the flat outcome, if any
    current = None
    for index, resolution in enumerate(history):
        try:
            restored_entry = entries is not None and not _blank(entries[index].get("recorded_at"))
            if restored_entry:
                check_recorded_before_now(resolution.recorded_at)
            check_resolution(question, forecast.made_on, current, resolution, today, restored=restored_entry)
        except ValidationError as exc:
            if entries is None:
                raise  # a flat outcome: the field is already the record's own key
            raise ValidationError(f"resolutions[{index}].{exc.field}", exc.message) from None
        current = resolution


def check_recorded_before_now(recorded_at: str) -> None:
    """A restore was recorded in the past: a later day cannot be one. One day of slack, compared by
    date, for clocks set ahead and for writers east of UTC."""
    today = dt.date.today()
    if recorded_at[:10] > _day_after(today):
        raise ValidationError("recorded_at", f"{recorded_at} is in the future (today is {today})")


@functools.lru_cache(maxsize=2)
def _day_after(day: dt.date) -> str:  # cached: this runs once per imported record
    return (day + dt.timedelta(days=1)).isoformat()


def _history(record: dict[str, Any], question: Question, recorded_at: str) -> list[Resolution]:
    flat = {k: record[k] for k in FLAT_OUTCOME_KEYS if not _blank(record.get(k))}
    entries = record.get("resolutions")
    if not _blank(entries) and entries != []:
        if not isinstance(entries, list):
            raise ValidationError("resolutions", "must be a list of resolutions")
        history = []
        for i, entry in enumerate(entries):
            if not isinstance(entry, dict):
                raise ValidationError(f"resolutions[{i}]", "must be an object")
            unknown = set(entry) - HISTORY_KEYS
            if unknown:
                raise ValidationError(f"resolutions[{i}].{field_name(sorted(map(str, unknown))[0])}", "is not a known key")
            values = {"recorded_at": recorded_at, **entry, "question_id": question.id}
            missing = [key for key in ("outcome", "resolved_on", "evidence") if key not in values]
            if missing:
                raise ValidationError(f"resolutions[{i}]", "needs outcome, resolved_on and evidence")
            try:
                history.append(Resolution.from_record(values))
            except ValidationError as exc:
                raise ValidationError(f"resolutions[{i}].{exc.field}", exc.message) from None
        check_flat_beside(flat, history)
        return history
    if not flat:
        return []
    if "outcome" not in flat:
        raise ValidationError("outcome", f"is required when {sorted(flat)[0]} is given")
    for key in ("resolved_on", "evidence"):
        if key not in flat:
            raise ValidationError(key, "is required when an outcome is given")
    return [Resolution(question_id=question.id, recorded_at=recorded_at, **flat)]


def check_flat_beside(flat: dict[str, Any], history: list[Resolution]) -> None:
    """A flat outcome key beside a resolution history must say what its last entry says, never be dropped."""
    last = history[-1].to_record()
    for key, given in flat.items():
        value = parse_date(given, key).isoformat() if key == "resolved_on" else str(given)
        if value != str(last[key]):
            raise ValidationError(key, f"{shown(given)} disagrees with the last entry of resolutions")


def export_record(
    question: Question, forecast: Forecast, history: list[Resolution] | tuple[Resolution, ...], status: str
) -> dict[str, Any]:
    """The export format: the forecast, its question's fields, the current outcome, the status (on
    some day) and the full history (every record of a question repeats the question's)."""
    current = history[-1] if history else None
    record = forecast.to_record()
    question_record = question.to_record()
    for key in QUESTION_KEYS:
        record[key] = question_record[key]
    record["status"] = status
    record["outcome"] = current.outcome if current else None
    record["resolved_on"] = current.resolved_on.isoformat() if current else None
    record["evidence"] = current.evidence if current else None
    record["resolutions"] = [
        {k: v for k, v in r.to_record().items() if k != "question_id"} for r in history
    ]
    return {key: record[key] for key in EXPORT_KEYS}
