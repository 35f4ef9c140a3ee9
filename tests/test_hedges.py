"""The hedge scale: Kent (1964) "Words of Estimative Probability", tier centres, and additions."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from predictions import HEDGE_SCALE, UnknownPhraseError, probability_from_phrase
from predictions.hedges import _TIERS, canonical_phrase, normalise_phrase

# Kent's published tiers, as printed in Studies in Intelligence 8(4), 1964: central value and the
# "give or take" band. Typed here from the paper, not imported from the module under test.
KENT_TIERS = {
    "almost certain": (0.93, 0.06),
    "probable": (0.75, 0.12),
    "chances about even": (0.50, 0.10),
    "probably not": (0.30, 0.10),
    "almost certainly not": (0.07, 0.05),
}


@pytest.mark.parametrize(("tier", "centre_and_band"), KENT_TIERS.items())
def test_each_of_kents_tier_names_gets_its_central_value(tier, centre_and_band):
    assert probability_from_phrase(tier) == centre_and_band[0]


@pytest.mark.parametrize(
    ("phrase", "tier"),
    [
        # Words Kent's essay lists under each tier
        ("virtually certain", "almost certain"),
        ("highly probable", "almost certain"),
        ("highly likely", "almost certain"),
        ("likely", "probable"),
        ("we believe", "probable"),
        ("we estimate", "probable"),
        ("chances are good", "probable"),
        ("unlikely", "probably not"),
        ("we doubt", "probably not"),
        ("improbable", "probably not"),
        ("almost impossible", "almost certainly not"),
        ("highly doubtful", "almost certainly not"),
        ("some slight chance", "almost certainly not"),
    ],
)
def test_kents_synonyms_sit_in_his_tiers(phrase, tier):
    assert probability_from_phrase(phrase) == KENT_TIERS[tier][0]


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        # The project's additions, each documented in docs/deadlines-and-hedges.md
        ("will", 0.93),  # a flat assertion is near-certainty, never 1
        ("is going to", 0.93),
        ("very likely", 0.93),
        ("expected to", 0.75),
        ("projected", 0.75),  # table projections and estimates are expectations
        ("estimated to", 0.75),
        ("plans to", 0.75),
        ("committed to", 0.93),  # a company's commitment is its flat "will"
        ("will eventually", 0.93),
        ("should", 0.75),
        ("most likely", 0.75),
        ("may", 0.5),  # admits the outcome without odds: no more than even
        ("might", 0.5),
        ("could", 0.5),
        ("toss-up", 0.5),
        ("not likely", 0.30),
        ("will not", 0.07),
        ("won't", 0.07),
        ("very unlikely", 0.07),
    ],
)
def test_project_additions(phrase, expected):
    assert probability_from_phrase(phrase) == expected


def test_every_value_is_a_tier_centre_and_never_certain():
    centres = {centre for centre, _ in KENT_TIERS.values()}
    assert set(HEDGE_SCALE.values()) == centres
    assert all(0 < p < 1 for p in HEDGE_SCALE.values())


def test_no_phrase_is_in_two_tiers():
    listed = [phrase for phrases in _TIERS.values() for phrase in phrases]
    assert len(listed) == len(set(listed)) == len(HEDGE_SCALE)


def test_the_scale_is_read_only():
    with pytest.raises(TypeError):
        HEDGE_SCALE["perhaps"] = 0.5  # type: ignore[index]


@pytest.mark.parametrize(
    "typed",
    ["Likely", "LIKELY", "  likely ", "likely.", "likely,", '"likely"', "\u201clikely\u201d", "(likely)", "likely!"],
)
def test_case_spacing_and_punctuation_do_not_matter(typed):
    assert probability_from_phrase(typed) == 0.75


@pytest.mark.parametrize("typed", ["Won\u2019t", "WON'T", "won't."])
def test_apostrophes_straight_or_curly(typed):
    assert probability_from_phrase(typed) == 0.07


@pytest.mark.parametrize("typed", ["toss up", "Toss-Up", "toss\u2013up", "Almost  Certainly   Not"])
def test_hyphens_and_inner_spaces(typed):
    assert probability_from_phrase(typed) in (0.5, 0.07)


@pytest.mark.parametrize("phrase", ["perhaps", "likelyish", "", "   ", "not", "will likely not", "certain", "impossible"])
def test_unknown_phrases_are_refused_with_the_list(phrase):
    with pytest.raises(UnknownPhraseError) as caught:
        probability_from_phrase(phrase)
    message = str(caught.value)
    assert message.startswith(f"{phrase!r} is not on the hedge scale; give a number instead, or one of: ")
    assert "likely" in message and "almost certain" in message
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("bad", [None, 0.75, ["likely"]])
def test_non_text_is_refused(bad):
    with pytest.raises(UnknownPhraseError, match="must be text"):
        probability_from_phrase(bad)


# --- one canonical form (issue 13), long input (issue 9, class 6) -----------------------------------

_OLD_EDGES = re.compile(r"^[\s\"'.,;:!?()]+|[\s\"'.,;:!?()]+$")


def _normalise_by_regex(phrase: str) -> str:
    """The regex normaliser this module used before (quadratic on long runs of edge characters),
    kept here as an independent oracle on short text."""
    text = phrase.translate(str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})).lower()
    text = re.sub(r"[-\u2010-\u2013]", " ", text)
    return " ".join(_OLD_EDGES.sub("", text).split())


edge_text = st.text(st.sampled_from(" \t\n\"'.,;:!?()-\u2013\u2019\u201cabcLIKELY\u00a0"), max_size=30)


@given(st.one_of(edge_text, st.text(max_size=30)))
def test_normalising_agrees_with_the_old_regex(phrase):
    assert normalise_phrase(phrase) == _normalise_by_regex(phrase)


@given(st.sampled_from(sorted(HEDGE_SCALE)), st.sampled_from(["", " ", "(", '"', "\u201c"]),
       st.sampled_from(["", ".", "!", ")", " ", "\u201d"]), st.sampled_from([str.lower, str.upper, str.title]))
def test_every_way_of_typing_a_scale_phrase_has_one_canonical_form(key, before, after, case):
    typed = before + case(key) + after
    assert canonical_phrase(typed) == canonical_phrase(key)
    assert probability_from_phrase(canonical_phrase(typed)) == HEDGE_SCALE[key]


def test_the_canonical_form_is_the_scales_spelling():
    assert canonical_phrase("Likely.") == canonical_phrase("likely") == "likely"
    assert canonical_phrase("Toss up") == "toss-up"
    assert canonical_phrase("WON\u2019T") == "won't"
    assert canonical_phrase("Perhaps!") == "perhaps"  # off the scale: its normalised text


@given(st.text(max_size=40))
def test_canonical_form_is_idempotent(phrase):
    assert canonical_phrase(canonical_phrase(phrase)) == canonical_phrase(phrase)


@pytest.mark.parametrize("phrase", [" " * 10_000_000 + "likely", "(" * 1_000_000 + "x", "likely" * 100])
def test_a_phrase_over_the_limit_is_refused_before_matching_with_a_short_excerpt(phrase):
    with pytest.raises(UnknownPhraseError) as caught:
        probability_from_phrase(phrase)
    message = str(caught.value)
    assert f"is longer than a hedge phrase may be (300 characters)" in message
    assert f"({len(phrase):,} characters)" in message and len(message) < 200


def test_a_phrase_of_the_limit_is_matched():
    assert probability_from_phrase(" " * 294 + "likely") == 0.75
