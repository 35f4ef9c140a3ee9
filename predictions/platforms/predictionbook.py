"""PredictionBook's JSON API (API.md and app/serializers/*_serializer.rb in bellroy/predictionbook).

Read: the `my_predictions` response `{"user": {...}, "predictions": [...]}`, the `predictions`
response (a list of predictions), one prediction (`predictions/:id`), or a list of such responses
(several pages saved into one file). Each prediction has `id, description, deadline, created_at,
creator_label, outcome (true, false or null), withdrawn, last_judgement_at` and its `responses`:
one with a `confidence` (0-100) is a forecast by its `user_label`, one without is a comment.
Times are Rails' JSON times (ISO 8601 with a zone; UTC on predictionbook.com).
"""

from __future__ import annotations

import contextlib
import hashlib
from pathlib import Path
from typing import Any, Iterator

from ..errors import ValidationError
from . import common, json_stream, keys
from .common import PlatformForecast, PlatformQuestion, Skipped

PLATFORM = "predictionbook"
URL = "https://predictionbook.com/predictions/{}"


def read(path: str | Path, *, skipped: Skipped, source: str | None = None,
         progress: common.Progress | None = None) -> Iterator[PlatformQuestion]:
    name = str(path)
    source = common.source_override(source)
    items = json_stream.stream(path, "predictions", progress)  # one prediction (or page) at a time
    with contextlib.closing(keys.SeenForecasts()) as seen:  # each question met is kept in it (pickled)
        yield from _read(items, name, skipped, source, seen)


def _read(data: Iterator[tuple[str, Any]], name: str, skipped: Skipped, source: str | None,
          seen: keys.SeenForecasts) -> Iterator[PlatformQuestion]:
    forecasters: dict[str, str] = {}
    for where, prediction in _predictions(data, name):
        question = _question(prediction, where)
        earlier = keys.met(seen, question)
        if earlier is not None:
            differs = earlier.same_question(question)
            if differs:
                raise ValidationError(differs, f"differs from the same prediction at {earlier.where}", where)
        forecasts = []
        responses = common.array(prediction.get("responses", []), f"{where}.responses", "a list of responses")
        for number, response in enumerate(responses):
            at = f"{where}.responses[{number}]"
            forecast = _forecast(common.obj(response, at), at, question.key, source, forecasters, skipped)
            if forecast is not None:
                forecasts.append(forecast)
        fresh = seen.fresh(question.key, forecasts, skipped)
        if fresh:
            yield common.with_forecasts(question, fresh, seen.again)
        elif not forecasts:
            skipped.add("predictions without any forecast")


def _predictions(items: Iterator[tuple[str, Any]], name: str) -> Iterator[tuple[str, dict]]:
    """(where, prediction) for every prediction in any of the accepted shapes, as streamed: the
    elements of a top-level list (predictions or pages), of a page's `predictions`, or one value."""
    for path, item in items:
        at = f"{name}:{path}"
        if path.startswith("$["):
            item = common.obj(item, at, "a prediction or a my_predictions response")
            if "predictions" in item:
                yield from _page(item, at)
            else:
                yield at, item
        elif path != "$":
            yield at, common.obj(item, at, "a prediction object")
        elif isinstance(item, dict) and "predictions" in item:  # a page whose predictions are not a list
            yield from _page(item, at)
        elif isinstance(item, dict):
            yield at, item
        else:
            raise ValidationError(None, "must hold a my_predictions response, a list of predictions or one prediction", f"{name}:1")


def _page(page: dict, at: str) -> Iterator[tuple[str, dict]]:
    predictions = common.array(page["predictions"], f"{at}.predictions", "a list of predictions")
    for number, prediction in enumerate(predictions):
        where = f"{at}.predictions[{number}]"
        yield where, common.obj(prediction, where, "a prediction object")


def _question(prediction: dict, where: str) -> PlatformQuestion:
    get = common.get
    key = get(prediction, "id", where, common.identifier)
    title = get(prediction, "description", where, common.text)
    created = get(prediction, "created_at", where, common.iso_time)
    deadline = get(prediction, "deadline", where, common.iso_time).date()
    withdrawn = prediction.get("withdrawn")  # missing or null: not withdrawn
    withdrawn = get(prediction, "withdrawn", where, common.boolean) if withdrawn is not None else False
    judged_at = get(prediction, "last_judgement_at", where, common.iso_time, optional=True)
    outcome = prediction.get("outcome")
    if outcome is not None and not isinstance(outcome, bool):
        raise ValidationError("outcome", f"must be true, false or null, not {common.kind_of(outcome)}", where)
    url = URL.format(key)
    resolved_on = evidence = None
    if withdrawn:
        updated = get(prediction, "updated_at", where, common.iso_time, optional=True)
        result = "annulled"
        resolved_on = (updated or created).date()
        evidence = (f"Withdrawn on PredictionBook ({url}); the withdrawal has no time of "
                    f"its own, so the prediction's last update, {common.iso_z(updated or created)}, is used.")
    elif outcome is not None:
        result = "yes" if outcome else "no"
        word = "right" if outcome else "wrong"
        if judged_at:
            resolved_on = judged_at.date()
            evidence = f"Judged {word} on PredictionBook at {common.iso_z(judged_at)} ({url})."
        else:
            resolved_on = deadline
            evidence = (f"Judged {word} on PredictionBook ({url}); the file gives no judgement time, so the "
                        "prediction's deadline is used.")
    else:
        result = None
    return PlatformQuestion(
        platform=PLATFORM, key=key, title=title, criteria="As judged on PredictionBook.",
        criteria_from_platform=False, url=url, created=created, deadline=deadline, outcome=result,
        resolved_at=judged_at if result in ("yes", "no") else None, resolved_on=resolved_on,
        evidence=evidence, where=where,
    )


def _forecast(response: dict, where: str, key: str, source: str | None, forecasters: dict[str, str],
              skipped: Skipped) -> PlatformForecast | None:
    get = common.get
    confidence = response.get("confidence")
    comment = get(response, "comment", where, common.text, optional=True)
    if confidence is None:
        skipped.add("comments (responses without a confidence)")
        return None
    probability = get(response, "confidence", where, common.probability, scale=100.0)
    made_at = get(response, "created_at", where, common.iso_time)
    label = get(response, "user_label", where, common.one_line)
    common.check_single_source(source, label, where, forecasters)
    response_id = get(response, "id", where, common.identifier, optional=True)
    if response_id is None:  # an older or hand-made file: the forecaster and the time identify it
        response_id = "h" + hashlib.sha256(f"{label}\n{common.iso_z(made_at)}".encode()).hexdigest()[:16]
    return PlatformForecast(
        key=f"{key}/{response_id}", source=source or label, made_at=made_at, probability=probability,
        basis="stated", comment=comment, where=where,
    )
