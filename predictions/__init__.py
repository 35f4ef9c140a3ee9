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

import sys

# Every public name and the module it lives in. Nothing is imported until a name is first used
# (PEP 562), so a command pays only for the modules it needs: `predictions list` never loads
# the report, extract or scoring code. `from predictions import X` and `import *` work as before.
_PUBLIC = {
    "aggregate": ("SCORE_BY", "Excluded", "GroupScore", "ScoreTable"),
    "chain": ("Problem", "Verification"),
    "deadlines": ("DeadlineError", "parse_deadline"),
    "escape": ("escape_html", "escape_json", "escape_markdown", "escape_markdown_code", "escape_terminal",
               "escape_terminal_lines"),
    "errors": ("AmbiguousIdError", "LedgerError", "NotALedgerError", "NotFoundError", "OlderSchemaError",
               "ValidationError", "VerificationError"),
    "extract": ("Candidate", "Draft", "extract_forecasts"),
    "files": ("OutputError", "check_output_path", "output_format", "write_output"),
    "hedges": ("HEDGE_SCALE", "UnknownPhraseError", "canonical_phrase", "probability_from_phrase"),
    "importing": ("ImportDifference", "ImportSummary"),
    "io": ("format_of", "read_records", "write_records"),
    "model": ("OUTCOMES", "PROBABILITY_BASES", "SOURCE_KINDS", "Document", "Forecast", "Question", "Resolution",
              "parse_date"),
    "report": ("PERIOD_KINDS", "ForecastLine", "Listing", "Movement", "Period", "Report"),
    "report_history": ("Change", "ChangesSince", "Trend", "TrendPoint", "TrendSeries"),
    "scoring": ("CalibrationBin", "Scores"),
    "seeds": ("read_seeds", "rebuild_ledger"),
    "sqlite_file": ("shown_path",),
    "store": ("STATUSES", "Head", "Ledger", "TrackedForecast", "TrackedQuestion"),
    "textwidth": ("clip", "count_text", "display_width", "log_stamp", "p_value_text", "pad", "plural", "probability_text",
                  "wrap"),
}  # fmt: skip
# Public names that differ from the module's own: {public name: (module, name there)}.
_RENAMED = {
    "EXPORT_EXTENSIONS": ("io", "EXTENSIONS"),
    "EXPORT_FORMATS": ("io", "FORMATS"),
    "IMPORT_PLATFORMS": ("importing", "PLATFORMS"),
    "REPORT_EXTENSIONS": ("report_formats", "EXTENSIONS"),
    "REPORT_FORMATS": ("report_formats", "FORMATS"),
}
_WHERE = {name: (module, name) for module, names in _PUBLIC.items() for name in names} | _RENAMED

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    try:
        module, attribute = _WHERE[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    __import__(f"{__name__}.{module}")  # not importlib.import_module: `python -X importtime` sees this
    value = getattr(sys.modules[f"{__name__}.{module}"], attribute)
    globals()[name] = value  # found directly from now on
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
