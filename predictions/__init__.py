"""predictions: a tamper-evident ledger of forecasts, scored with Brier scores.

    from predictions import Ledger
    with Ledger("ledger.db") as ledger:
        forecast = ledger.add(source=..., claim=..., resolution_criteria=..., made_on=...,
                              deadline=..., probability=...)
        ledger.resolve(forecast.id, "yes", on=..., evidence=...)
        print(ledger.score(by="source").to_text())
        print(ledger.report("2026-10").render("md"))

Everything a command does is one public call on `Ledger` (docs/library.md); the names below are
the whole public API, and every type a public method takes or returns is among them.
"""

from .aggregate import GROUPINGS as _GROUPINGS
from .aggregate import Excluded, GroupScore, ScoreTable
from .chain import Problem, Verification
from .deadlines import DeadlineError, parse_deadline
from .escape import (
    escape_html,
    escape_json,
    escape_markdown,
    escape_markdown_code,
    escape_terminal,
    escape_terminal_lines,
)
from .errors import (
    AmbiguousIdError,
    LedgerError,
    NotALedgerError,
    NotFoundError,
    ValidationError,
    VerificationError,
)
from .extract import Candidate, Draft, extract_forecasts
from .files import OutputError, check_output_path, output_format, write_output
from .hedges import HEDGE_SCALE, UnknownPhraseError, probability_from_phrase
from .io import EXTENSIONS as EXPORT_EXTENSIONS
from .io import FORMATS as EXPORT_FORMATS
from .io import format_of, read_records, write_records
from .model import OUTCOMES, PROBABILITY_BASES, SOURCE_KINDS, Document, Forecast, Question, Resolution, parse_date
from .report import PERIOD_KINDS, ForecastLine, Listing, Movement, Period, Report
from .report_formats import EXTENSIONS as REPORT_EXTENSIONS
from .report_formats import FORMATS as REPORT_FORMATS
from .scoring import CalibrationBin, Scores
from .seeds import read_seeds, rebuild_ledger
from .sqlite_file import shown_path
from .store import STATUSES, Head, ImportSummary, Ledger, TrackedForecast, TrackedQuestion
from .textwidth import clip, display_width, p_value_text, pad, plural, probability_text, wrap

SCORE_BY = tuple(_GROUPINGS)  # what `Ledger.score(by=...)` groups by

__all__ = [
    "AmbiguousIdError",
    "CalibrationBin",
    "Candidate",
    "DeadlineError",
    "Document",
    "Draft",
    "EXPORT_EXTENSIONS",
    "EXPORT_FORMATS",
    "Excluded",
    "Forecast",
    "ForecastLine",
    "GroupScore",
    "HEDGE_SCALE",
    "Head",
    "ImportSummary",
    "Ledger",
    "LedgerError",
    "Listing",
    "Movement",
    "NotALedgerError",
    "NotFoundError",
    "OUTCOMES",
    "PERIOD_KINDS",
    "PROBABILITY_BASES",
    "Period",
    "Problem",
    "Question",
    "REPORT_EXTENSIONS",
    "REPORT_FORMATS",
    "Report",
    "OutputError",
    "Resolution",
    "SCORE_BY",
    "SOURCE_KINDS",
    "STATUSES",
    "ScoreTable",
    "Scores",
    "TrackedForecast",
    "TrackedQuestion",
    "UnknownPhraseError",
    "ValidationError",
    "Verification",
    "VerificationError",
    "check_output_path",
    "clip",
    "display_width",
    "escape_html",
    "escape_json",
    "escape_markdown",
    "escape_markdown_code",
    "escape_terminal",
    "escape_terminal_lines",
    "extract_forecasts",
    "format_of",
    "p_value_text",
    "pad",
    "output_format",
    "parse_date",
    "parse_deadline",
    "plural",
    "probability_from_phrase",
    "probability_text",
    "read_records",
    "read_seeds",
    "rebuild_ledger",
    "shown_path",
    "wrap",
    "write_records",
    "write_output",
]
