"""Manifold's API JSON (docs/docs/api.md, common/src/contract.ts and common/src/bet.ts in
manifoldmarkets/manifold): a market (`GET /v0/market/ID`) and its bets (`GET /v0/bets?contractId=ID`).

Either one file `{"market": {...}, "bets": [...]}` (or a list of such objects), or two files: one
with the market (or a list of markets, as `/v0/markets` gives) and one with the bets, in either
order. Times are milliseconds since 1970, UTC.

A bet is a trade, not a stated probability: each bet becomes a forecast by its bettor with the
market's probability after the bet (`probAfter`) and the basis `assigned`. Automatic redemptions
and rebalances, and limit orders of which nothing was filled, are not trades by anyone and are
skipped (counted).
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Iterator, Sequence

from ..errors import ValidationError
from . import common, keys
from .common import PlatformForecast, PlatformQuestion, Skipped

PLATFORM = "manifold"
OUTCOMES = {"YES": "yes", "NO": "no", "MKT": "ambiguous", "CANCEL": "annulled"}


def read(paths: str | Path | Sequence[str | Path], *, skipped: Skipped, source: str | None = None,
         progress: common.Progress | None = None) -> Iterator[PlatformQuestion]:
    source = common.source_override(source)
    paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
    if not 1 <= len(paths) <= 2:
        raise ValidationError(None, "Manifold is read from one file (market and bets) or two (market, bets)")
    markets: list[tuple[str, dict]] = []
    bets: list[tuple[str, dict]] = []
    loaded = [(str(p), common.load_json(p, progress)) for p in paths]
    if len(loaded) == 1:
        _combined(*loaded[0], markets, bets)
    else:
        kinds = sorted(loaded, key=lambda item: _looks_like_bets(item[1]))
        if _looks_like_bets(kinds[0][1]) or not _looks_like_bets(kinds[1][1]):
            raise ValidationError(None, f"of {loaded[0][0]} and {loaded[1][0]}, one must hold the market "
                                        "and the other a list of its bets")
        _markets(*kinds[0], markets)
        _bets(kinds[1][0], kinds[1][1], f"{kinds[1][0]}:$", bets)
    yield from _questions(markets, bets, skipped, source)


def _looks_like_bets(data: Any) -> bool:
    return isinstance(data, list) and all(isinstance(b, dict) and "contractId" in b for b in data)


def _combined(name: str, data: Any, markets: list, bets: list) -> None:
    items = [(f"{name}:$", data)] if isinstance(data, dict) else None
    if items is None:
        if not isinstance(data, list):
            raise ValidationError(None, 'must hold {"market": ..., "bets": [...]} or a list of them', f"{name}:1")
        items = [(f"{name}:$[{n}]", item) for n, item in enumerate(data)]
    for at, item in items:
        item = common.obj(item, at, 'an object {"market": ..., "bets": [...]}')
        if "market" not in item:
            raise ValidationError("market", 'is required: the file holds {"market": ..., "bets": [...]}; '
                                            "a market and its bets in two files are read as two files", at)
        markets.append((f"{at}.market", common.obj(item["market"], f"{at}.market", "a market")))
        _bets(name, common.listed(item, "bets", f"{at}.bets", "a list of bets"), f"{at}.bets", bets)


def _markets(name: str, data: Any, markets: list) -> None:
    if isinstance(data, dict):
        markets.append((f"{name}:$", data))
        return
    for number, market in enumerate(common.array(data, f"{name}:$", "a market or a list of markets")):
        markets.append((f"{name}:$[{number}]", common.obj(market, f"{name}:$[{number}]", "a market")))


def _bets(name: str, data: Any, at: str, bets: list) -> None:
    for number, bet in enumerate(common.array(data, at, "a list of bets")):
        where = f"{at}[{number}]"
        bets.append((where, common.obj(bet, where, "a bet")))


def _questions(markets, bets, skipped: Skipped, source: str | None) -> Iterator[PlatformQuestion]:
    by_id: dict[str, PlatformQuestion | str] = {}
    order: list[str] = []
    for where, market in markets:
        key = common.get(market, "id", where, common.identifier)
        question = _question(market, where, key, skipped)
        earlier = by_id.get(key)
        if earlier is None:
            by_id[key] = question
            order.append(key)
            if isinstance(question, str):
                skipped.add(question)
        elif isinstance(earlier, PlatformQuestion) and isinstance(question, PlatformQuestion):
            differs = earlier.same_question(question)
            if differs:
                raise ValidationError(differs, f"differs from the same market at {earlier.where}", where)
    on: dict[str, list[PlatformForecast]] = {key: [] for key in order}
    forecasters: dict[str, str] = {}
    for where, bet in bets:
        contract = common.get(bet, "contractId", where, common.identifier)
        question = by_id.get(contract)
        if question is None:
            raise ValidationError("contractId", f"{contract!r} is not a market in the file", where)
        if isinstance(question, str):
            skipped.add(f"bets on {question}")
            continue
        forecast = _forecast(bet, where, source, forecasters, skipped)
        if forecast is not None:
            on[contract].append(forecast)
    with contextlib.closing(keys.SeenForecasts()) as seen:  # a bet's key is its own id, not under its market's
        yield from _with_bets(order, by_id, on, seen, skipped)


def _with_bets(order: list[str], by_id: dict, on: dict[str, list[PlatformForecast]], seen: keys.SeenForecasts,
               skipped: Skipped) -> Iterator[PlatformQuestion]:
    for key in order:
        question = by_id[key]
        if isinstance(question, str):
            continue
        forecasts = sorted(on[key], key=lambda f: (f.made_at, f.key))  # the API lists newest first
        fresh = seen.fresh(key, forecasts, skipped)
        if fresh:
            yield common.with_forecasts(question, fresh, seen.again)
        else:
            skipped.add("markets without any bet")


def _question(market: dict, where: str, key: str, skipped: Skipped) -> PlatformQuestion | str:
    get = common.get
    kind = get(market, "outcomeType", where, common.one_line)
    if kind != "BINARY":
        return common.kind_label(kind)
    close = get(market, "closeTime", where, common.epoch_time, unit=1000.0, optional=True)
    if close is None:
        raise ValidationError("closeTime", "is required: a binary market without one has no deadline", where)
    url = get(market, "url", where, common.one_line, optional=True)
    creator = get(market, "creatorName", where, common.one_line, optional=True)
    description = get(market, "textDescription", where, common.text, optional=True)
    if description and description.strip():
        criteria, given = common.fit_criteria(description.strip(), url), True
    else:
        criteria, given = f"As resolved by its creator{', ' + creator + ',' if creator else ''} on Manifold.", False
    # A market without isResolved (or with null) is open; any other value must be true or false
    resolved = market.get("isResolved") is not None and get(market, "isResolved", where, common.boolean)
    resolution = market.get("resolution")
    outcome = resolved_at = resolved_on = evidence = None
    if resolved:
        if resolution is None:
            raise ValidationError("resolution", "is required: isResolved is true", where)
        if not isinstance(resolution, str) or resolution not in OUTCOMES:
            raise ValidationError("resolution", f"{common.short(str(resolution))!r} is not YES, NO, MKT or CANCEL", where)
        outcome = OUTCOMES[resolution]
        resolved_at = get(market, "resolutionTime", where, common.epoch_time, unit=1000.0, optional=True)
        shown = resolution
        if resolution == "MKT" and market.get("resolutionProbability") is not None:
            shown = f"MKT (to {get(market, 'resolutionProbability', where, common.probability):.0%})"
        place = f" ({url})" if url else ""
        if resolved_at:
            resolved_on = resolved_at.date()
            evidence = f"Resolved {shown} on Manifold at {common.iso_z(resolved_at)}{place}."
        else:
            resolved_on = close.date()
            evidence = f"Resolved {shown} on Manifold{place}; the file gives no resolution time, so the close date is used."
    elif resolution is not None:
        raise ValidationError("resolution", "is given but isResolved is not true", where)
    groups = common.listed(market, "groupSlugs", f"{where}.groupSlugs")
    names = [common.checked(g, "groupSlugs", f"{where}.groupSlugs[{n}]", common.one_line) for n, g in enumerate(groups)]
    return PlatformQuestion(
        platform=PLATFORM, key=key, title=get(market, "question", where, common.text), criteria=criteria,
        criteria_from_platform=given, url=url, created=get(market, "createdTime", where, common.epoch_time, unit=1000.0),
        deadline=close.date(), tags=common.tags(names, skipped), outcome=outcome, resolved_at=resolved_at,
        resolved_on=resolved_on, evidence=evidence, where=where,
    )


def _forecast(bet: dict, where: str, source: str | None, forecasters, skipped: Skipped) -> PlatformForecast | None:
    get = common.get
    if bet.get("isRedemption") is not None and get(bet, "isRedemption", where, common.boolean):
        skipped.add("automatic redemptions (not trades)")
        return None
    if bet.get("isRebalance") is not None and get(bet, "isRebalance", where, common.boolean):
        skipped.add("automatic rebalances (not trades)")
        return None
    amount = bet.get("amount")
    if isinstance(amount, bool) or not isinstance(amount, (int, float)):
        raise ValidationError("amount", f"must be a number, not {common.kind_of(amount)}", where)
    if amount == 0:
        skipped.add("limit orders of which nothing was filled")
        return None
    user = get(bet, "userId", where, common.identifier)
    common.check_single_source(source, user, where, forecasters)
    return PlatformForecast(
        key=get(bet, "id", where, common.identifier), source=source or f"Manifold user {user}",
        made_at=get(bet, "createdTime", where, common.epoch_time, unit=1000.0),
        probability=get(bet, "probAfter", where, common.probability), basis="assigned", where=where,
    )
