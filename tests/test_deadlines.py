"""parse_deadline: deadline wordings to the last day (inclusive) they allow.

Expected dates are worked out by hand from a calendar, never by calling the code under test.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from predictions import DeadlineError, parse_deadline
from predictions.deadlines import _NUMBER_WORDS

D = dt.date
MADE = D(2026, 5, 15)


@pytest.mark.parametrize(
    ("text", "made_on", "expected"),
    [
        # The examples
        ("within 18 months", MADE, D(2027, 11, 15)),
        ("in the next 6 months", MADE, D(2026, 11, 15)),
        ("within 90 days", MADE, D(2026, 8, 13)),  # 16 left in May + 30 + 31 + 13
        ("within two years", MADE, D(2028, 5, 15)),
        ("by the end of 2025", D(2025, 3, 1), D(2025, 12, 31)),
        ("by end of 2026", MADE, D(2026, 12, 31)),
        ("by 2027", MADE, D(2027, 12, 31)),
        ("by mid-2026", D(2026, 1, 10), D(2026, 6, 30)),
        ("by Q3 2026", MADE, D(2026, 9, 30)),
        ("by March 2027", MADE, D(2027, 3, 31)),
        ("2026-10-01", MADE, D(2026, 10, 1)),
        # Calendar edges: a month from the 31st is the month's last day, leap years count
        ("within 1 month", D(2026, 1, 31), D(2026, 2, 28)),
        ("within 1 month", D(2028, 1, 31), D(2028, 2, 29)),
        ("within a year", D(2028, 2, 29), D(2029, 2, 28)),
        ("within 3 months", D(2026, 11, 30), D(2027, 2, 28)),
        ("within 1 day", D(2026, 12, 31), D(2027, 1, 1)),
        ("within one day", D(2026, 12, 31), D(2027, 1, 1)),
        ("on or before 2026-10-01", MADE, D(2026, 10, 1)),
        ("by year-end 2027", MADE, D(2027, 12, 31)),
        ("by Mar. 2027", MADE, D(2027, 3, 31)),
        ("within 2 weeks", D(2026, 12, 25), D(2027, 1, 8)),
        ("within a decade", MADE, D(2036, 5, 15)),
        ("by Q1 2028", MADE, D(2028, 3, 31)),
        ("by Q2 2026", MADE, D(2026, 6, 30)),
        ("by Q4 2026", MADE, D(2026, 12, 31)),
        ("by February 2028", MADE, D(2028, 2, 29)),
        ("by February 2027", MADE, D(2027, 2, 28)),
        ("by Sept. 2026", MADE, D(2026, 9, 30)),
        # Other wordings the module documents
        ("Within 18 Months.", MADE, D(2027, 11, 15)),
        ("within  the   next 18 months", MADE, D(2027, 11, 15)),
        ("within 18-24 months", MADE, D(2028, 5, 15)),  # a range runs to its far end
        ("in 2 to 3 years", MADE, D(2029, 5, 15)),
        ("within twenty-one months", MADE, D(2028, 2, 15)),
        ("within twenty one months", MADE, D(2028, 2, 15)),
        ("in a hundred days", MADE, D(2026, 8, 23)),
        ("18 months from now", MADE, D(2027, 11, 15)),
        ("by the end of the year", MADE, D(2026, 12, 31)),
        ("by the end of next year", MADE, D(2027, 12, 31)),
        ("in the first half of 2027", MADE, D(2027, 6, 30)),
        ("by H2 2026", MADE, D(2026, 12, 31)),
        ("by late 2026", MADE, D(2026, 12, 31)),
        ("by the third quarter of 2026", MADE, D(2026, 9, 30)),
        ("before 2027", MADE, D(2026, 12, 31)),
        ("before March 2027", MADE, D(2027, 2, 28)),
        ("by 2026-10-01", MADE, D(2026, 10, 1)),
        ("before 2026-10-01", MADE, D(2026, 9, 30)),
        ("2026-05-15", MADE, MADE),  # the deadline may be the day it was made
    ],
)
def test_wording_gives_the_documented_date(text, made_on, expected):
    assert parse_deadline(text, made_on) == expected


def test_a_datetime_made_on_counts_as_its_date():
    assert parse_deadline("within 1 month", dt.datetime(2026, 1, 31, 23, 59)) == D(2026, 2, 28)


@pytest.mark.parametrize(
    ("text", "made_on", "reason"),
    [
        ("eventually", MADE, "does not name a deadline"),
        ("soon", MADE, "does not name a deadline"),
        ("", MADE, "the deadline wording is empty"),
        ("   ", MADE, "the deadline wording is empty"),
        ("within -3 months", MADE, "is a negative span"),
        ("in the next -6 months", MADE, "is a negative span"),
        ("-2 years", MADE, "is a negative span"),
        ("within 0 days", MADE, "is not a positive span"),
        ("within 24-18 months", MADE, "is a range that runs backwards"),
        ("within 1.5 years", MADE, "give a whole number of years"),
        ("within 9000 years", MADE, "is longer than 200 years"),
        ("within 199 years", D(9990, 1, 1), "runs past the calendar's end"),
        ("by early 2027", MADE, "has no agreed last day"),
        ("by the end of 2025", MADE, "ends on 2025-12-31, before the forecast was made (2026-05-15)"),
        ("2026-02-30", MADE, "is not a real date"),
        ("2026-01-01", MADE, "before the forecast was made"),
        ("within 18 fortnights", MADE, "does not name a deadline"),
        ("one day", MADE, "does not name a deadline"),  # "someday"; "within one day" is a span
        ("in the future", MADE, "does not name a deadline"),
        ("by the start of 2027", MADE, "has no agreed last day"),
        ("by the beginning of 2027", MADE, "has no agreed last day"),
    ],
)
def test_refusals_say_why(text, made_on, reason):
    with pytest.raises(DeadlineError) as caught:
        parse_deadline(text, made_on)
    assert reason in str(caught.value)
    assert isinstance(caught.value, ValueError)  # callers may catch ValueError


def test_unknown_wording_suggests_the_forms_that_work():
    with pytest.raises(DeadlineError) as caught:
        parse_deadline("eventually", MADE)
    assert str(caught.value) == (
        "'eventually' does not name a deadline: use a span ('within 18 months'), a period "
        "('by the end of 2026', 'by Q3 2026', 'by March 2027', 'by mid-2026') or a date (YYYY-MM-DD)"
    )


@pytest.mark.parametrize("bad", [None, 18, ["within 18 months"]])
def test_non_text_wording_is_refused(bad):
    with pytest.raises(DeadlineError, match="must be text"):
        parse_deadline(bad, MADE)


def test_made_on_must_be_a_date():
    with pytest.raises(DeadlineError, match="made_on must be a date"):
        parse_deadline("within 18 months", "2026-05-15")


# --- properties -----------------------------------------------------------------------------------

made_ons = st.dates(min_value=D(1900, 1, 1), max_value=D(2200, 12, 31))
units = st.sampled_from(["day", "week", "month", "year"])
WORDS = {n: w for w, n in _NUMBER_WORDS.items() if w not in ("a", "an") and "hundred" not in w}


@given(made_ons, st.integers(1, 200), st.integers(1, 200), units)
def test_a_longer_span_never_ends_earlier(made_on, a, b, unit):
    short, long = sorted((a, b))
    assert parse_deadline(f"within {short} {unit}s", made_on) <= parse_deadline(
        f"within {long} {unit}s", made_on
    )


@given(made_ons, st.integers(1, 200), units)
def test_a_span_never_ends_before_it_was_made(made_on, n, unit):
    deadline = parse_deadline(f"in the next {n} {unit}s", made_on)
    assert deadline > made_on
    # and lands exactly where the calendar says for days and weeks
    if unit in ("day", "week"):
        assert (deadline - made_on).days == n * (7 if unit == "week" else 1)


@given(made_ons, st.sampled_from(sorted(WORDS)), units)
def test_number_words_equal_digits(made_on, number, unit):
    word = WORDS[number]
    plural = "s" if number != 1 else ""
    assert parse_deadline(f"within {word} {unit}{plural}", made_on) == parse_deadline(
        f"within {number} {unit}{plural}", made_on
    )


def test_every_number_from_one_to_ninety_nine_has_its_word():
    assert sorted(WORDS) == list(range(1, 100))
    assert WORDS[21] == "twenty-one" and WORDS[99] == "ninety-nine"


@given(st.integers(1900, 2200), st.integers(1, 4))
def test_a_quarter_ends_on_its_last_day(year, quarter):
    deadline = parse_deadline(f"by Q{quarter} {year}", D(1900, 1, 1))
    assert deadline.month == 3 * quarter
    assert (deadline + dt.timedelta(days=1)).day == 1  # the next day starts a month
