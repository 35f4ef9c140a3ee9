"""Hedge words to probabilities, on Sherman Kent's scale of estimative probability.

Kent, "Words of Estimative Probability", Studies in Intelligence 8(4), 1964 (CIA), proposed
five tiers with the words that belong to each:

    almost certain        93% (give or take about 6%)
    probable              75% (give or take about 12%)
    chances about even    50% (give or take about 10%)
    probably not          30% (give or take about 10%)
    almost certainly not   7% (give or take about 5%)

Each tier is represented here by its central value. Kent's own 100% ("certain") and 0%
("impossible") are left out on purpose: a forecast is never scored as certain, so a flat "will"
is read as the top tier, not as 1. Words Kent did not list ("will", "may", "could"...) are placed
in the tier nearest their plain reading; docs/deadlines-and-hedges.md gives the reason for each.
"""

from __future__ import annotations

from types import MappingProxyType

from .errors import excerpt
from .model import MAX_LINE

ALMOST_CERTAIN = 0.93
PROBABLE = 0.75
EVEN = 0.50
PROBABLY_NOT = 0.30
ALMOST_CERTAINLY_NOT = 0.07

# Kent's words first in each tier, then this project's additions (marked +).
_TIERS: dict[float, tuple[str, ...]] = {
    ALMOST_CERTAIN: (
        "almost certain", "almost certainly", "virtually certain", "all but certain",
        "highly probable", "highly likely", "chances overwhelming", "odds overwhelming",
        # + a flat assertion about the future is the speaker's near-certainty, never 1
        "will", "is going to", "are going to", "very likely", "certain to", "definitely",
        # + "eventually" is a horizon, not a hedge; a company's public commitment is its flat "will"
        "will eventually", "committed to", "is committed to",
    ),
    PROBABLE: (
        "probable", "probably", "likely", "we believe", "we estimate", "chances are good",
        # + expectations and "most likely" rank an outcome first without claiming near-certainty
        "will likely", "most likely", "will most likely", "expected to", "expect", "should",
        "on track to",
        # + projections, estimates and announced plans are expectations, not assertions
        "projected", "projected to", "is projected to", "estimated to", "is estimated to",
        "plans to", "planned",
    ),
    EVEN: (
        "chances about even", "about even", "even chance", "chances a little better than even",
        "chances a little less than even",
        # + words that admit the outcome without giving odds: they commit to nothing more than even
        "may", "might", "could", "possibly", "possible", "maybe", "toss-up",
    ),
    PROBABLY_NOT: (
        "probably not", "unlikely", "improbable", "we doubt", "doubtful", "we believe not",
        # + the plain negation of "likely", read as Kent's "unlikely"
        "not likely",
    ),
    ALMOST_CERTAINLY_NOT: (
        "almost certainly not", "virtually impossible", "almost impossible", "some slight chance",
        "highly doubtful",
        # + mirror images of Kent's "highly likely" and "some slight chance"; "very unlikely" is
        # the plain reading of "highly unlikely"; a flat negative about the future mirrors "will"
        "highly unlikely", "chances are slight", "very unlikely", "will not", "won't",
    ),
}  # fmt: skip


class UnknownPhraseError(ValueError):
    """The phrase is not on the hedge scale."""


_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})
_HYPHENS = str.maketrans({"-": " ", "\u2010": " ", "\u2011": " ", "\u2012": " ", "\u2013": " "})
_EDGES = " \"'.,;:!?()"  # stripped from both ends (str.strip: linear, where a regex for it was quadratic)


def normalise_phrase(phrase: str) -> str:
    """Lower case, single spaces, straight quotes, hyphens as spaces, no surrounding punctuation.

    So "Toss-up", "toss up" and "“Toss up.”" are one phrase; "won't" keeps its apostrophe. Every
    step is one pass over the text.
    """
    text = " ".join(phrase.translate(_QUOTES).lower().translate(_HYPHENS).split())
    return text.strip(_EDGES).strip()


# Keys are stored normalised, so that a lookup never depends on how the scale was typed.
HEDGE_SCALE = MappingProxyType(
    {normalise_phrase(phrase): p for p, phrases in _TIERS.items() for phrase in phrases}
)
# The scale's own spelling of each phrase ("toss-up", not "toss up").
_SPELLING = {normalise_phrase(phrase): phrase for phrases in _TIERS.values() for phrase in phrases}


def canonical_phrase(phrase: str) -> str:
    """The one form of a phrase that every way of typing it shares: the scale's spelling for a
    phrase on the scale ("Likely.", "likely" -> "likely"), else the normalised text. Matching a
    phrase (to the scale, or to others when grouping scores) goes through this."""
    key = normalise_phrase(phrase)
    return _SPELLING.get(key, key)


def probability_from_phrase(phrase: str) -> float:
    """The probability Kent's scale (with this project's documented additions) gives a hedge.

    >>> probability_from_phrase("likely")
    0.75
    >>> probability_from_phrase("Will")
    0.93
    """
    if not isinstance(phrase, str):
        raise UnknownPhraseError(f"a hedge phrase must be text, not {type(phrase).__name__}")
    if len(phrase) > MAX_LINE:  # before any other work
        raise UnknownPhraseError(f"{excerpt(phrase)} is longer than a hedge phrase may be ({MAX_LINE} characters)")
    try:
        return HEDGE_SCALE[normalise_phrase(phrase)]
    except KeyError:
        raise UnknownPhraseError(
            f"{excerpt(phrase)} is not on the hedge scale; give a number instead, or one of: "
            + ", ".join(sorted(HEDGE_SCALE))
        ) from None
