"""A platform batch as the project's own import records (one per forecast, sharing question_id).

The ledger ids are derived from the platform identity, `PLATFORM-` and 16 hex digits of a hash
of the platform, the question's key and (for a forecast) the forecast's key, so the same platform
question or forecast gets the same id in every import.
"""

from __future__ import annotations

import hashlib
from typing import Any, Iterable, Iterator

from ..errors import ValidationError
from .common import PlatformQuestion

NAMES = {"fatebook": "Fatebook", "predictionbook": "PredictionBook", "metaculus": "Metaculus", "manifold": "Manifold"}


# The file's own name for each ledger field the ledger's rules check on a platform record (its
# dates): a refusal names both, "field deadline (Question resolve by): ...".
_FIELDS = {
    "fatebook": {"made_on": "Forecast created at", "deadline": "Question resolve by", "resolved_on": "Resolved at"},
    "predictionbook": {"made_on": "responses[].created_at", "resolved_on": "last_judgement_at"},
    "metaculus": {"made_on": "Start Time", "deadline": "Scheduled Close Time", "resolved_on": "Resolution Known Time"},
    "metaculus-api": {"made_on": "start_time", "deadline": "scheduled_close_time", "resolved_on": "actual_resolve_time"},
    "manifold": {"made_on": "createdTime", "deadline": "closeTime", "resolved_on": "resolutionTime"},
}


def in_file_terms(platform: str, exc: ValidationError) -> ValidationError:
    """A refusal by the ledger's rules of a record `to_records` made, naming the file's field too."""
    shape = "metaculus-api" if platform == "metaculus" and ".zip!" not in (exc.where or "") else platform
    column = _FIELDS.get(shape, {}).get(exc.field or "")
    return exc if column is None else ValidationError(f"{exc.field} ({column})", exc.message, exc.where)


def from_platform(platform: str, evidence: str) -> bool:
    """Whether a resolution's evidence is one this platform's import writes ("Resolved NO on
    Fatebook at ...", "Judged right on PredictionBook ...", "Withdrawn on PredictionBook ..."):
    a resolution recorded by hand is not the platform's to correct."""
    return evidence.startswith(("Resolved ", "Judged ", "Withdrawn ")) and f" on {NAMES[platform]}" in evidence


def ledger_id(platform: str, *keys: str) -> str:
    digest = hashlib.sha256("\n".join((platform, *keys)).encode("utf-8")).hexdigest()[:16]
    return f"{platform}-{digest}"


def to_records(questions: Iterable[PlatformQuestion]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, record) for each forecast; a question's outcome rides on its first record (that of
    its first yield: one `again` rides on no resolution)."""
    for question in questions:
        qid = ledger_id(question.platform, question.key)
        first = bool(question.outcome) and not question.again
        for forecast in question.forecasts:
            record: dict[str, Any] = {
                "id": ledger_id(question.platform, question.key, forecast.key), "question_id": qid,
                "source": forecast.source, "claim": question.title, "question": question.title,
                "resolution_criteria": question.criteria, "made_on": forecast.made_at.date().isoformat(),
                "deadline": question.deadline.isoformat(), "probability": forecast.probability,
                "probability_basis": forecast.basis, "tags": list(question.tags), "note": forecast.comment,
                "document": {"outlet": NAMES[question.platform], "url": question.url},
            }
            if first:
                record.update(_resolution(question))
                first = False
            yield forecast.where, record


def _resolution(question: PlatformQuestion) -> dict[str, Any]:
    on, evidence, early = question.resolved_on, question.evidence, None
    name = NAMES[question.platform]
    if question.outcome == "yes" and on > question.deadline:
        # the ledger dates a YES by its deadline: it came true by then, and was recorded later
        evidence = f"{evidence} The ledger dates it on the deadline, {question.deadline}."
        on = question.deadline
    if question.outcome == "no" and on < question.deadline:
        early = f"resolved NO on {name} on {on}, before the deadline"
    return {"outcome": question.outcome, "resolved_on": on.isoformat(), "evidence": evidence, "early_reason": early}
