"""Shared fixtures. No test touches a real user file: PREDICTIONS_DB points into tmp_path."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from hypothesis import settings

from predictions import Ledger

# Property tests explore new examples on every local run; CI replays a fixed sequence so that a
# submission's result does not depend on luck (a failure found locally is kept in .hypothesis/).
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

TODAY = dt.date(2026, 11, 22)


@pytest.fixture(autouse=True)
def _isolated_ledger_env(tmp_path, monkeypatch):
    monkeypatch.setenv("PREDICTIONS_DB", str(tmp_path / "env-ledger.db"))
    monkeypatch.delenv("PREDICTIONS_USER", raising=False)
    monkeypatch.delenv("PREDICTIONS_DEBUG", raising=False)


class Clock:
    """The time the ledger stamps on what it records, a microsecond later at each stamp."""

    def __init__(self, day: dt.date):
        self.on(day)

    def on(self, day: dt.date | str, hour: int = 9) -> None:
        """Record from `hour` o'clock UTC on `day` on."""
        day = dt.date.fromisoformat(str(day))
        self.now = dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.timezone.utc)

    def __call__(self) -> str:
        self.now += dt.timedelta(microseconds=1)
        return self.now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@pytest.fixture
def recorded_on_today(monkeypatch):
    """Stamp what the test records on TODAY (from 09:00 UTC; `.on(day)` moves the clock) instead of
    the real time. A report as of a past day reads only what was recorded by its end (the rule "as
    recorded by that day", docs/reports.md), so a test that records now and reports as of TODAY,
    already past, needs the two to agree. Subprocesses keep the real clock."""
    clock = Clock(TODAY)
    monkeypatch.setattr("predictions.store.utc_now", clock)
    return clock


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "ledger.db"


@pytest.fixture
def ledger(db_path):
    with Ledger(db_path) as opened:
        yield opened


def forecast_fields(**overrides):
    """Keyword arguments for Ledger.add describing a valid forecast; override any of them."""
    fields = {
        "source": "Example Outlet",
        "claim": "Widget sales double",
        "resolution_criteria": "YES if reported widget sales for 2026 are at least twice 2025's.",
        "made_on": dt.date(2026, 1, 15),
        "deadline": dt.date(2026, 12, 31),
        "probability": 0.7,
    }
    fields.update(overrides)
    return fields


@pytest.fixture
def add(ledger):
    """Add a forecast to the fixture ledger: add(probability=0.2, ...) -> Forecast."""
    return lambda **overrides: ledger.add(**forecast_fields(**overrides))


def empty_ledger(path) -> None:
    """Make an empty ledger file at `path` (a Ledger on a new path creates its file when first used)."""
    with Ledger(path) as ledger:
        ledger.conn


@pytest.fixture
def without_matplotlib(monkeypatch):
    """An interpreter where the plot extra is not installed: importing matplotlib fails."""
    import builtins

    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError("No module named 'matplotlib'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
