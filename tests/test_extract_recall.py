"""The quality targets of `predictions extract`, measured by benchmarks/extract_recall.py.

On the five articles against seeds/ (skipped where ../shared/articles is absent) and on the
articles of tests/fixtures/extract, written with their forecasts for this measure: recall at
least 90%, at most two candidates per forecast, and the article's own deadlines and stated or
verbal probabilities mostly recovered. A few seconds in all.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("extract_recall", REPO / "benchmarks" / "extract_recall.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


def check_targets(result: dict) -> None:
    assert result["recall"] >= 0.90, result["misses"]
    assert result["candidates"] <= 2 * result["forecasts"]
    assert result["precision"] >= 0.50
    for key in ("deadline", "probability"):  # recovered where the article states them
        assert result[key]["recovered"] >= 0.75 * result[key]["checked"], result[f"wrong_{key}"]


@pytest.mark.skipif(not bench.ARTICLES.is_dir(), reason="the source articles are not beside the repository")
def test_the_seeds_are_found_in_their_articles():
    result = bench.measure(bench.seed_set())
    assert result["forecasts"] == 36
    check_targets(result)


def test_the_forecasts_of_articles_written_for_the_measure_are_found():
    result = bench.measure(bench.fixture_set())
    check_targets(result)


def test_the_overlap_rule_counts_characters_of_each_excerpt():
    text = "aaaa bbbb cccc dddd"
    assert bench.covered(text, "aaaa bbbb", 0, 4) == (4, 9)
    assert bench.covered(text, "aaaa […] dddd", 15, 19) == (4, 8)  # one excerpt of two, found where it is
    assert bench.covered(text, "zzzz", 0, 19) == (0, 4)


@pytest.mark.skipif(not bench.ARTICLES.is_dir(), reason="the source articles are not beside the repository")
def test_each_article_gives_a_draft_whose_quotes_are_its_own_words():
    import tomllib

    from predictions import extract_forecasts

    for name, path, published, _ in bench.seed_set():
        draft = extract_forecasts(path, published=published, source="S")
        forecasts = tomllib.loads(draft.to_toml(recorded_at="2026-11-23T00:00:00Z"))["forecasts"]
        text = path.read_text(encoding="utf-8")
        assert forecasts and all(f["quote"] in text for f in forecasts), name
