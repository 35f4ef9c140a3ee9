"""The common import record, validated without the general path's detours, by the same rules.

`records.forecast_from_record` is the one checker: it fills in conveniences (an id from the
content, a deadline from its wording, a probability or basis from a phrase), refuses with the
field named, and builds the attrs values through their converters. Most lines of a large import
need none of the conveniences: the fields are all there, with a flat outcome or a history.
`validated` handles exactly such a record, building the same attrs values (so through the same
converters: no rule is written twice) and calling the same cross-field checks
(`check_forecast_on`, `check_history`, `check_flat_beside`, `check_recorded_before_now`), without the checker's
copies of the record, its blank tests of every key and its conveniences' look-ups.

It answers None, and the caller runs `forecast_from_record`, for any record it is not sure of:
another shape, a convenience to fill in, and every refusal (any exception inside it), so every
error message still comes from the one checker. `tests/test_fast_records.py` checks on arbitrary
records that the two agree: the same values of the same types, or None here.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from .model import Forecast, Question, Resolution, check_forecast_on
from .records import (
    FLAT_OUTCOME_KEYS,
    HISTORY_KEYS,
    QUESTION_KEYS,
    RECORD_KEYS,
    _blank,
    check_flat_beside,
    check_history,
    check_recorded_before_now,
)

_BASES = ("stated", "assigned")  # a verbal basis is checked against its phrase: the general path
_FORECAST_FIELDS = frozenset(Forecast.FIELDS)
_OUTCOME = frozenset({"outcome", "resolved_on", "evidence"})  # what a resolution must give


def validated(record: Any, *, recorded_at: str, today: dt.date) -> tuple | None:
    """(question, forecast, history) for an import record, the values that
    `forecast_from_record(record, recorded_at=..., today=...)` returns for it; None where this
    path is not sure (the caller then runs that one)."""
    if type(record) is not dict or not RECORD_KEYS.issuperset(record):
        return None
    try:
        return _validated(record, recorded_at, today)
    except Exception:  # every refusal, and anything unforeseen, is the general path's to explain
        return None


def _validated(record: dict[str, Any], recorded_at: str, today: dt.date) -> tuple | None:
    get = record.get
    if get("document") is not None:
        return None  # a document: the general path
    entries = get("resolutions")
    if not (_blank(entries) or entries == [] or type(entries) is list):
        return None
    if _blank(get("id")) or _blank(get("deadline")) or _blank(get("probability")):
        return None  # an id, a deadline or a probability to derive
    if "source" not in record or "resolution_criteria" not in record or "made_on" not in record:
        return None
    claim, question_id = get("claim"), get("question_id")
    if (claim is None and _blank(question_id)) or (claim is not None and _blank(claim)):
        return None
    basis = get("probability_basis")
    if _blank(basis):
        if not _blank(get("phrase")):
            return None  # verbal or assigned, by the phrase's value on the scale
        basis = "assigned"
    elif basis not in _BASES:
        return None
    values = {key: value for key, value in record.items() if key in _FORECAST_FIELDS}
    values["probability_basis"] = basis
    restored = not _blank(get("recorded_at"))
    if not restored:
        values["recorded_at"] = recorded_at
    if _blank(question_id):
        values["question_id"] = values["id"]
    forecast = Forecast(**values)
    question_values = {key: record[key] for key in QUESTION_KEYS if key in record}
    question = Question(**question_values, id=forecast.question_id, recorded_at=forecast.recorded_at)
    check_forecast_on(question, forecast)
    if restored:
        check_recorded_before_now(forecast.recorded_at)
    elif forecast.made_on > today:
        return None
    flat = {key: record[key] for key in FLAT_OUTCOME_KEYS if not _blank(get(key))}
    if type(entries) is list and entries:  # a history, as export writes it
        history = []
        for entry in entries:
            if type(entry) is not dict or not HISTORY_KEYS.issuperset(entry) or not _OUTCOME.issubset(entry):
                return None
            history.append(Resolution(**{"recorded_at": recorded_at, **entry, "question_id": question.id}))
        if flat:
            check_flat_beside(flat, history)
    elif not flat:
        history = []
    elif _OUTCOME.issubset(flat):
        history = [Resolution(question_id=question.id, recorded_at=recorded_at, **flat)]
    else:
        return None
    check_history(record, question, forecast, history, today)
    return question, forecast, history
