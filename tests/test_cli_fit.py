"""Output that fits: tables and legends fitted to a terminal (a real pty, through the installed
command), nothing cut in a pipe, and the wordings a newcomer reads first (plurals, p-values,
probabilities printed alike, no window named where none was given)."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from predictions import Ledger, p_value_text, plural, probability_text
from predictions.report_formats import SCORE_DROP_ORDER, score_command_text

from .conftest import TODAY, forecast_fields

SCRIPT = Path(sys.executable).with_name("predictions")
LONG_SOURCE = "The Very Long Name Of A Regional Broadcasting Corporation"  # 57 characters
LONG_CLAIM = "Brent crude closes above one hundred dollars a barrel on at least one trading day before the year is out"

needs_script = pytest.mark.skipif(not SCRIPT.exists(), reason="the predictions script is not installed beside python")


def cells(text: str) -> int:
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _env(**extra) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREDICTIONS_") and k not in ("COLUMNS", "LINES")}
    return {**env, **extra}


def piped(db: Path, *args, **env) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [str(SCRIPT), "--db", str(db), "--today", TODAY.isoformat(), *map(str, args)],
        capture_output=True, text=True, encoding="utf-8", env=_env(**env), stdin=subprocess.DEVNULL, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result


def on_a_terminal(db: Path, *args, columns: int = 80) -> str:
    """What the installed command prints to a real terminal `columns` wide (COLUMNS unset)."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    process = subprocess.Popen(
        [str(SCRIPT), "--db", str(db), "--today", TODAY.isoformat(), *map(str, args)],
        stdout=follower, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=_env(TERM="dumb"),
    )  # fmt: skip
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed: the command has finished
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert process.wait(timeout=60) == 0, process.stderr.read()
    return b"".join(chunks).decode("utf-8").replace("\r\n", "\n")


@pytest.fixture
def db(tmp_path) -> Path:
    """Two sources, one with a long name and a long claim, four forecasts resolved."""
    path = tmp_path / "ledger.db"
    with Ledger(path) as ledger:
        for i, (source, p, outcome) in enumerate([(LONG_SOURCE, 0.7, "yes"), (LONG_SOURCE, 0.3, "no"),
                                                  ("Short", 0.275, "yes"), ("Short", 0.9, "no")]):  # fmt: skip
            ledger.add(**forecast_fields(deadline="2026-10-05", source=source, probability=p, id=f"fit-{i}", claim=f"{LONG_CLAIM} ({i})"))
            ledger.resolve(f"fit-{i}", outcome, on="2026-10-05", evidence="e")
    return path


@needs_script
def test_score_fits_a_terminal_and_says_what_it_left_out(db):
    text = on_a_terminal(db, "score", columns=80)
    assert max(map(cells, text.splitlines())) <= 80
    note = next(line for line in text.splitlines() if line.endswith(" left out to fit 80 columns; --wide shows every column)"))
    left_out = note[1:note.index(" left out")].split(", ")
    header = text.splitlines()[0]
    assert left_out[:2] == ["uncert.", "resol."] and not any(f" {title}" in header for title in left_out)
    assert " Brier " in header and " rank " in header
    assert "Lower is better" in text  # the legend, wrapped rather than cut
    wide = on_a_terminal(db, "score", "--wide", columns=80)
    assert "uncert." in wide.splitlines()[0] and LONG_SOURCE in wide and "left out" not in wide


@needs_script
@pytest.mark.usefixtures("recorded_on_today")  # reports as of TODAY what it records
def test_piped_output_is_never_cut(db):
    score = piped(db, "score").stdout
    assert LONG_SOURCE in score and "uncert." in score.splitlines()[0] and "left out" not in score
    assert "Equal Brier scores share a rank. See docs/scoring.md." in score.splitlines()[-1]  # legend in one line
    listing = piped(db, "list").stdout
    assert f"{LONG_CLAIM} (0)" in listing and "…" not in listing
    report = piped(db, "report", "--for", "2026-10").stdout
    assert f"{LONG_CLAIM} (3)" in report and LONG_SOURCE in report and "…" not in report


@needs_script
def test_columns_in_the_environment_does_not_cut_a_pipe(db):
    """Programs export COLUMNS to their children (pytest does): a pipe still gets whole lines."""
    listing = piped(db, "list", COLUMNS="80").stdout
    assert f"{LONG_CLAIM} (0)" in listing and "…" not in listing
    score = piped(db, "score", COLUMNS="80").stdout
    assert LONG_SOURCE in score and "left out" not in score


@needs_script
@pytest.mark.usefixtures("recorded_on_today")  # reports as of TODAY what it records
def test_the_report_fits_a_terminal(db):
    text = on_a_terminal(db, "report", "--for", "2026-10", columns=80)
    assert max(map(cells, text.splitlines())) <= 80
    assert on_a_terminal(db, "report", "--for", "2026-10", "--wide", columns=80).count(LONG_SOURCE) >= 3


@given(width=st.integers(min_value=64, max_value=200))
def test_a_score_table_never_exceeds_the_width_it_is_given(score_tables, width):
    for table in score_tables:
        lines = score_command_text(table, width).splitlines()
        assert max(map(cells, lines)) <= width
        header = lines[0]
        left_out = [title for title in SCORE_DROP_ORDER if f" {title}" not in header]
        assert left_out == list(SCORE_DROP_ORDER[: len(left_out)])  # least important first, in order


@pytest.fixture(scope="module")
def score_tables(tmp_path_factory):
    path = tmp_path_factory.mktemp("fit") / "ledger.db"
    with Ledger(path) as ledger:
        names = [LONG_SOURCE, "日本経済新聞" * 4, "Cafe\u0301 Weekly", "x"]
        for i, name in enumerate(names):
            ledger.add(**forecast_fields(deadline="2026-10-05", source=name, probability=0.1 + 0.2 * i, id=f"tab-{i}", tags=["oil"]))
            ledger.resolve(f"tab-{i}", "yes" if i % 2 else "no", on="2026-10-05", evidence="e")
        return [ledger.score(by=by) for by in ("source", "tag", "all")]


def test_score_by_all_is_one_row_and_no_table_has_an_all_row(run_cli, db):
    lines = run_cli(db, "score", "--by", "all").splitlines()
    assert lines[1].split()[:3] == ["all", "1", "4"] and lines[2] == ""  # one row (it had two)
    by_source = run_cli(db, "score").splitlines()
    assert not any(line.startswith("all ") for line in by_source)  # as in the JSON: --by all is that row


@pytest.fixture
def run_cli():
    from click.testing import CliRunner

    from predictions_cli.main import cli

    def invoke(db, *args):
        result = CliRunner().invoke(cli, ["--db", str(db), "--today", TODAY.isoformat(), *map(str, args)])
        assert result.exit_code == 0, (result.stdout, result.stderr)
        return result.stdout

    return invoke


# --- wordings ------------------------------------------------------------------------------------


def test_plural_and_p_value_and_probability_text():
    assert [plural(n, "forecast") for n in (0, 1, 2)] == ["0 forecasts", "1 forecast", "2 forecasts"]
    assert plural(1, "entry", "entries") == "1 entry" and plural(3, "entry", "entries") == "3 entries"
    assert p_value_text(0.104) == "p = 0.104" and p_value_text(0.0001) == "p < 0.001" and p_value_text(0.0) == "p < 0.001"
    assert [probability_text(p) for p in (0.3, 0.75, 0.275, 1, 0.0)] == ["0.30", "0.75", "0.275", "1.00", "0.00"]


@given(st.floats(min_value=0, max_value=1))
def test_probability_text_is_exact(p):
    text = probability_text(p)
    assert float(text) == p and len(text.partition(".")[2]) >= 2


@needs_script
def test_verify_and_import_say_one_entry_and_one_forecast(tmp_path):
    db = tmp_path / "one.db"
    with Ledger(db) as ledger:
        ledger.add(**forecast_fields(deadline="2026-10-05", id="only"))
    out = piped(db, "verify").stdout
    assert out.startswith("OK: the 1 chain entry checks out (1 forecast, 0 resolutions and corrections); head ")
    exported = tmp_path / "one.jsonl"
    piped(db, "export", "--format", "jsonl", "-o", exported)
    assert piped(tmp_path / "copy.db", "import", exported).stdout.startswith("Imported 1 forecast and 0 resolutions;")


@needs_script
def test_show_and_list_print_a_probability_alike(tmp_path):
    db = tmp_path / "p.db"
    with Ledger(db) as ledger:
        ledger.add(**forecast_fields(deadline="2026-10-05", id="thirty", probability=0.3))
        ledger.add(**forecast_fields(deadline="2026-10-05", id="precise", probability=0.275, claim="Another"))
    listing = piped(db, "list").stdout
    for forecast_id, shown in (("thirty", "0.30"), ("precise", "0.275")):
        assert f" {shown} " in next(line for line in listing.splitlines() if line.startswith(forecast_id))
        assert f"Probability:  {shown} (" in piped(db, "show", forecast_id).stdout


@needs_script
@pytest.mark.usefixtures("recorded_on_today")  # reports as of TODAY what it records
def test_a_confident_miss_is_p_below_0_001_not_p_0_000(tmp_path):
    db = tmp_path / "miss.db"
    with Ledger(db) as ledger:
        for i in range(30):
            ledger.add(**forecast_fields(deadline="2026-10-05", id=f"miss-{i}", probability=0.95, claim=f"Claim {i}"))
            ledger.resolve(f"miss-{i}", "no", on="2026-10-05", evidence="e")
    report = piped(db, "report", "--for", "2026-10").stdout
    assert "(p < 0.001)" in report and "p = 0.000" not in report


@needs_script
def test_an_empty_table_names_a_window_only_when_one_was_given(tmp_path):
    db = tmp_path / "open.db"
    with Ledger(db) as ledger:
        ledger.add(**forecast_fields(deadline="2026-10-05", id="open"))
    assert piped(db, "score").stdout == f"No forecasts resolved yes or no by {TODAY}: nothing to score.\n"
    window = piped(db, "score", "--since", "2026-01-01", "--until", "2026-03-31").stdout
    assert window == "No forecasts resolved yes or no from 2026-01-01 to 2026-03-31: nothing to score.\n"
