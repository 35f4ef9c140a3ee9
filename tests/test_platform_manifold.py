"""The Manifold parser: markets and bets in one file or two, every mapped field, the
bet-as-forecast rule, a newer export, and malformed files."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from predictions import ValidationError
from predictions.platforms import read_platform

FIXTURES = Path(__file__).parent / "fixtures" / "platforms"
UTC = dt.timezone.utc
ALICE, BOB = "Manifold user uAlice000000000000000000001", "Manifold user uBob00000000000000000000002"


def read(paths, **options):
    batch = read_platform("manifold", paths, **options)
    return list(batch), batch.skipped.lines()


def test_markets_and_bets_map_every_field():
    questions, skipped = read(FIXTURES / "manifold.json")
    assert [q.key for q in questions] == ["mBridge0001", "mRain000002", "mLaunch0003", "mFerry00004", "mLibrary005"]
    assert skipped == [
        "skipped 1 multiple-choice question", "skipped 1 pseudo-numeric question",
        "skipped 1 automatic redemption (not trades)", "skipped 1 limit order of which nothing was filled",
        "skipped 1 bet on multiple-choice questions",
    ]
    bridge, rain, launch, ferry, library = questions
    assert bridge.platform == "manifold"
    assert bridge.title == "Will the Harbour Bridge reopen to cars before June 1, 2025?"
    assert bridge.criteria == ('Resolves YES if the city opens it to car traffic; "soft openings" for buses only '
                               "do not count.\n\nAsk in the comments.")  # textDescription
    assert bridge.criteria_from_platform is True
    assert bridge.url == "https://manifold.markets/AliceExample/will-the-harbour-bridge-reopen-to-cars-b"
    assert bridge.created == dt.datetime(2025, 1, 5, 9, 2, 41, tzinfo=UTC)
    assert bridge.deadline == dt.date(2025, 6, 1)  # closeTime
    assert bridge.tags == ("infrastructure", "local-news")  # groupSlugs
    assert (bridge.outcome, bridge.resolved_on) == ("yes", dt.date(2025, 5, 20))
    assert bridge.resolved_at == dt.datetime(2025, 5, 20, 18, 30, 45, tzinfo=UTC)
    assert bridge.where.endswith("manifold.json:$[0].market")
    # each trade, oldest first: the market's probability after it, as the bettor's assigned forecast
    assert [(f.key, f.source, f.probability, f.made_at, f.basis) for f in bridge.forecasts] == [
        ("bAl1", ALICE, 0.65, dt.datetime(2025, 1, 5, 9, 3, 7, tzinfo=UTC), "assigned"),
        ("bSl1", ALICE, 0.62, dt.datetime(2025, 1, 5, 20, 0, tzinfo=UTC), "assigned"),  # a sale is a trade too
        ("bBo1", BOB, 0.4, dt.datetime(2025, 1, 6, 11, 0, tzinfo=UTC), "assigned"),
        ("bAl2", ALICE, 0.75, dt.datetime(2025, 3, 10, 14, 20, 9, tzinfo=UTC), "assigned"),
    ]
    assert bridge.forecasts[0].where.endswith("manifold.json:$[0].bets[5]")
    assert (rain.criteria, rain.criteria_from_platform) == ("As resolved by its creator, Alice Example, on Manifold.", False)
    assert (rain.outcome, rain.resolved_on) == ("no", dt.date(2025, 7, 15))
    assert launch.outcome == "ambiguous"  # MKT
    assert launch.evidence.startswith("Resolved MKT (to 63%) on Manifold at 2025-10-01T09:00:00Z")
    assert launch.criteria == "As resolved by its creator, Carol Third, on Manifold."
    assert (ferry.outcome, ferry.resolved_on) == ("annulled", dt.date(2025, 3, 1))  # CANCEL
    assert (library.outcome, library.resolved_at, library.resolved_on, library.evidence) == (None, None, None, None)
    assert library.tags == ("civic", "local-news")


@pytest.mark.parametrize("order", [("manifold-market.json", "manifold-bets.json"), ("manifold-bets.json", "manifold-market.json")])
def test_a_market_and_its_bets_in_two_files(order):
    (bridge,), skipped = read([FIXTURES / name for name in order])
    (expected, *_), _ = read(FIXTURES / "manifold.json")
    assert bridge == expected
    assert [(f.key, f.probability, f.made_at) for f in bridge.forecasts] == [
        (f.key, f.probability, f.made_at) for f in expected.forecasts]
    assert bridge.where.endswith("manifold-market.json:$")
    assert bridge.forecasts[0].where.endswith("manifold-bets.json:$[5]")
    assert skipped == ["skipped 1 automatic redemption (not trades)", "skipped 1 limit order of which nothing was filled"]


def test_a_newer_export_keeps_every_identity():
    before = {q.key: q for q in read(FIXTURES / "manifold.json")[0]}
    after = {q.key: q for q in read(FIXTURES / "manifold-newer.json")[0]}
    assert set(after) - set(before) == {"mTram000008"}
    assert before["mRain000002"].same_question(after["mRain000002"]) == "outcome"  # NO -> CANCEL
    assert (after["mLibrary005"].outcome, after["mLibrary005"].resolved_on) == ("yes", dt.date(2026, 6, 1))
    old = {f.key for q in before.values() for f in q.forecasts}
    new = {f.key for q in after.values() for f in q.forecasts}
    assert old < new and sorted(new - old) == ["bLi2", "bTr1", "bTr2"]


def test_source_names_one_bettor_only():
    with pytest.raises(ValidationError, match=r"manifold\.json:\$\[0\]\.bets\[3\]: field source \(--source\)"):
        read(FIXTURES / "manifold.json", source="alice")
    (question,), _ = read([FIXTURES / "manifold-market.json", FIXTURES / "manifold-bets.json"], source=None)
    assert {f.source for f in question.forecasts} == {ALICE, BOB}


def _edited(tmp_path, change, name="manifold.json") -> Path:
    data = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.mark.parametrize("change, where, message", [
    (lambda d: d[0]["bets"][0].update(probAfter=1.5), "$[0].bets[0]", "field probAfter: 1.5 is outside [0, 1]"),
    (lambda d: d[0]["bets"][0].update(probAfter="0.7"), "$[0].bets[0]", "field probAfter: must be a number, not text"),
    (lambda d: d[0]["bets"][0].update(createdTime="2025-03-10"), "$[0].bets[0]", "field createdTime: must be a number"),
    (lambda d: d[0]["bets"][0].update(contractId="elsewhere"), "$[0].bets[0]", "field contractId: 'elsewhere' is not a market in the file"),
    (lambda d: d[0]["bets"][0].update(amount=None), "$[0].bets[0]", "field amount: must be a number, not null"),
    (lambda d: d[0]["market"].update(resolution="MAYBE"), "$[0].market", "field resolution: 'MAYBE' is not YES, NO, MKT or CANCEL"),
    (lambda d: d[0]["market"].update(resolution=["YES"]), "$[0].market", "field resolution: \"['YES']\" is not YES, NO"),
    (lambda d: d[4]["market"].update(resolution="YES"), "$[4].market", "field resolution: is given but isResolved is not true"),
    (lambda d: d[0]["market"].pop("closeTime"), "$[0].market", "field closeTime: is required"),
    (lambda d: d[0]["market"].update(groupSlugs="infrastructure"), "$[0].market.groupSlugs", "must be a list, not text"),
    (lambda d: d[0].pop("market"), "$[0]", "field market: is required"),
    (lambda d: d[0]["market"].update(question=None), "$[0].market", "field question: is required"),
])
def test_malformed_values_are_refused_naming_the_json_path_and_field(tmp_path, change, where, message):
    path = _edited(tmp_path, change)
    with pytest.raises(ValidationError) as refused:
        read(path)
    assert str(refused.value).startswith(f"{path}:{where}: ")
    assert message in str(refused.value)


@pytest.mark.parametrize("change", [lambda m: m.pop("isResolved"), lambda m: m.update(isResolved=None)],
                         ids=["missing", "null"])
def test_a_market_that_does_not_say_it_is_resolved_is_open(tmp_path, change):
    path = _edited(tmp_path, lambda d: change(d[4]["market"]))  # mLibrary005, unresolved
    library = read(path)[0][4]
    assert (library.key, library.outcome, library.resolved_on) == ("mLibrary005", None, None)
    refused = _edited(tmp_path, lambda d: d[4]["market"].update(isResolved="no"))
    with pytest.raises(ValidationError, match=r"\$\[4\]\.market: field isResolved: must be true or false"):
        read(refused)


def test_two_files_must_be_a_market_and_its_bets(tmp_path):
    with pytest.raises(ValidationError, match="one must hold the market and the other a list of its bets"):
        read([FIXTURES / "manifold-bets.json", FIXTURES / "manifold-bets.json"])
    with pytest.raises(ValidationError, match="one file .* or two"):
        read([FIXTURES / "manifold-bets.json"] * 3)


def test_truncated_json_names_its_line(tmp_path):
    text = (FIXTURES / "manifold-bets.json").read_text(encoding="utf-8")
    path = tmp_path / "bets.json"
    path.write_text(text[:-40], encoding="utf-8")
    with pytest.raises(ValidationError, match=r"bets\.json:\d+: not valid JSON"):
        read([FIXTURES / "manifold-market.json", path])
