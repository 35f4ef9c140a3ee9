"""Platform batches as the project's import records: each fixture goes into a new ledger through
Ledger.import_records, every mapped field arrives, ids follow the platform identity, and a second
import of the same file through import_records, which has no re-import rules, is refused whole (the
ledger unchanged) rather than merged; Ledger.import_platform applies them (test_import_platforms)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import attrs
import pytest

from predictions import Ledger, LedgerError
from predictions.platforms import read_platform
from predictions.platforms.common import PlatformForecast, PlatformQuestion
from predictions.platforms.records import ledger_id, to_records

FIXTURES = Path(__file__).parent / "fixtures" / "platforms"
UTC = dt.timezone.utc
FILES = [("fatebook", ["fatebook.csv"]), ("fatebook", ["fatebook-2023.csv"]), ("predictionbook", ["predictionbook.json"]),
         ("predictionbook", ["predictionbook-withdrawn.json"]), ("metaculus", ["metaculus.zip"]),
         ("metaculus", ["metaculus-posts.json"]), ("manifold", ["manifold.json"]),
         ("manifold", ["manifold-market.json", "manifold-bets.json"])]


def batch(platform, names):
    return list(read_platform(platform, [FIXTURES / n for n in names]))


@pytest.mark.parametrize("platform, names", FILES)
def test_every_fixture_imports_with_every_mapped_field(tmp_path, platform, names):
    questions = batch(platform, names)
    with Ledger(tmp_path / "ledger.db") as ledger:
        summary = ledger.import_records(to_records(questions))
        assert summary.questions == len({q.key for q in questions})
        assert summary.forecasts == sum(len(q.forecasts) for q in questions)
        for question in questions:
            stored = ledger.get_question(ledger_id(platform, question.key))
            assert stored.question.question == question.title
            assert stored.question.resolution_criteria == question.criteria
            assert stored.question.deadline == question.deadline
            assert stored.question.tags == question.tags
            current = stored.current
            if question.outcome is None:
                assert current is None
            else:
                assert current.outcome == question.outcome
                assert current.resolved_on == min(question.resolved_on, question.deadline) \
                    if question.outcome == "yes" else question.resolved_on
                assert current.evidence.startswith(question.evidence)
            by_id = {f.id: f for f in stored.forecasts}
            for forecast in question.forecasts:
                kept = by_id[ledger_id(platform, question.key, forecast.key)]
                assert (kept.source, kept.made_on, kept.probability, kept.probability_basis, kept.note) == (
                    forecast.source, forecast.made_at.date(), forecast.probability, forecast.basis, forecast.comment)
                assert kept.document is not None and kept.document.url == question.url


def test_the_same_file_again_is_refused_whole(tmp_path):
    with Ledger(tmp_path / "ledger.db") as ledger:
        ledger.import_records(to_records(batch("fatebook", ["fatebook.csv"])))
        head, count = ledger.head(), ledger.count()
        with pytest.raises(LedgerError, match="already in the ledger"):
            ledger.import_records(to_records(batch("fatebook", ["fatebook-newer.csv"])))
        assert (ledger.head(), ledger.count()) == (head, count)


def test_ids_follow_the_platform_identity():
    assert ledger_id("metaculus", "31001") == ledger_id("metaculus", "31001")
    assert ledger_id("metaculus", "31001") != ledger_id("manifold", "31001")
    assert ledger_id("fatebook", "a", "b") != ledger_id("fatebook", "ab")  # keys never hold the "\n" joining them
    assert ledger_id("predictionbook", "1001").startswith("predictionbook-") and len(ledger_id("predictionbook", "1")) == 31


QUESTION = PlatformQuestion(
    platform="fatebook", key="k", title="Will it happen?", criteria="As resolved by its author on Fatebook.",
    criteria_from_platform=False, url=None, created=dt.datetime(2025, 1, 1, tzinfo=UTC), deadline=dt.date(2025, 6, 1),
    forecasts=(PlatformForecast(key="k/1", source="Ann", made_at=dt.datetime(2025, 1, 2, tzinfo=UTC), probability=0.4,
                                basis="stated", where="x.csv:2"),),
)


def test_a_yes_recorded_after_the_deadline_is_dated_on_it(tmp_path):
    late = attrs.evolve(QUESTION, outcome="yes", resolved_on=dt.date(2025, 6, 9), evidence="Resolved YES on Fatebook.")
    with Ledger(tmp_path / "ledger.db") as ledger:
        ledger.import_records(to_records([late]))
        current = ledger.get_question(ledger_id("fatebook", "k")).current
    assert current.resolved_on == dt.date(2025, 6, 1)
    assert current.evidence == "Resolved YES on Fatebook. The ledger dates it on the deadline, 2025-06-01."


def test_an_early_no_says_where_it_was_resolved(tmp_path):
    early = attrs.evolve(QUESTION, outcome="no", resolved_on=dt.date(2025, 3, 1), evidence="Resolved NO on Fatebook.")
    with Ledger(tmp_path / "ledger.db") as ledger:
        ledger.import_records(to_records([early]))
        current = ledger.get_question(ledger_id("fatebook", "k")).current
    assert (current.outcome, current.resolved_on) == ("no", dt.date(2025, 3, 1))
    assert current.early_reason == "resolved NO on Fatebook on 2025-03-01, before the deadline"
