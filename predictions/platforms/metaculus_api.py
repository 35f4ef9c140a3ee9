"""Metaculus's API posts JSON (docs/openapi.yml `/api/posts/`, questions/serializers/common.py).

A post holds one `question`, a `group_of_questions` (each of its binary questions is read), a
`conditional` (skipped) or nothing (a notebook, skipped). With `include_descriptions=true` each
question has `resolution_criteria`, `fine_print` and `description`; a group's criteria stand in
for a sub-question that has none. The signed-in user's forecasts are `my_forecasts`: `latest`
has `forecast_values` (`[1 - p, p]` on a binary question); `history` entries are read too where
they carry values, and where they do not, only the latest forecast is there to read.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Iterator

from ..errors import ValidationError
from . import common, json_stream, keys
from .common import PlatformForecast, PlatformQuestion, Skipped
from .metaculus import binary_question, forecast_key, question_url


def read(path: str | Path, *, skipped: Skipped, source: str | None = None,
         progress: common.Progress | None = None) -> Iterator[PlatformQuestion]:
    name = str(path)
    items = json_stream.stream(path, "results", progress)  # one post (or page) at a time
    with contextlib.closing(keys.SeenForecasts()) as seen:  # each question met is kept in it (pickled)
        yield from _read(items, name, skipped, source, seen)


def _read(data: Iterator[tuple[str, Any]], name: str, skipped: Skipped, source: str | None,
          seen: keys.SeenForecasts) -> Iterator[PlatformQuestion]:
    forecasters: dict[str, str] = {}
    for where, post in _posts(data, name):
        for at, raw, group in _questions(post, where, skipped):
            kind = common.get(raw, "type", at, common.one_line)
            if kind != "binary":
                skipped.add(common.kind_label(kind))
                continue
            question = _question(post, raw, group, where, at, skipped)
            earlier = keys.met(seen, question)
            differs = earlier.same_question(question) if earlier is not None else None
            if differs:
                raise ValidationError(differs, f"differs from the same question at {earlier.where}", at)
            forecasts = _forecasts(raw, at, question.key, source, forecasters)
            fresh = seen.fresh(question.key, forecasts, skipped)
            if fresh:
                yield common.with_forecasts(question, fresh, seen.again)
            elif not forecasts:
                skipped.add("questions without any forecast of yours")


def _posts(items: Iterator[tuple[str, Any]], name: str) -> Iterator[tuple[str, dict]]:
    """Every post in one page `{"results": [...]}`, a list of pages or posts, or one post, as
    streamed: the elements of a top-level list or of a page's `results`, or one value."""
    for path, item in items:
        at = f"{name}:{path}"
        if path.startswith("$.results["):
            yield at, common.obj(item, at, "a post")
            continue
        if path == "$" and not isinstance(item, dict):
            raise ValidationError(None, "must hold a page of posts ({\"results\": [...]}), a list of them or a post", f"{name}:1")
        item = common.obj(item, at, "a page of posts or a post")
        if "results" in item:
            results = common.array(item["results"], f"{at}.results", "a list of posts")
            for number, post in enumerate(results):
                yield f"{at}.results[{number}]", common.obj(post, f"{at}.results[{number}]", "a post")
        else:
            yield at, item


def _questions(post: dict, where: str, skipped: Skipped) -> Iterator[tuple[str, dict, dict | None]]:
    """(where, question, its group or None) for each question a post holds."""
    prefix = f"{where}."
    if post.get("question") is not None:
        yield f"{prefix}question", common.obj(post["question"], f"{prefix}question", "a question"), None
    elif post.get("group_of_questions") is not None:
        group = common.obj(post["group_of_questions"], f"{prefix}group_of_questions", "a group of questions")
        questions = common.array(group.get("questions"), f"{prefix}group_of_questions.questions", "a list of questions")
        for number, question in enumerate(questions):
            at = f"{prefix}group_of_questions.questions[{number}]"
            yield at, common.obj(question, at, "a question"), group
    elif post.get("conditional") is not None:
        skipped.add("conditional questions")
    elif post.get("notebook") is not None:
        skipped.add("posts without a question (notebooks)")
    else:  # every post the API serialises has one of the four (serialize_post): this is another file
        raise ValidationError(None, "is not a Metaculus post (it has no question, group_of_questions, conditional "
                                    "or notebook): is it the API's /api/posts/ response?", where)


def _question(post: dict, raw: dict, group: dict | None, where: str, at: str, skipped: Skipped) -> PlatformQuestion:
    get = common.get
    post_id = get(post, "id", where, common.identifier)
    short_title = post.get("short_title") or ""
    if not isinstance(short_title, str):
        raise ValidationError("short_title", f"must be text, not {common.kind_of(short_title)}", where)
    url = common.checked(question_url(post_id, short_title), "short_title", where, common.one_line)
    created = get(raw, "open_time", at, common.iso_time, optional=True) or get(raw, "created_at", at, common.iso_time)
    resolved_at = (get(raw, "actual_resolve_time", at, common.iso_time, optional=True)
                   or get(raw, "actual_close_time", at, common.iso_time, optional=True))
    resolution = raw.get("resolution")
    if resolution is not None and not isinstance(resolution, str):
        raise ValidationError("resolution", f"must be text or null, not {common.kind_of(resolution)}", at)
    try:
        return binary_question(
            key=get(raw, "id", at, common.identifier), title=get(raw, "title", at, common.text), url=url,
            created=created, close=get(raw, "scheduled_close_time", at, common.iso_time),
            resolution=resolution, resolved_at=resolved_at, categories=_categories(post, where),
            criteria=_criteria(raw, at) or (_criteria(group, at) if group else None), where=at, skipped=skipped,
        )
    except ValidationError as exc:
        raise exc if exc.where else exc.located(at) from None


def _criteria(raw: dict, at: str) -> str | None:
    """The resolution criteria, then the fine print; None when the file holds neither."""
    parts = []
    for key, label in (("resolution_criteria", ""), ("fine_print", "Fine print: ")):
        value = common.get(raw, key, at, common.text, optional=True)
        if value and value.strip():
            parts.append(label + value.strip())
    return "\n\n".join(parts) or None


def _categories(post: dict, where: str) -> list[str]:
    prefix = f"{where}."
    projects = post.get("projects")
    projects = {} if projects is None else common.obj(projects, f"{prefix}projects")
    names = []
    for number, category in enumerate(common.listed(projects, "category", f"{prefix}projects.category")):
        at = f"{prefix}projects.category[{number}]"
        names.append(common.get(common.obj(category, at), "name", at, common.one_line))
    return names


def _forecasts(raw: dict, at: str, key: str, source: str | None, forecasters) -> list[PlatformForecast]:
    mine = raw.get("my_forecasts")
    if mine is None:
        return []
    mine = common.obj(mine, f"{at}.my_forecasts")
    entries = [(f"{at}.my_forecasts.history[{n}]", e)
               for n, e in enumerate(common.listed(mine, "history", f"{at}.my_forecasts.history"))]
    if mine.get("latest") is not None:
        entries.append((f"{at}.my_forecasts.latest", mine["latest"]))
    forecasts: dict[str, PlatformForecast] = {}  # `latest` is also the last of `history`
    for where, entry in entries:
        entry = common.obj(entry, where, "a forecast")
        values = entry.get("forecast_values")
        if values is None:  # a history entry serialised without its values
            continue
        values = common.array(values, f"{where}.forecast_values", "a list [1 - p, p]")
        if len(values) != 2:
            raise ValidationError("forecast_values", f"has {len(values)} values; a binary forecast has 2, [1 - p, p]", where)
        probability = common.checked(values[1], "forecast_values[1]", where, common.probability)
        other = common.checked(values[0], "forecast_values[0]", where, common.probability)
        if abs(other + probability - 1) > 1e-6:  # [1 - p, p]: anything else is not a binary forecast
            raise ValidationError("forecast_values", f"[{other}, {probability}] is not [1 - p, p]", where)
        author = common.get(entry, "author_id", where, common.identifier)
        common.check_single_source(source, author, where, forecasters)
        made_at = common.get(entry, "start_time", where, common.epoch_time)
        forecast = PlatformForecast(
            key=forecast_key(key, author, made_at), source=source or f"Metaculus user {author}",
            made_at=made_at, probability=probability, basis="stated", where=where,
        )
        if forecasts.setdefault(forecast.key, forecast) != forecast:
            raise ValidationError("forecast_values", f"differs from the same forecast at {forecasts[forecast.key].where}", where)
    return list(forecasts.values())
