"""Find the forecasts in an article: candidates for a seed file, with the cues that found them.

A candidate is a sentence (or a row of a table of projected figures) that makes a statement
about the future. Each kind of cue adds to its score (CUES below: the weights are the ranking);
a sentence needs one future cue (a future tense or modal verb, "expected to", "projected to",
"plans to", "we predict", a stated chance) and a score of at least MIN_SCORE. For each candidate:

* `quote`, `start`, `end`: an exact slice of the article's text (`text[start:end] == quote`);
* `deadline_text`, `deadline`: the first horizon in the sentence that `parse_deadline` turns into
  a date on or after the publication date; when none does, the first horizon found, without a
  deadline, and `deadline_error` saying why (a horizon already past, "in the coming years");
* `phrase`, `probability`, `probability_basis`: a stated chance ("a 70% chance", basis
  `stated`), else the first hedge on the scale (`predictions/hedges.py`, basis `verbal`).

Only English cues are read: text in other scripts yields no candidates and is left as it is.
Every step is one pass of linear regular expressions over the text; an overlong "sentence"
(no sentence ends in MAX_SENTENCE characters) is not prose and is passed over.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import BinaryIO

import attrs

from .deadlines import DeadlineError, parse_deadline
from .drafts import draft_toml
from .errors import ValidationError
from .hedges import HEDGE_SCALE, probability_from_phrase
from .model import parse_date
from .reading import Article, month_only_date, read_article
from .segments import blocks, sentences, trimmed

MIN_SCORE = 4
MAX_SENTENCE = 1500

# Cue name -> weight. A candidate's score: its strongest future cue's weight, +1 if another kind of
# future cue fired too ("more-future"), plus the weights of the other cues that fired.
CUES = {
    # future cues: a sentence needs one of these
    "predict": 4,  # "we predict", "our prediction", "analysts expect", "Prediction 2:"
    "stated": 4,  # a stated chance: "a 70% chance", "30 percent likely"
    "expected": 4,  # "expected to", "projected to", "estimated to", "set to", "on track to", "likely to"
    "plan": 4,  # "plans to", "committed to", "intends to": an organisation's own forecast of itself
    "will": 2,  # will, shall, won't, is going to
    "should": 1,
    "may": 1,  # may, might, could
    "more-future": 1,  # a second kind of future cue (the others count once, at the strongest one's weight)
    # bonuses
    "horizon": 3,  # a deadline on or after publication
    "past-horizon": 1,  # a horizon that does not give one (already past, or vague)
    "numbered": 2,  # "Prediction 3:", or a numbered item in a predictions section
    "section": 2,  # under a heading about predictions, forecasts or the outlook
    "table": 4,  # a row of a table of projected figures
    "hedge": 1,  # a word of likelihood: likely, probably, most likely, almost certainly...
    "named": 1,  # the claim is about someone named: "Anthropic will", "the EU will likely"
    "future-year": 1,  # no horizon wording, but a year after publication: "its 2026 launch window"
    "figure": 1,  # a measurable figure: $2.5B, 40%, 5GW, trillions of dollars
    "event": 1,  # a checkable event right after the future cue: launch, announce, release...
    # penalties
    "question": -3,  # a question is not a claim
    "conditional": -2,  # "If ..., it would", "When ..."
    "relative": -1,  # the only "will" is in a relative clause: "the infrastructure that will power"
    "meta": -2,  # about a question, not an outcome: "the test will be whether", "is what will reshape"
}
FUTURE_CUES = ("predict", "stated", "expected", "plan", "will", "should", "may")

_I = re.IGNORECASE
_CUE_PATTERNS = {
    "predict": re.compile(
        r"\b(?:we|i|analysts?|experts?|economists?)\s+(?:also\s+|now\s+|still\s+)?(?:predict|forecast|expect|foresee|"
        r"anticipate|project|bet)s?\b|\b(?:our|my)\s+(?:prediction|forecast|bet|expectation|projection)s?\b|"
        r"\bpredicts?\s+that\b|^\W*(?:prediction|forecast)\s*#?\d+\s*[:.]", _I),
    "expected": re.compile(
        r"\b(?:expected|projected|forecast(?:ed)?|estimated|predicted|set|poised|slated|scheduled|likely|"
        r"unlikely|on\s+track|on\s+course|bound)\s+to\b|\bexpects?\b", _I),
    "plan": re.compile(
        r"\b(?:plans?|planning|planned|intends?|intending|commit(?:s|ted|ting)?|pledg(?:e|es|ed|ing)|"
        r"promis(?:e|es|ed|ing)|vow(?:s|ed)?)\s+to\b", _I),
    "will": re.compile(r"\b(?:will|shall)\b|\bwon['’]t\b|\b(?:is|are|am)\s+going\s+to\b|\w['’]ll\b", _I),
    "should": re.compile(r"\bshould\b", _I),
    "may": re.compile(r"\b(?:may|might|could)\b", _I),
    "figure": re.compile(
        r"[$€£¥]\s?\d|\b\d[\d,.]*\s?(?:%|percent\b|billion\b|million\b|trillion\b|bn\b|GW\b|MW\b|x\b)|"
        r"\b(?:billions|trillions|millions)\s+of\b", _I),
    "stated": re.compile(
        r"\b(\d{1,3}(?:\.\d+)?)\s*(?:%|percent\b|per\s+cent\b)\s+(?:chance|probability|likelihood|likely|odds|"
        r"certain|confident|confidence)\b|\b(?:chance|probability|likelihood|odds)\b(?:[^.%]{0,80}?\b(?:at|is|of|are))?\s*"
        r"(?:about\s+|around\s+|roughly\s+|approximately\s+|nearly\s+|some\s+)?(\d{1,3}(?:\.\d+)?)\s*"
        r"(?:%|percent\b|per\s+cent\b)|\b(\d{1,2})\s*(?:in|out\s+of)\s*(\d{1,3})\s+chance\b", _I),
}
_ANY_FUTURE = re.compile("|".join(f"(?:{_CUE_PATTERNS[name].pattern})" for name in FUTURE_CUES), _I)  # a quick first look
_NOT_WILL = re.compile(r"(?:the|free|political|good|ill|own|his|her|their|its|a|of|your|my)\s+$", _I)
_NORMATIVE = re.compile(r"\b(?:we|you|i|they|one|everyone|regulators|governments|companies|investors|readers)\s+$", _I)
_NOUN_WILL_NEXT = re.compile(r"\s*(?:of|to|is|was|has|had|and|that|for|in|[.,;:!?]|$)", _I)
_NOT_EXPECT = re.compile(r"(?:than|as|un)\s*$", _I)
_RELATIVE = re.compile(r"\b(?:that|which|who)\s+(?:\w+\s+)?will\b", _I)
_EVENT = re.compile(
    r"\b(?:will|to)\s+(?:\w+\s+)?(?:launch|announce|release|unveil|introduce|ship|open|raise|sign|acquire|"
    r"file|list|reach|hit|exceed|surpass|overtake|double|triple|mandate|ban|approve|end|close|win|lose)\b", _I)
_CONDITIONAL = re.compile(r"^\W*(?:if|when|unless|once|whether|until|should\s+\w+\s+\w+,)\b", _I)
_MONTH_MAY = re.compile(r"\bMay\s+\d|\d\s+May\b")

_NUMBER = r"(?:\d+(?:\.\d+)?|[a-z]+(?:-[a-z]+)?)"
_MONTHS = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
           r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")
_HORIZON = re.compile(
    # spans: "within 18 months", "over the next ten years", "in the next 18-24 months"
    rf"\b(?:within|in|over|during|inside)\s+(?:the\s+)?(?:next\s+|coming\s+|following\s+)?{_NUMBER}"
    rf"(?:\s*(?:-|–|to|or)\s*{_NUMBER})?\s+(?:day|week|month|year|decade)s?\b"
    # "within the next year", "over the coming decade"
    r"|\b(?:within|in|over|during)\s+(?:the\s+)?(?:next|coming)\s+(?:week|month|year|decade)\b"
    # points: "by 2027", "by the end of 2025", "in the first half of 2026", "before Q3 2026", "by year-end 2025"
    r"|\b(?:by|before|in|during|through|until|till|no\s+later\s+than)\s+(?:the\s+)?(?:(?:very\s+)?end\s+of\s+"
    r"(?:the\s+)?|end-|close\s+of\s+(?:the\s+)?|year[- ]end\s+(?:of\s+)?|mid-?|middle\s+of\s+|late\s+|early\s+|"
    r"(?:first|second|third|fourth|last|final)\s+(?:half|quarter)\s+of\s+(?:the\s+)?)?"
    rf"(?:q[1-4]\s*|h[12]\s*|{_MONTHS}\s+)?(?:fy\s*)?(?:19|20)\d\d\b"
    # "before the end of the year", "by next year", "by year-end"
    r"|\b(?:by|before|until)\s+(?:the\s+)?(?:end\s+of\s+(?:the\s+|this\s+|next\s+)?|next\s+)?(?:year|decade)(?:[- ]end)?\b"
    # "in the second half of the year", "during the last quarter of this year"
    r"|\b(?:in|during|by)\s+the\s+(?:first|second|third|fourth|last|final)\s+(?:half|quarter)\s+of\s+(?:the|this)\s+year\b",
    _I)
_HORIZON_REWRITES = (  # wordings parse_deadline may not take, in the forms it does
    (re.compile(r"\byear[- ]end\s+(?:of\s+)?((?:19|20)\d\d)\b", _I), r"the end of \1"),
    (re.compile(r"\bend-((?:19|20)\d\d)\b", _I), r"the end of \1"),
    (re.compile(r"\b(next|coming)\s+(week|month|year|decade)\b", _I), r"1 \2"),
)
_THIS_YEAR = re.compile(r"\b((?:half|quarter)\s+of)\s+(?:the|this)\s+year\b", _I)  # "the second half of the year"
_SCALE_WORDS = sorted(HEDGE_SCALE, key=len, reverse=True)
_HEDGE = re.compile(
    r"\b(" + "|".join(re.escape(p).replace(r"\ ", r"[\s-]+").replace("'", "['’]") for p in _SCALE_WORDS) + r")\b"
    r"|\b(commit(?:s|ting)?\s+to|plan(?:ning)?\s+to|expects)\b", _I)
_INFLECTIONS = {"commit to": "committed to", "commits to": "committed to", "committing to": "committed to",
                "plan to": "plans to", "planning to": "plans to", "expects": "expect"}  # fmt: skip
_FUTURE_VERB_HEDGES = {"will", "may", "might", "could", "should", "shall"}

_NUMBERED_PREDICTION = re.compile(r"\W*(?:prediction|forecast)\s*#?\d+\s*[:.]", _I)  # used with .match()
_LIKELIHOOD = re.compile(r"likel|probab|certain|chance|doubt|possib|toss|definitely|believe", _I)
_META = re.compile(r"\bwill\s+(?:be|reveal|show|determine|decide|tell|depend\s+on)\s+(?:whether|how|if|what|who)\b|"
                   r"\bis\s+what\s+will\b|\bthat\s+will\s+be\s+the\b", _I)
_COMMON_STARTS = {"the", "this", "that", "these", "those", "it", "its", "they", "we", "our", "a", "an", "in", "on",
                  "but", "and", "however", "so", "if", "when", "as", "there", "such", "some", "many", "most", "for",
                  "by", "with", "within", "at", "to", "from", "what", "which", "who", "while", "although", "yet",
                  "i", "you", "he", "she", "his", "her", "their", "my", "your", "one", "each", "every", "all",
                  "no", "not", "even", "only", "data", "finally", "meanwhile", "still", "now", "then", "until",
                  "after", "before", "since", "because", "once", "over", "under", "prediction", "forecast"}
_WORD = re.compile(r"[A-Za-z][\w'’&.-]*")
_TABLE_SEPARATOR = re.compile(r"\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?")
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d\d)(?!\d)")
_PROJECTED_HEADER = re.compile(r"\b(?:projected|projections?|forecasts?|estimated?|est\.|expected|targets?|"
                               r"outlook|plan(?:ned)?)\b|(?<!\d)(?:19|20)\d\d\s*[EF]\b", _I)
_PROJECTION = re.compile(r"\b(?:projected|projections?|forecasts?)\b", _I)


@attrs.frozen(kw_only=True)
class Candidate:
    """One statement about the future found in an article, with where it is and why it was taken."""

    quote: str
    start: int
    end: int
    deadline_text: str | None = None
    deadline: dt.date | None = None
    deadline_error: str | None = None
    phrase: str | None = None
    probability: float | None = None
    probability_basis: str | None = None
    cues: tuple[str, ...]
    score: int

    def to_json(self) -> dict:
        record = attrs.asdict(self, recurse=False)
        record["cues"] = list(self.cues)
        record["deadline"] = self.deadline.isoformat() if self.deadline else None
        return record


@attrs.frozen(kw_only=True)
class Draft:
    """The candidates of one article, best first, with what the article says about itself."""

    article: Article
    source: str | None
    published: dt.date
    url: str | None
    candidates: tuple[Candidate, ...]

    @property
    def text(self) -> str:
        """The text that every candidate's start and end count into."""
        return self.article.text

    def to_json(self) -> list[dict]:
        return [candidate.to_json() for candidate in self.candidates]

    def to_toml(self, *, recorded_at: str | None = None) -> str:
        """A draft seed file (docs/seeds.md) that `predictions seed` refuses until it is written."""
        return draft_toml(self, recorded_at=recorded_at)


def extract_forecasts(
    text_or_path: str | Path | BinaryIO,
    *,
    source: str | None = None,
    published: dt.date | str | None = None,
    url: str | None = None,
    kind: str | None = None,
    min_score: int = MIN_SCORE,
) -> Draft:
    """Candidate forecasts in an article, best first: a Path or a binary stream (standard input) is
    read, with the same limits; a str is the text itself.

    `published` (else the date the document gives) is the day every deadline counts from; without
    one the article is refused. `kind` is "text", "markdown" or "html" (default: from the file).
    """
    for name, value in (("source", source), ("url", url)):
        if value is not None and (not isinstance(value, str) or not value.strip() or len(value) > 300
                                  or not value.isprintable()):
            raise ValidationError(name, "must be one line of printable text, at most 300 characters")
    article = read_article(text_or_path, kind=kind)
    where = str(text_or_path) if isinstance(text_or_path, Path) else "<text>" if isinstance(text_or_path, str) else "<stdin>"
    if published is not None:
        published = parse_date(published, "published")
    elif article.published is not None:
        published = article.published
    else:
        month = month_only_date(article)
        hint = f" (it gives only a month: {month!r})" if month else ""
        raise ValidationError(
            "published", f"the article has no publication date{hint}: give one (--published YYYY-MM-DD); "
            "every deadline counts from it", where)
    candidates = _sentence_candidates(article, published, min_score) + _table_candidates(article, published)
    chosen = sorted((c for c in _deduplicated(candidates) if c.score >= min_score), key=lambda c: (-c.score, c.start))
    return Draft(article=article, source=source or article.author or article.outlet, published=published,
                 url=url or article.url, candidates=tuple(chosen))


# --- sentences -----------------------------------------------------------------------------------


def _sentence_candidates(article: Article, published: dt.date, min_score: int) -> list[Candidate]:
    text = article.text
    found = []
    seen: set[str] = set()  # a sentence said twice (a summary list) is read once, where it first appears
    for block_start, block_end, kind, in_section in blocks(article):
        if kind not in ("prose", "item"):
            continue
        numbered_item = kind == "item" and text[block_start:block_start + 4].lstrip()[:1].isdigit()
        spans = list(sentences(text, block_start, block_end))
        index = 0
        while index < len(spans):
            start, end = spans[index]
            if _NUMBERED_PREDICTION.match(text, start, end) and index + 1 < len(spans) and (
                    text.count(" ", start, end) < 20):
                end = spans[index + 1][1]  # "Prediction 2: A title." is read with the sentence after it
                index += 1
            index += 1
            if end - start > MAX_SENTENCE:
                continue
            key = " ".join(text[start:end].lower().split())
            if key in seen or not (_ANY_FUTURE.search(text, start, end) or _NUMBERED_PREDICTION.match(text, start, end)):
                seen.add(key)
                continue
            seen.add(key)
            numbered = numbered_item and in_section and start == spans[0][0]
            for clause_start, clause_end in _clauses(text[start:end], published):
                candidate = _candidate(text[start + clause_start:start + clause_end], start + clause_start,
                                       published, in_section, numbered)
                if candidate is not None and candidate.score >= min_score:
                    found.append(candidate)
    return found


_CLAUSE_BREAK = re.compile(r",\s+(?:and|but|while|whereas)\s+|;\s+")


def _clauses(sentence: str, published: dt.date) -> list[tuple[int, int]]:
    """The sentence, or its clauses when each gives its own deadline ("X will ... in 2026, and Y is
    expected to ... before the end of the year"): two claims, two candidates."""
    dated = []
    for match in _HORIZON.finditer(sentence):
        if _parsed(match.group(), published) is not None:
            dated.append(match)
    if len(dated) < 2 or len({_parsed(m.group(), published) for m in dated}) < 2:
        return [(0, len(sentence))]
    cuts = []
    for before, after in zip(dated, dated[1:]):
        breaks = list(_CLAUSE_BREAK.finditer(sentence, before.end(), after.start()))
        if not breaks:
            return [(0, len(sentence))]
        cuts.append(breaks[-1])
    bounds, start = [], 0
    for cut in cuts:
        bounds.append((start, cut.start()))
        start = cut.end()
    bounds.append((start, len(sentence)))
    if not all(any(_fires(name, sentence[a:b]) for name in FUTURE_CUES if name != "stated") for a, b in bounds):
        return [(0, len(sentence))]
    return bounds


def _candidate(sentence: str, start: int, published: dt.date, in_section: bool, numbered: bool) -> Candidate | None:
    stated = _stated(sentence)
    future = [name for name in FUTURE_CUES if (stated is not None if name == "stated" else _fires(name, sentence))]
    if not future:
        return None
    cues = list(future)
    score = max(CUES[name] for name in future)
    if len(future) > 1:
        cues.append("more-future")
    deadline_text, deadline, error = _horizon(sentence, published)
    if deadline is not None:
        cues.append("horizon")
    elif deadline_text is not None:
        cues.append("past-horizon")
    elif any(int(year) >= published.year for year in _YEAR.findall(sentence)):
        cues.append("future-year")
    if numbered or _NUMBERED_PREDICTION.match(sentence):
        cues.append("numbered")
    if in_section:
        cues.append("section")
    if any(_LIKELIHOOD.search(m.group()) for m in _HEDGE.finditer(sentence)):
        cues.append("hedge")
    if _named(sentence):
        cues.append("named")
    for name, pattern in (("figure", _CUE_PATTERNS["figure"]), ("event", _EVENT), ("conditional", _CONDITIONAL),
                          ("meta", _META)):
        if pattern.search(sentence) if name != "conditional" else pattern.match(sentence):
            cues.append(name)
    if sentence.rstrip("\"'”’)*_ ").endswith("?"):
        cues.append("question")
    if "will" in future and not set(future) & {"predict", "expected", "plan"} and _only_relative_will(sentence):
        cues.append("relative")
    score += sum(CUES[c] for c in cues if c not in future)
    phrase = None if stated is not None else _hedge(sentence)
    probability, basis = (stated, "stated") if stated is not None else (
        (probability_from_phrase(phrase), "verbal") if phrase else (None, None))
    return Candidate(
        quote=sentence, start=start, end=start + len(sentence), cues=tuple(cues), score=score,
        deadline_text=deadline_text, deadline=deadline, deadline_error=error,
        phrase=phrase, probability=probability, probability_basis=basis,
    )


def _named(sentence: str) -> bool:
    """Whether the words before the first future cue name someone: a capitalised word that is not
    just the sentence's first word (unless that word is a name itself: "Anthropic will")."""
    first_cue = min((m.start() for name in ("will", "expected", "plan", "should", "may")
                     for m in [_CUE_PATTERNS[name].search(sentence)] if m), default=len(sentence))
    words = _WORD.findall(sentence[:first_cue])
    if not words:
        return False
    if words[0].lower().rstrip(",.") not in _COMMON_STARTS and words[0][0].isupper():
        return True
    return any(word[0].isupper() and word.lower() not in _COMMON_STARTS for word in words[1:])


def _fires(name: str, sentence: str) -> bool:
    for match in _CUE_PATTERNS[name].finditer(sentence):
        before = sentence[max(0, match.start() - 12):match.start()]
        if name == "will" and match.group().lower() == "will" and _NOT_WILL.search(before) and (
                _NOUN_WILL_NEXT.match(sentence, match.end())):
            continue  # the noun: "the will of the board", "political will"
        if name == "should" and _NORMATIVE.search(before):
            continue  # advice, not a forecast: "we should worry", "regulators should act"
        if name == "expected" and _NOT_EXPECT.search(before):
            continue  # "faster than expected"
        if name == "may" and match.group() == "May" and _MONTH_MAY.search(
                sentence[max(0, match.start() - 3):match.end() + 3]):
            continue  # the month
        return True
    return False


def _only_relative_will(sentence: str) -> bool:
    wills = len(re.findall(r"\bwill\b", sentence, _I))
    return wills > 0 and len(_RELATIVE.findall(sentence)) == wills


def _stated(sentence: str) -> float | None:
    match = _CUE_PATTERNS["stated"].search(sentence)
    if not match:
        return None
    if match[3]:
        chances, out_of = int(match[3]), int(match[4])
        value = chances / out_of if out_of else 2.0
    else:
        value = float(match[1] or match[2]) / 100
    return value if 0 <= value <= 1 else None


def _parsed(wording: str, published: dt.date) -> dt.date | None:
    try:
        return parse_deadline(_normalised(wording, published), published)
    except DeadlineError:
        return None


def _normalised(wording: str, published: dt.date) -> str:
    for pattern, replacement in _HORIZON_REWRITES:
        wording = pattern.sub(replacement, wording)
    return _THIS_YEAR.sub(lambda m: f"{m[1]} {published.year}", wording)


def _horizon(sentence: str, published: dt.date) -> tuple[str | None, dt.date | None, str | None]:
    first = None
    for match in _HORIZON.finditer(sentence):
        wording = match.group()
        try:
            return wording, parse_deadline(_normalised(wording, published), published), None
        except DeadlineError as exc:
            if first is None:
                first = (wording, None, str(exc))
    return first or (None, None, None)


def _hedge(sentence: str) -> str | None:
    """The first hedge on the scale, as the scale spells it; a word of likelihood right after a
    future verb is the hedge ("will probably" is "probably", "will almost certainly" is "almost certainly")."""
    matches = list(_HEDGE.finditer(sentence))
    for index, match in enumerate(matches):
        words = " ".join(match.group().lower().replace("’", "'").replace("-", " ").split())
        if words == "may" and _MONTH_MAY.search(sentence, max(0, match.start() - 3), match.end() + 3):
            continue
        following = matches[index + 1] if index + 1 < len(matches) else None
        if words in _FUTURE_VERB_HEDGES and following and _LIKELIHOOD.search(following.group()) and (
                not sentence[match.end():following.start()].strip()):
            words = " ".join(following.group().lower().split())
        return _INFLECTIONS.get(words, words)
    return None


# --- tables --------------------------------------------------------------------------------------


def _table_candidates(article: Article, published: dt.date) -> list[Candidate]:
    """Rows of tables of projected figures: a column headed "Projected" (or "2027E"), or rows by year."""
    found: list[Candidate] = []
    table: list[tuple[int, int]] = []
    for start, end, kind, _ in blocks(article):
        if kind == "table":
            table.append((start, end))
            continue
        if table:
            found.extend(_table_rows(article.text, table, published))
            table = []
    if table:
        found.extend(_table_rows(article.text, table, published))
    return found


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _table_rows(text: str, lines: list[tuple[int, int]], published: dt.date) -> list[Candidate]:
    if len(lines) < 2:
        return []
    if lines[0][1] - lines[0][0] > MAX_SENTENCE:
        return []
    header = _cells(text[lines[0][0]:lines[0][1]])
    rows = [(s, e) for s, e in lines[1:] if e - s <= MAX_SENTENCE and not _TABLE_SEPARATOR.fullmatch(text[s:e].strip())]
    if not rows or len(rows) > 200:  # not a table of figures a forecast is made of
        return []

    def open_year(cell: str) -> int | None:
        year = _YEAR.search(cell)
        return int(year[1]) if year and int(year[1]) >= published.year - 1 else None

    reaches_future = any(y and int(y[1]) >= published.year for y in map(_YEAR.search, header))
    # a projected column: "2025 (Projected)", "2027E", a future year, or "Projected revenue" without a year
    marked = [i for i, cell in enumerate(header) if i and (
        (open_year(cell) and _PROJECTED_HEADER.search(cell)) or _PROJECTION.search(cell))]
    future = [i for i, cell in enumerate(header) if i and reaches_future and _YEAR.fullmatch(cell)
              and int(cell) >= published.year]
    projected = marked or future
    found = []
    if projected:  # one series a row; the projected column's header is the horizon
        column = projected[0]
        for start, end in rows:
            cells = _cells(text[start:end])
            if len(cells) > column and cells[column] and cells[0]:
                found.append(_row_candidate(text, start, end, header[column], published,
                                            bool(_PROJECTED_HEADER.search(header[column]))))
        return found
    first_column = [_cells(text[s:e])[0] for s, e in rows]
    years = [int(c) for c in first_column if re.fullmatch(r"(?:19|20)\d\d", c)]
    if len(years) < 2 or max(years) < published.year:
        return []
    for (start, end), cell in zip(rows, first_column):  # one year a row: quoted from the header on
        if re.fullmatch(r"(?:19|20)\d\d", cell) and int(cell) >= published.year - 1:
            # (a very long table: the row alone, so that no quote holds pages of it)
            first = lines[0][0] if end - lines[0][0] <= 4 * MAX_SENTENCE else start
            found.append(_row_candidate(text, first, end, cell, published, False))
    return found


def _row_candidate(text: str, start: int, end: int, horizon: str, published: dt.date, marked: bool) -> Candidate:
    start, end = next(trimmed(text, start, end))
    year = _YEAR.search(horizon)
    deadline, error = None, None
    try:
        deadline = parse_deadline(year[1] if year else horizon, published)
    except DeadlineError as exc:
        error = str(exc)
    cues = ["table", "expected"] + (["horizon"] if deadline else ["past-horizon"])
    return Candidate(
        quote=text[start:end], start=start, end=end, cues=tuple(cues),
        score=sum(CUES[c] for c in cues) + (1 if marked else 0), deadline_text=horizon, deadline=deadline,
        deadline_error=error, phrase="projected", probability=probability_from_phrase("projected"),
        probability_basis="verbal",
    )


def _deduplicated(candidates: list[Candidate]) -> list[Candidate]:
    """A sentence repeated in the article (a summary list) is one candidate: its first place."""
    seen: set[str] = set()
    kept = []
    for candidate in sorted(candidates, key=lambda c: c.start):
        key = " ".join(candidate.quote.lower().split())
        if key not in seen:
            seen.add(key)
            kept.append(candidate)
    return kept
