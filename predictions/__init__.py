"""predictions: a tamper-evident ledger of forecasts, scored with Brier scores.

    from predictions import Ledger
    with Ledger("ledger.db") as ledger:
        forecast = ledger.add(source=..., claim=..., resolution_criteria=..., made_on=...,
                              deadline=..., probability=...)
        ledger.resolve(forecast.id, "yes", on=..., evidence=...)
"""

from .deadlines import DeadlineError, parse_deadline
from .errors import (
    AmbiguousIdError,
    LedgerError,
    NotALedgerError,
    NotFoundError,
    ValidationError,
)
from .hedges import HEDGE_SCALE, UnknownPhraseError, probability_from_phrase
from .model import Document, Forecast, Resolution
from .store import Ledger, TrackedForecast

__all__ = [
    "AmbiguousIdError",
    "DeadlineError",
    "Document",
    "Forecast",
    "HEDGE_SCALE",
    "Ledger",
    "LedgerError",
    "NotALedgerError",
    "NotFoundError",
    "Resolution",
    "TrackedForecast",
    "UnknownPhraseError",
    "ValidationError",
    "parse_deadline",
    "probability_from_phrase",
]
