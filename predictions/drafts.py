"""A Draft as a seed file (docs/seeds.md), one [[forecasts]] table per candidate, best first.

The question and the resolution criteria hold DRAFT_MARKER, which `predictions seed` refuses:
a draft cannot be seeded before someone has read each candidate and written those two fields.
The claim starts as the quote's words; the cues, score and any deadline trouble are comments.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING

from .errors import ValidationError
from .model import check_timestamp
from .seeds import DRAFT_MARKER

if TYPE_CHECKING:
    from .extract import Candidate, Draft

QUESTION = f"{DRAFT_MARKER} the claim as a yes/no question a stranger could settle by the deadline"
CRITERIA = f"{DRAFT_MARKER} what makes it YES, what makes it NO, and which published evidence settles it"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_STOP = {"the", "a", "an", "of", "to", "in", "on", "by", "for", "and", "or", "will", "be", "is", "are", "that",
         "with", "as", "at", "its", "it", "we", "our", "prediction", "within", "from", "this", "which"}  # fmt: skip


def toml_string(value: str) -> str:
    """A TOML string holding exactly `value`: a '''literal''' when it can be, else an escaped "basic"."""
    if "\n" not in value and "'''" not in value and not value.startswith("'") and not value.endswith("'") and (
            not _CONTROL.search(value) and "\r" not in value and "\t" not in value):
        return f"'''{value}'''"
    return _basic(value)


def _basic(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    escaped = _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", escaped.replace("\n", "\\n").replace(
        "\t", "\\t").replace("\r", "\\r"))
    return f'"{escaped}"'


def _comment(value: str) -> str:
    return " ".join(_CONTROL.sub(" ", value).split())


def claim_of(quote: str) -> str:
    """The quote's words as a first claim: one line, without list numbers, labels or markup."""
    claim = " ".join(quote.replace("**", "").replace("__", "").split())
    claim = re.sub(r"^(?:\d{1,3}[.)]\s+|(?:our\s+)?(?:prediction|forecast)s?\s*#?\d*\s*:\s*)", "", claim, flags=re.I)
    return claim or quote.strip()


def draft_id(rank: int, candidate: "Candidate") -> str:
    """aNN- and a few words of the quote: a valid seed id, to be renamed to the seeds' aNNN- form."""
    words = [w for w in re.findall(r"[a-z0-9]+", claim_of(candidate.quote).lower()) if w not in _STOP]
    prefix = f"a{rank:02d}"
    slug = ""
    for word in words[:4]:
        if len(prefix) + len(slug) + len(word) + 1 > 40:
            break
        slug += "-" + word
    return prefix + (slug or "-forecast")


def draft_toml(draft: "Draft", *, recorded_at: str | None = None) -> str:
    if not draft.candidates:
        raise ValidationError(None, "no candidate forecasts found: a seed file needs at least one")
    if not draft.source:
        raise ValidationError("source", "the article names no author or outlet: say who made these forecasts "
                              "(--source NAME)")
    if recorded_at is None:
        recorded_at = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    check_timestamp(recorded_at)
    article = draft.article
    lines = [
        "# A draft seed file written by `predictions extract` (docs/extract.md). Before `predictions seed`:",
        "# keep the candidates that are forecasts, write each question and resolution_criteria (seed refuses",
        f"# the {DRAFT_MARKER} marker), check the claim, deadline and phrase, rename ids to aNNN-few-words.",
        "",
        "[document]",
    ]
    for key, value in (("file", article.file), ("title", article.title), ("author", article.author),
                       ("outlet", article.outlet), ("url", draft.url), ("published_text", article.published_text)):
        if value:
            lines.append(f"{key} = {_basic(value)}")
    lines += [f"published_on = {draft.published.isoformat()}", f"recorded_at = {recorded_at}"]
    for rank, candidate in enumerate(draft.candidates, start=1):
        lines += ["", f"# {rank}. score {candidate.score}; cues: {', '.join(candidate.cues)}", "[[forecasts]]"]
        lines += _forecast_lines(draft, rank, candidate)
    return "\n".join(lines) + "\n"


def _forecast_lines(draft: "Draft", rank: int, candidate: "Candidate") -> list[str]:
    lines = [
        f"id = {_basic(draft_id(rank, candidate))}",
        f"source = {_basic(draft.source)}",
        f"claim = {toml_string(claim_of(candidate.quote))}",
        f"quote = {toml_string(candidate.quote)}",
        f"question = {_basic(QUESTION)}",
        f"resolution_criteria = {_basic(CRITERIA)}",
    ]
    if candidate.deadline_text:
        lines.append(f"deadline_text = {_basic(candidate.deadline_text)}")
    if candidate.deadline:
        lines.append(f"deadline = {candidate.deadline.isoformat()}")
    elif candidate.deadline_text:
        lines.append(f"# deadline: {_comment(candidate.deadline_error or 'not a date')}: give one with "
                     "deadline_assumed = true and a note")
    else:
        lines.append("# deadline: none in the sentence: give deadline, deadline_assumed = true and a note")
    if candidate.probability is not None:
        lines.append(f"probability = {candidate.probability!r}")
        lines.append(f"probability_basis = {_basic(candidate.probability_basis)}")
        if candidate.phrase:
            lines.append(f"phrase = {_basic(candidate.phrase)}")
    else:
        lines.append("# probability: no hedge on the scale and no stated chance: give phrase or probability")
    return lines
