"""parse_deadline: deadline wordings to the last day (inclusive) they allow.

Expected dates are worked out by hand from a calendar, never by calling the code under test.
"""

from __future__ import annotations

import datetime as dt

import pytest
from dateutil.relativedelta import relativedelta
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
        # Explicit dates with the month in words (issue 13)
        ("by December 31, 2026", MADE, D(2026, 12, 31)),
        ("by 31 December 2026", MADE, D(2026, 12, 31)),
        ("by Dec. 31 2026", MADE, D(2026, 12, 31)),
        ("by Dec 31st, 2026", MADE, D(2026, 12, 31)),
        ("by the 1st of March 2027", MADE, D(2027, 3, 1)),
        ("on or before Sept. 30, 2026", MADE, D(2026, 9, 30)),
        ("before 1 March 2028", MADE, D(2028, 2, 29)),
        ("by February 29, 2028", MADE, D(2028, 2, 29)),
        # Decades run 2020-2029: the end of the decade is that of the decade made_on is in
        ("by the end of the decade", MADE, D(2029, 12, 31)),
        ("by the end of this decade", D(2030, 1, 1), D(2039, 12, 31)),
        ("before the end of the decade", D(2029, 12, 31), D(2029, 12, 31)),
        ("by the end of the next decade", MADE, D(2039, 12, 31)),
        ("in the 2020s", MADE, D(2029, 12, 31)),
        ("by the end of the 2030s", MADE, D(2039, 12, 31)),
        ("before the 2030s", MADE, D(2029, 12, 31)),
        # "late X" can only end when X does
        ("by late March 2027", MADE, D(2027, 3, 31)),
        ("late Q3 2026", MADE, D(2026, 9, 30)),
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
        ("within 1.5 years", MADE, "give a whole number of years, such as 'within 18 months'"),
        ("within a year and a half", MADE, "give a whole number of years, such as 'within 18 months'"),
        ("within 2.5 decades", MADE, "give a whole number of decades, such as 'within 25 years'"),
        ("within 1.5 weeks", MADE, "give a whole number of weeks"),
        ("within 1.5 months", MADE, "give a whole number of months"),
        ("within 9000 years", MADE, "is longer than 200 years"),
        ("within 199 years", D(9990, 1, 1), "runs past the calendar's end"),
        ("by early 2027", MADE, "has no agreed last day"),
        ("by early 2028", MADE, "has no agreed last day: give an explicit date, or choose one and mark it assumed"),
        ("by mid-2027", MADE, "has no agreed last day"),
        ("by mid 2027", MADE, "has no agreed last day"),
        ("by the middle of 2027", MADE, "has no agreed last day"),
        ("by mid-year", MADE, "has no agreed last day"),
        ("by early March 2027", MADE, "has no agreed last day"),
        ("by FY2027", MADE, "names a fiscal year"),
        ("by fiscal year 2027", MADE, "names a fiscal year"),
        ("in FY 2026-27", MADE, "names a fiscal year"),
        ("the 2027", MADE, "names no part of 2027"),
        ("by the 2027", MADE, "names no part of 2027"),
        ("by summer 2027", MADE, "names a season"),
        ("by the autumn of 2027", MADE, "names a season"),
        ("by next spring", MADE, "names a season"),
        ("12/31/2026", MADE, "day and month in figures"),
        ("by 31.12.2026", MADE, "day and month in figures"),
        ("by February 30, 2027", MADE, "is not a real date"),
        ("by the decade", MADE, "does not name a deadline"),
        ("within 18 months" + " " * 300, MADE, "is longer than a deadline wording may be (300 characters)"),
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
        "('by the end of 2026', 'by Q3 2026', 'by March 2027') or a date ('by December 31, 2026', YYYY-MM-DD)"
    )


@pytest.mark.parametrize("bad", [None, 18, ["within 18 months"]])
def test_non_text_wording_is_refused(bad):
    with pytest.raises(DeadlineError, match="must be text"):
        parse_deadline(bad, MADE)


def test_made_on_is_a_date_or_its_yyyy_mm_dd_text():
    # Like every date parameter of the public API (issue 10): the text form gives the same deadline.
    assert parse_deadline("within 18 months", "2026-05-15") == parse_deadline("within 18 months", D(2026, 5, 15))
    for bad in ("15 May 2026", "2026-02-30", "2026-5-15", 20260515, None):
        with pytest.raises(DeadlineError, match="made_on must be a date"):
            parse_deadline("within 18 months", bad)


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


# --- explicit dates, conventions and refusals, as properties (issue 13) ----------------------------

MONTH_NAMES = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
               "October", "November", "December"]  # fmt: skip
ORDINAL = {1: "st", 2: "nd", 3: "rd", 21: "st", 22: "nd", 23: "rd", 31: "st"}
days_after_made = st.dates(min_value=D(2026, 5, 16), max_value=D(2200, 12, 31))


@given(days_after_made, st.sampled_from(["{M} {d}, {y}", "{M} {d} {y}", "{d} {M} {y}", "{d}{o} of {M} {y}",
                                         "{m}. {d} {y}", "{m} {d}{o}, {y}", "{y}-{mm}-{dd}"]),
       st.sampled_from(["", "by ", "on or before ", "no later than ", "by the "]))  # fmt: skip
def test_an_explicit_date_is_itself_however_written(day, form, prefix):
    month = MONTH_NAMES[day.month - 1]
    text = prefix + form.format(M=month, m=month[:3], d=day.day, o=ORDINAL.get(day.day, "th"), y=day.year,
                                mm=f"{day.month:02d}", dd=f"{day.day:02d}")  # fmt: skip
    if prefix == "by the " and not form.startswith("{d}{o}"):
        return  # "by the December 31, 2026" is not English; "by the 31st of December" is
    assert parse_deadline(text, MADE) == day
    assert parse_deadline("before " + text.removeprefix(prefix), MADE) == day - dt.timedelta(days=1)


@given(made_ons)
def test_the_end_of_the_decade_is_the_last_day_of_the_decade_made_in(made_on):
    deadline = parse_deadline("by the end of the decade", made_on)
    assert deadline.month == 12 and deadline.day == 31 and deadline.year % 10 == 9
    assert 0 <= deadline.year - made_on.year <= 9  # the decade made_on is in, not the next one
    assert parse_deadline("by the end of the next decade", made_on) == deadline.replace(year=deadline.year + 10)


periods = st.sampled_from(["2027", "2028", "March 2027", "Q3 2027", "next year", "year"])


@given(st.sampled_from(["early", "mid", "mid-", "early-", "the middle of", "the beginning of", "the start of"]),
       periods, st.sampled_from(["by ", "in ", ""]))  # fmt: skip
def test_parts_of_a_period_other_than_its_end_are_refused_with_the_hint(qualifier, period, prefix):
    text = f"{prefix}{qualifier}{'' if qualifier.endswith('-') else ' '}{period}"
    with pytest.raises(DeadlineError, match="has no agreed last day: give an explicit date, or choose one and "
                                            r"mark it assumed \(--deadline DATE --assumed-deadline\)"):  # fmt: skip
        parse_deadline(text, MADE)


@given(st.sampled_from(["spring", "summer", "autumn", "fall", "winter"]), st.integers(2027, 2100),
       st.sampled_from(["by {s} {y}", "in the {s} of {y}", "by the end of {s} {y}", "{s} {y}"]))
def test_seasons_are_refused_with_the_hint(season, year, form):
    with pytest.raises(DeadlineError, match="names a season.*--assumed-deadline"):
        parse_deadline(form.format(s=season, y=year), MADE)


@given(st.integers(2027, 2100), st.sampled_from(["by FY{y}", "by FY {y}", "in fiscal {y}", "by fiscal year {y}",
                                                 "by FY{yy:02d}", "by the end of FY{y}"]))  # fmt: skip
def test_fiscal_years_are_refused_with_the_hint(year, form):
    with pytest.raises(DeadlineError, match="names a fiscal year.*--assumed-deadline"):
        parse_deadline(form.format(y=year, yy=year % 100), MADE)


@given(st.integers(0, 150), units)
def test_a_half_is_refused_naming_the_exact_smaller_unit_when_there_is_one(whole, unit):
    text = f"within {whole}.5 {unit}s"
    with pytest.raises(DeadlineError) as caught:
        parse_deadline(text, MADE)
    message = str(caught.value)
    assert f"give a whole number of {unit}s" in message
    if unit == "year":  # the hint is a wording that gives exactly that span; half a week or month has none
        hint = message.split("such as ")[1].strip("'")
        assert hint == f"within {12 * whole + 6} months"
        assert parse_deadline(hint, MADE) == MADE + relativedelta(months=12 * whole + 6)
    else:
        assert "such as" not in message


@given(st.text(max_size=60), made_ons)
def test_any_text_gives_a_deadline_on_or_after_made_on_or_a_deadline_error(text, made_on):
    try:
        deadline = parse_deadline(text, made_on)
    except DeadlineError as exc:
        assert "\n" not in str(exc).replace(text, "")  # one line, apart from the input it quotes
    else:
        assert deadline >= made_on


@given(st.sampled_from(["within 18 months", "by the end of 2026", "by December 31, 2026", "by Q3 2026"]),
       st.lists(st.sampled_from([" ", "  ", "\t"]), min_size=1, max_size=3), st.booleans())
def test_case_and_spacing_never_change_a_deadline(text, spaces, upper):
    varied = "".join(spaces).join(text.split(" "))
    varied = varied.upper() if upper else varied.title()
    assert parse_deadline(varied + ".", MADE) == parse_deadline(text, MADE)


# --- long and hostile input (issue 9, class 6): the limit comes first, the error quotes an excerpt ---


@pytest.mark.parametrize("body", ["within " + "to" * 50_000 + " months", "a" * 10_000_000,
                                  "by " + "the " * 100_000 + "end of 2027", " " * 1_000_000 + "within 18 months"])
def test_a_wording_over_the_limit_is_refused_before_parsing_with_a_short_excerpt(body):
    with pytest.raises(DeadlineError) as caught:
        parse_deadline(body, MADE)
    message = str(caught.value)
    assert "is longer than a deadline wording may be (300 characters)" in message
    assert f"({len(body):,} characters)" in message
    assert len(message) < 200


def test_the_longest_allowed_wording_is_parsed():
    text = "within" + " " * (300 - len("within 18 months")) + " 18 months"
    assert len(text) == 300
    assert parse_deadline(text, MADE) == D(2027, 11, 15)


def test_refusals_of_long_wordings_within_the_limit_quote_an_excerpt():
    text = "by " + "x" * 290
    with pytest.raises(DeadlineError) as caught:
        parse_deadline(text, MADE)
    assert "(293 characters)" in str(caught.value) and "x" * 61 not in str(caught.value)
