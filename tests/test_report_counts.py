"""Calibration counts are sums of day shares: a source's update that moves its pair into another
bin splits the pair between the two bins, and the report prints those shares as short decimals."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, strategies as st

from predictions import count_text

from .conftest import TODAY, forecast_fields

LONG_FLOAT = re.compile(r"\d\.\d{3,} (?:resolved yes|of )|of \d+\.\d{3,}")


@pytest.fixture
def split_pair(ledger, recorded_on_today):
    # 0.1 held Jan 1 to Feb 28 (59 days), then 0.9 Mar 1 to the Jun 30 end, both included (122 days)
    ledger.add(**forecast_fields(id="split-one", claim="It happens", made_on="2026-01-01",
                                 deadline="2026-06-30", probability=0.1))  # fmt: skip
    ledger.add(question="split-one", source=forecast_fields()["source"], made_on="2026-03-01", probability=0.9,
               today=TODAY)  # fmt: skip
    ledger.resolve("split-one", "yes", on="2026-06-30", evidence="It happened.")
    return ledger


@pytest.mark.parametrize("fmt", ["text", "md", "html"])
def test_split_pair_counts_print_as_two_decimals_in_every_format(split_pair, fmt):
    report = split_pair.report("2026", today=TODAY, min_n=1)
    shares = {round(b.n, 6) for b in report.calibration.bins}
    assert shares == {round(59 / 181, 6), round(122 / 181, 6)}  # hand-computed: the days each forecast held
    text = report.render(fmt)
    assert not LONG_FLOAT.search(text), LONG_FLOAT.search(text).group(0)
    assert f"{59 / 181:.2f}" in text and f"{122 / 181:.2f}" in text  # 0.33 and 0.67


def test_json_keeps_the_exact_shares(split_pair):
    bins = split_pair.report("2026", today=TODAY, min_n=1).to_json()
    assert str(59 / 181) in json.dumps(bins)


@given(st.integers(min_value=0, max_value=10**6))
def test_whole_counts_print_without_decimals(n):
    assert count_text(n) == str(n) == count_text(float(n))


@given(st.floats(min_value=0, max_value=1e6, allow_nan=False).filter(lambda x: abs(x - round(x)) > 1e-6))
def test_fractional_counts_print_with_two_decimals(x):
    assert count_text(x) == f"{x:.2f}"
