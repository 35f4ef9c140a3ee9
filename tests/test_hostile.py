"""Hostile and malformed input: never a traceback, never a partial write, always one line.

A hypothesis-driven test feeds random and adversarial values to every command; targeted tests check
that errors name the field, that HTML output escapes every piece of ledger text, and that no SQL is
built by pasting user text (a scan of the sources and a behavioural test).
"""

from __future__ import annotations

import ast
import contextlib
import csv
import html.parser
import io
import json
import os
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from predictions import Ledger
from predictions_cli.main import cli

from .conftest import TODAY, forecast_fields

ROOT = Path(__file__).resolve().parent.parent
# Modest and derandomised for CI; PREDICTIONS_FUZZ_EXAMPLES=2000 explores further (with a fresh seed each run).
EXAMPLES = int(os.environ.get("PREDICTIONS_FUZZ_EXAMPLES", "30"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=EXAMPLES <= 30, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])  # fmt: skip

HOSTILE = [
    "", " ", "\t", "\n", "x' OR 1=1 --", "'; DROP TABLE forecasts; --", '" OR ""="', "%", "_", "*",
    "<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "</textarea>", "&amp;", "\x00", "a\x00b",
    "\x1b[2J", "\r\n", "\u202e", "\ud800", "\udcff", "💥", "A" * 25_000, "nan", "NaN", "inf", "-inf", "1e309",
    "-0.0", "-1", "2", "0x10", "1_0", "0001-01-01", "9999-12-31", "2026-02-30", "10000-01-01", "-2026-01-01",
    "2026-1-1", "20260101", "true", "null", "[]", "{}", "%s", "{0}", "../../../etc/passwd", "-", "--",
    "alpha-one", "alpha", "beta-two", "yes", "no", "annulled",
]  # fmt: skip
hostile = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=20), st.text(st.characters(codec="utf-8"), max_size=5))


# --- a ledger to attack, and the invariants every command must keep ---------------------------------


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("template") / "ledger.db"
    with Ledger(db) as ledger:
        ledger.add(**forecast_fields(id="alpha-one", tags=["econ"], document={"title": "Outlook", "author": "A. W."}))
        ledger.add(**forecast_fields(id="beta-two", source="Other Outlet", deadline="2026-06-30", probability=0.2))
        ledger.resolve("beta-two", "no", on="2026-07-01", evidence="Report", today=TODAY)
        ledger.add(**forecast_fields(id="gamma-three", source="Robert'); DROP TABLE forecasts; --", claim="<b>bold</b>", tags=["econ", "x"]))
    return db


def snapshot(db: Path) -> tuple[str, str]:
    with Ledger(db, create=False) as ledger:
        return ledger.head().hash, json.dumps(list(ledger.export_records(today=TODAY)))


@pytest.fixture
def attack(template, tmp_path_factory):
    """attack(args, files={name: text or bytes}) -> result, on a fresh copy of the template ledger,
    asserting the invariants: exit 0, 1 or 2; no traceback; one line on error; nothing written on error."""
    before = snapshot(template)

    def run(args: list[str], files: dict[str, str | bytes] | None = None, today: str = TODAY.isoformat(),
            argv: bool = False):
        work = tmp_path_factory.mktemp("attack")
        db = work / "ledger.db"
        shutil.copy(template, db)
        for name, content in (files or {}).items():
            path = work / name
            path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8", "surrogatepass"))
        args = [str(work / a[len("FILE:"):]) if isinstance(a, str) and a.startswith("FILE:") else a for a in args]
        args = [as_argv(a) for a in args] if argv else args
        with contextlib.chdir(work):  # relative outputs (export -o x, report -o x) land here
            result = CliRunner().invoke(cli, ["--db", str(db), "--today", today, *args])
        check(result, args)
        if result.exit_code != 0:
            assert snapshot(db) == before, ("a refused command changed the ledger", args)
        with Ledger(db, create=False) as ledger:
            assert ledger.verify().ok
        return result

    return run


def as_argv(text: str) -> str:
    """What a command line can deliver. An argument ends at its first NUL byte (C strings), and
    Python decodes argv bytes with surrogateescape, so a lone surrogate such as '\ud800' arrives
    as the escapes of its UTF-8 bytes ('\udced\udca0\udc80'). Values that cannot arrive this way
    (NUL, '\ud800' as such) reach the library through import files, tested below."""
    return text.split("\x00")[0].encode("utf-8", "surrogatepass").decode("utf-8", "surrogateescape")


def check(result, args) -> None:
    context = (args, result.exit_code, result.stderr[-500:])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(("traceback", args)) from result.exception
    assert result.exit_code in (0, 1, 2), context
    assert "Traceback" not in result.output, context
    assert "unexpected " not in result.stderr, context  # the CLI's catch-all for bugs
    if result.exit_code == 1:  # (line breaks other than \n and \r: see test_field_names_from_input_are_escaped)
        lines = re.split(r"[\r\n]+", result.stderr.strip())
        assert len(lines) == 1 and lines[0].startswith("Error: ") and len(lines[0]) > len("Error: "), context
    elif result.exit_code == 2:
        assert result.stderr.strip().splitlines()[-1].startswith("Error: "), context


# --- every command, fuzzed -----------------------------------------------------------------------

VALID_ADD = {"--source": "Outlet", "--claim": "It happens", "--criteria": "YES if it happens",
             "--made-on": "2026-01-01", "--deadline": "2026-12-31", "--probability": "0.4"}  # fmt: skip
ADD_OPTIONS = [*VALID_ADD, "--within", "--phrase", "--basis", "--quote", "--question", "--document-url", "--title",
               "--author", "--outlet", "--tag", "--note", "--id", "--source-kind"]  # fmt: skip


@st.composite
def add_args(draw):
    options = dict(VALID_ADD)
    for option in draw(st.lists(st.sampled_from(ADD_OPTIONS), min_size=1, max_size=3, unique=True)):
        if draw(st.booleans()) and option in options:
            del options[option]
        else:
            options[option] = draw(hostile)
    return [item for pair in options.items() for item in pair]


@st.composite
def resolve_args(draw):
    forecast = draw(st.sampled_from(["alpha-one", "alpha", "gamma-three", "beta-two"]) | hostile)
    outcome = draw(st.sampled_from(["yes", "no", "ambiguous"]) | hostile)
    options = {"--on": "2026-03-01", "--evidence": "A report"}
    for option in draw(st.lists(st.sampled_from(["--on", "--evidence", "--note", "--correct", "--early-reason", "--by"]),
                                max_size=3, unique=True)):  # fmt: skip
        options[option] = draw(hostile)
    return [forecast, outcome, *[item for pair in options.items() for item in pair]]


def flags(*names):
    return st.lists(st.sampled_from(names), max_size=2, unique=True)


@st.composite
def with_values(draw, command, options, positional=0):
    args = [command, *[draw(hostile) for _ in range(positional)]]
    for option in draw(st.lists(st.sampled_from(options), max_size=3, unique=True)) if options else []:
        args += [option, draw(hostile)]
    return args


PERIODS = st.sampled_from(["2026", "2026-Q3", "2026-10", "2026-13", "2026-Q5", "26", "2026-00", "1999-Q1"]) | hostile.filter(
    lambda s: not s[:4].isdigit()  # years at the calendar's edge: see test_report_at_the_calendars_edge
)

COMMANDS = {
    "add": add_args().map(lambda a: ["add", *a]),
    "resolve": resolve_args().map(lambda a: ["resolve", *a]),
    "list": st.tuples(with_values("list", ["--status", "--source", "--tag"]), flags("--json")).map(lambda t: t[0] + t[1]),
    "show": st.tuples(with_values("show", [], positional=1), flags("--json")).map(lambda t: t[0] + t[1]),
    "history": st.tuples(with_values("history", [], positional=1), flags("--json")).map(lambda t: t[0] + t[1]),
    "due": flags("--json").map(lambda f: ["due", *f]),
    "export": with_values("export", ["--format", "--output"]),
    "verify": st.tuples(with_values("verify", ["--contains"]), flags("--json")).map(lambda t: t[0] + t[1]),
    "head": flags("--json").map(lambda f: ["head", *f]),
    "backup": st.sampled_from(["FILE:copy.db", "FILE:ledger.db", "FILE:", "FILE:no/such/dir/x.db"]).map(lambda p: ["backup", p])
    | hostile.map(lambda p: ["backup", "FILE:" + p]),
    "score": with_values("score", ["--by", "--since", "--until", "--min-n"]),
    "report": st.tuples(st.just("report"), st.sampled_from(["--for"]), PERIODS, flags("--json"))
    .map(lambda t: [t[0], t[1], t[2]])
    | with_values("report", ["--period", "--format", "--min-n", "-o"]),
}  # fmt: skip


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_command_survives_hostile_arguments(attack, command):
    @FUZZ
    @given(args=COMMANDS[command])
    def fuzz(args):
        attack(args, argv=True)

    fuzz()


@pytest.mark.parametrize("today", ["0001-01-01", "1970-01-01", "2026-02-28", "9999-12-30"])
@pytest.mark.parametrize("command", [["list", "--status", "open"], ["due"], ["show", "alpha"], ["verify"], ["score"]])
def test_extreme_todays(attack, command, today):
    attack(command, today=today)


# --- import and seed, fuzzed -----------------------------------------------------------------------

BASE_RECORD = {"source": "Outlet", "claim": "It happens", "resolution_criteria": "YES if it happens",
               "made_on": "2026-01-01", "deadline": "2026-12-31", "probability": 0.4}  # fmt: skip
FIELDS = [*BASE_RECORD, "id", "tags", "document", "outcome", "resolved_on", "evidence", "resolutions", "phrase",
          "deadline_text", "probability_basis", "quote", "note", "recorded_at", "status", "unknown_key"]  # fmt: skip
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | hostile,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(hostile, inner, max_size=3),
    max_leaves=6,
)


@st.composite
def records(draw):
    record = dict(BASE_RECORD)
    for field in draw(st.lists(st.sampled_from(FIELDS), max_size=3, unique=True)):
        record[field] = draw(json_values)
    return record


@st.composite
def import_files(draw):
    rows = draw(st.lists(records(), min_size=1, max_size=4))
    if draw(st.booleans()):
        rows.append(dict(rows[0], id=draw(st.sampled_from(["alpha-one", "dup-id-1"]))))
        rows.append(dict(rows[0], id="dup-id-1"))
    kind = draw(st.sampled_from(["jsonl", "json", "csv", "garbage", "bytes"]))
    if kind == "jsonl":
        lines = [json.dumps(r, ensure_ascii=False) for r in rows]
        if draw(st.booleans()):
            lines.insert(draw(st.integers(0, len(lines))), draw(hostile))  # a broken line
        return "records.jsonl", "\n".join(lines)
    if kind == "json":
        text = json.dumps(rows, ensure_ascii=False, indent=1)
        return "records.json", text[: draw(st.integers(0, len(text)))] if draw(st.booleans()) else text
    if kind == "csv":
        out = io.StringIO()
        columns = sorted({key for row in rows for key in row})
        writer = csv.DictWriter(out, columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: v if isinstance(v, str) else json.dumps(v) for k, v in row.items()})
        return "records.csv", out.getvalue()
    if kind == "bytes":
        return draw(st.sampled_from(["records.jsonl", "records.csv", "records.json"])), draw(st.binary(max_size=200))
    return draw(st.sampled_from(["records.jsonl", "records.json", "records.csv", "records.toml", "records"])), draw(hostile)


@FUZZ
@given(file=import_files())
def test_import_survives_hostile_files(attack, file):
    name, content = file
    attack(["import", f"FILE:{name}"], files={name: content})


SEED = """[document]
title = "A title"
published_on = 2026-01-01
recorded_at = 2026-11-23T00:00:00Z

[[forecasts]]
id = "seed-one"
source = "Outlet"
claim = "It happens"
resolution_criteria = "YES if it happens"
made_on = 2026-01-01
deadline = 2026-12-31
probability = 0.4
probability_basis = "assigned"
"""


@FUZZ
@given(line=st.sampled_from(SEED.splitlines()), value=hostile | st.sampled_from(['"x\\u0000"', "nan", "inf", "[1, 2]", "{a = 1}", '"""']))
def test_seed_survives_hostile_files(attack, line, value):
    key = line.split("=")[0].strip() if "=" in line else None
    text = SEED.replace(line, f"{key} = {value}" if key else value, 1)
    attack(["seed", "FILE:seed.toml"], files={"seed.toml": text})


# --- errors name the field -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "option, value, field",
    [
        ("--source", "a\x00b", "source"), ("--source", "x" * 301, "source"), ("--claim", " ", "claim"),
        ("--claim", "\ud800", "claim"), ("--criteria", "\x1b[2J", "resolution_criteria"),
        ("--probability", "nan", "probability"), ("--probability", "inf", "probability"),
        ("--probability", "1.5", "probability"), ("--id", "x' OR 1=1 --", "id"), ("--id", "<script>", "id"),
        ("--tag", "<script>", "tags"), ("--tag", "Robert'); DROP", "tags"), ("--note", "A" * 25_000, "note"),
        ("--title", "two\nlines", "document.title"), ("--document-url", "\udcff", "document.url"),
        ("--within", "10000 years", "deadline_text"), ("--phrase", "<b>maybe</b>", "phrase"),
    ],
)  # fmt: skip
def test_add_errors_name_the_field(attack, option, value, field):
    args = dict(VALID_ADD, **{option: value})
    if option == "--within":
        del args["--deadline"]
    if option == "--phrase":
        del args["--probability"]
    result = attack(["add", *[item for pair in args.items() for item in pair]])
    assert result.exit_code == 1
    assert f"field {field}" in result.stderr, result.stderr
    if option.lstrip("-").replace("-", "_") != field:  # and the option to type, where its name differs
        assert f"field {field} ({option}):" in result.stderr, result.stderr


@pytest.mark.parametrize(
    "content, words",
    [
        ('{"claim": "x"', ["records.jsonl:1", "not valid JSON"]),
        (json.dumps(dict(BASE_RECORD, probability=float("nan"))), ["records.jsonl:1", "NaN"]),
        (json.dumps(dict(BASE_RECORD, probability="1e309")), ["records.jsonl:1", "field probability"]),
        (json.dumps(dict(BASE_RECORD, claim="\ud800")), ["records.jsonl:1", "field claim", "Unicode"]),
        (json.dumps(dict(BASE_RECORD, made_on=20260101)), ["records.jsonl:1", "field made_on"]),
        (json.dumps(dict(BASE_RECORD, tags="<script>")), ["records.jsonl:1", "field tags"]),
        (json.dumps(dict(BASE_RECORD, deadline="0001-01-01")), ["records.jsonl:1", "field deadline"]),
        (json.dumps(dict(BASE_RECORD, evil=1)), ["records.jsonl:1", "field evil"]),
        (json.dumps([1, 2]), ["records.jsonl:1", "must be an object"]),
        (json.dumps(dict(BASE_RECORD, id="alpha-one")), ["records.jsonl:1", "field id", "already in the ledger"]),
        ("\n".join([json.dumps(dict(BASE_RECORD, id="same-id"))] * 2), ["records.jsonl:2", "field id", "twice"]),
        ("\n".join([json.dumps(dict(BASE_RECORD, id=f"ok-{i:03d}")) for i in range(50)]
                   + [json.dumps(dict(BASE_RECORD, outcome="maybe", resolved_on="2026-02-01", evidence="e"))]),
         ["records.jsonl:51", "field outcome"]),
    ],
    ids=["bad-json", "nan", "huge-number", "surrogate", "wrong-type", "bad-tag", "deadline-before-made", "unknown-key",
         "not-an-object", "existing-id", "duplicate-id", "bad-last-of-many"],
)  # fmt: skip
def test_import_errors_name_the_line_and_field_and_write_nothing(attack, content, words):
    result = attack(["import", "FILE:records.jsonl"], files={"records.jsonl": content})
    assert result.exit_code == 1
    for word in words:
        assert word in result.stderr, (word, result.stderr)


def test_malformed_csv_and_toml_name_the_line(attack):
    result = attack(["import", "FILE:r.csv"], files={"r.csv": "source,claim,bogus\nA,B,C\n"})
    assert result.exit_code == 1 and "bogus" in result.stderr
    result = attack(["seed", "FILE:s.toml"], files={"s.toml": SEED + "\n[[forecasts]\n"})
    assert result.exit_code == 1 and "s.toml:" in result.stderr and "TOML" in result.stderr


@pytest.mark.parametrize("name, content", [("r.jsonl", json.dumps({**BASE_RECORD, "a\nb": 1})),
                                           ("r.csv", "source,\x0bclaim\nA,B\n")])
def test_field_names_from_input_are_escaped(attack, name, content):
    result = attack(["import", f"FILE:{name}"], files={name: content})
    assert len(result.stderr.strip().splitlines()) == 1


def test_surrogates_in_filters_and_ids_are_one_line_errors(attack):
    for args in (["list", "--source", "\udcff"], ["list", "--tag", "\ud800"], ["show", "\udcff"],
                 ["resolve", "alpha-one", "yes", "--on", "2026-03-01", "--evidence", "\udcff"]):  # fmt: skip
        assert attack(args).exit_code == 1


@pytest.mark.parametrize("args, today", [(["report", "--for", "0001-01"], "2026-11-22"),
                                         (["report"], "9999-12-31"), (["report", "--period", "year"], "0001-01-01")])
def test_report_at_the_calendars_edge(attack, args, today):
    result = attack(args, today=today)
    assert result.exit_code == 0 or "calendar's edge" in result.stderr


# --- HTML output escapes every piece of ledger text ------------------------------------------------

EVIL = ['<script>alert("claim")</script>', '"><img src=x onerror=alert(1)>', "</td></tr></table><h1>owned</h1>",
        "<svg/onload=alert(2)>", "&lt;already escaped&gt;", "javascript:alert(3)", "<!-- comment -->", "</style><style>*{}"]  # fmt: skip
ALLOWED_TAGS = {"html", "head", "meta", "title", "style", "body", "main", "header", "footer", "section", "div", "h1",
                "h2", "h3", "h4", "p", "table", "thead", "tbody", "tr", "th", "td", "caption", "ul", "ol", "li", "span",
                "code", "small", "strong", "em", "a", "svg", "g", "rect", "line", "circle", "path", "text", "polyline",
                "polygon", "title", "desc", "figure", "figcaption", "br", "hr", "abbr", "details", "summary", "sup",
                "sub", "b", "i", "nav", "article", "time", "dl", "dt", "dd", "pre", "tspan", "defs", "clippath", "img"}  # fmt: skip


class _Tags(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.handlers, self.scripts = [], [], 0

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.scripts += tag == "script"
        self.handlers += [(tag, name) for name, _ in attrs if name.startswith("on") or (name == "href" and (_ or "").startswith("javascript:"))]


def _hostile_html_ledger(db: Path) -> None:
    with Ledger(db) as ledger:
        for i, evil in enumerate(EVIL):
            ledger.add(**forecast_fields(
                id=f"evil-{i}", source=f"{evil} source", claim=f"{evil} claim", resolution_criteria=f"{evil} criteria",
                quote=evil, question_text=evil, note=evil, tags=["x-script", "onload.1"], deadline="2026-06-30",
                document={"title": evil, "author": f"{evil} author", "outlet": evil, "url": evil},
            ))  # fmt: skip
            outcome, on = ("yes", "2026-05-10") if i % 2 else ("no", "2026-07-10")
            ledger.resolve(f"evil-{i}", outcome, on=on, evidence=evil, note=evil, by=evil, today=TODAY)
            ledger.add(**forecast_fields(id=f"open-{i}", source=f"{evil} source", claim=f"{evil} upcoming",
                                         deadline="2026-12-15", made_on="2026-01-01"))  # fmt: skip
            ledger.add(**forecast_fields(id=f"due-{i}", source=evil, claim=f"{evil} due", deadline="2026-08-01"))


@pytest.mark.parametrize("period", ["2026-05", "2026-07", "2026"])
@pytest.mark.usefixtures("recorded_on_today")  # reports as of TODAY what it records
def test_html_report_escapes_all_ledger_text(tmp_path, period):
    db = tmp_path / "evil.db"
    _hostile_html_ledger(db)
    result = CliRunner().invoke(cli, ["--db", str(db), "--today", TODAY.isoformat(), "report", "--format", "html",
                                      "--for", period, "--min-n", "1"])  # fmt: skip
    assert result.exit_code == 0, result.output
    page = result.stdout
    for evil in EVIL:
        if any(c in evil for c in "<>&\""):
            assert evil not in page, evil  # never verbatim
    assert "&lt;script&gt;alert(&quot;claim&quot;)&lt;/script&gt;" in page or "&lt;script&gt;alert(&#x27;" in page or (
        "&lt;script&gt;alert(" in page
    )  # the claim is shown, inert
    assert "&amp;lt;already escaped&amp;gt;" in page  # escaped once more, not trusted
    parser = _Tags()
    parser.feed(page)
    assert parser.scripts == 0
    assert parser.handlers == []
    assert set(parser.tags) <= ALLOWED_TAGS, set(parser.tags) - ALLOWED_TAGS
    assert "owned" not in [t for t in parser.tags]


# --- no SQL is built by pasting user text -----------------------------------------------------------

# Every value interpolated into SQL text passed to execute()/executemany(), with why it is safe. A new
# interpolation fails the test until it is listed here (and is code-owned, never user text).
CODE_OWNED = {
    ("predictions/sqlite_file.py", "BUSY_TIMEOUT_SECONDS * 1000"): "an int constant",
    ("predictions/sqlite_file.py", "migrations.migrations_table"): "sqlite-utils' constant table name",
    ("predictions/importing.py", "marks"): "', '.join('?' * n): placeholders only; the ids are parameters",
    ("predictions/store.py", "TRACKED_SQL"): "a module constant",
    ("predictions/store.py", "QUESTION_SQL"): "a module constant",
    ("predictions/importing.py", "chain.QUESTION_SELECT"): "a constant in chain.py, from the attrs fields",
    ("predictions/importing.py", "QUESTION_FIELDS_SQL"): "a module constant",
    ("predictions/importing.py", "chain.FORECAST_SELECT"): "a constant in chain.py, from the attrs fields",
    ("predictions/importing.py", "chain.FORECAST_FROM"): "a constant in chain.py",
    ("predictions/importing.py", "HISTORY_SQL"): "a module constant",
    ("predictions/store.py", "chain.FIRST_CLAIM"): "a constant in chain.py",
    ("predictions/importing.py", "chain.RESOLUTION_SELECT"): "a constant in chain.py, from the attrs fields",
    ("predictions/store.py", "FORECASTS_OF_SQL"): "a module constant",
    ("predictions/store.py", "chain.FORECAST_SELECT"): "a constant in chain.py, from the attrs fields",
    ("predictions/store.py", "chain.FORECAST_FROM"): "a constant in chain.py",
    ("predictions/store.py", "chain.QUESTION_SELECT"): "a constant in chain.py, from the attrs fields",
    ("predictions/store.py", "chain.QUESTION_SELECT_PREFIXED"): "a constant in chain.py, from the attrs fields",
    ("predictions/store.py", "', '.join((f\"'{c}', {c}\" for c in _HISTORY_KEYS))"): "Resolution's field names",
    ("predictions/importing.py", "name"): "a key of migrations.SECONDARY_INDEXES (index names in the code)",
    ("predictions/importing.py", "statement"): "a value of migrations.SECONDARY_INDEXES (literal SQL)",
    ("predictions/store.py", "where"): "joined from literal clauses in iter_forecasts/get; values are parameters",
    ("predictions/store.py", "order"): "iter_forecasts' keyword; every caller passes a literal (checked below)",
    ("predictions/writer.py", "marks"): "placeholders only",
    ("predictions/writer.py", "', '.join('?' * len(chain.DOCUMENT_COLUMNS))"): "placeholders only",
    ("predictions/writer.py", "_DOCUMENT_INSERT"): "column names from the attrs fields (chain.py)",
    ("predictions/writer.py", "_ENTRY_INSERT"): "column names, a constant tuple in chain.py",
    ("predictions/writer.py", "_FORECAST_INSERT"): "column names from the attrs fields (chain.py)",
    ("predictions/writer.py", "_QUESTION_INSERT"): "column names from the attrs fields (chain.py)",
    ("predictions/writer.py", "_RESOLUTION_INSERT"): "column names from the attrs fields (chain.py)",
    ("predictions/writer.py", "chain.FORECASTERS_SQL"): "a constant in chain.py",
    ("predictions/writer.py", "weights"): "scoring.pair_weights_sql over a literal clause with placeholders",
    ("predictions/chain.py", "', '.join(ENTRY_COLUMNS)"): "column names, a constant tuple",
    ("predictions/chain.py", "QUESTION_SELECT"): "a module constant, from the attrs fields",
    ("predictions/chain.py", "QUESTION_SELECT_PREFIXED"): "a module constant, from the attrs fields",
    ("predictions/chain.py", "FORECAST_SELECT"): "a module constant, from the attrs fields",
    ("predictions/chain.py", "RESOLUTION_SELECT"): "a module constant, from the attrs fields",
    ("predictions/verify_parallel.py", "pair_weights_sql()"): "a constant in scoring.py",
    ("predictions/verify_parallel.py", "INTEGRITY_MESSAGES"): "a constant in chain.py",
    ("predictions/chain.py", "table"): "a literal table name from the loop in verify",
    ("predictions/chain.py", "clause"): "a literal clause from the loop in verify",
    ("predictions/chain.py", "', '.join((f'q.{c}' for c in QUESTION_COLUMNS))"): "column names from the attrs fields",
    ("predictions/chain.py", "', '.join((f'q.{c} AS q_{c}' for c in QUESTION_COLUMNS))"): "column names from the attrs fields",
    ("predictions/report.py", "where"): "literal clauses passed by build_report; values are parameters",
    ("predictions/report.py", "marks"): "', '.join('?' * n): placeholders only; the tags are parameters",
    ("predictions/report.py", "window"): "aggregate.window_sql: literal clauses; the dates and tags are parameters",
    ("predictions/report.py", "having"): "a literal clause with placeholders only",
    ("predictions/report.py", "_LINE_SQL"): "a module constant",
    ("predictions/report.py", "_LINES"): "a module constant",
    ("predictions/report.py", "FIRST_CLAIM"): "a constant in chain.py",
    ("predictions/report.py", "line_sql"): "_LINE_SQL or _OPEN_LINE_SQL, module constants",
    ("predictions/report.py", "deadlines"): "literal deadline clauses passed to _open_on by build_report",
    ("predictions/report.py", "_OPEN_AS_OF"): "a module constant",
    ("predictions/chain.py", "INTEGRITY_MESSAGES"): "an int constant",
    ("predictions/chain_scan.py", "_sql(_text_columns(conn))"):
        "chain's column lists; the file's declared types only choose between two code-owned expressions",
    ("predictions/report.py", "order"): "literal orderings passed by build_report",
    ("predictions/report.py", "LIST_LIMIT"): "an int constant",
    ("predictions/aggregate.py", "expression"): "from _grouping(by): a fixed table of SQL per known grouping",
    ("predictions/aggregate.py", "join"): "from _grouping(by): a fixed table of SQL per known grouping",
    ("predictions/aggregate.py", "BIN_SQL"): "a constant in scoring.py",
    ("predictions/aggregate.py", "SUMS_SQL"): "a constant in scoring.py",
    ("predictions/aggregate.py", "_UNSCORED"): "a module constant",
    ("predictions/relative.py", "expression"): "aggregate._grouping(by): a fixed table of SQL per known grouping",
    ("predictions/relative.py", "join"): "aggregate._grouping(by): a fixed table of SQL per known grouping",
    ("predictions/relative.py", "window"): "aggregate._window: literal clauses; the dates and tags are parameters",
    ("predictions/aggregate.py", "window"): "literal clauses from _window; the dates are parameters",
    ("predictions/migrations.py", "statement"): "the migration scripts, literal text in migrations.py",
    ("predictions/migrations.py", "name"): "a trigger name built from literal table/event names",
    ("predictions/migrations.py", "event"): "a literal event name",
    ("predictions/migrations.py", "event.split()[0].lower()"): "from a literal event name",
    ("predictions/migrations.py", "table"): "a literal table name",
    ("predictions/migrations.py", "' OR '.join(map(unreal, columns))"): "literal column names",
    ("predictions/fts.py", "index"): "a key of fts.FULL_TEXT (index names in the code)",
    ("predictions/fts.py", "table"): "a table name from fts.FULL_TEXT",
    ("predictions/fts.py", "names"): "column names from fts.FULL_TEXT",
    ("predictions/fts.py", "', '.join(columns)"): "column names from fts.FULL_TEXT",
    ("predictions/fts.py", "_CHECK"): "a module constant (the temporary copy's name)",
    ("predictions/fts.py", "suffix"): "a literal shadow-table suffix from the loop",
    ("predictions/fts.py", "int(query_only)"): "0 or 1, read back from PRAGMA query_only",
    ("predictions/report_history.py", "_STATES"): "a module constant",
    ("predictions/report_history.py", "_LATE_FORECASTS"): "a module constant",
    ("predictions/report_history.py", "_CLAIM"): "a module constant",
    ("predictions/report_history.py", "_FORECASTS_ON"): "a module constant",
    ("predictions/report_history.py", "expression"): "aggregate.GROUPINGS[kind]: literal SQL per period kind",
    ("predictions/report_history.py", "tags"): "aggregate.window_sql: a literal clause; the tags are parameters",
    ("predictions/report_history.py", "window"): "aggregate.window_sql: literal clauses; dates and tags are parameters",
    ("predictions/report_snapshot.py", "_LATEST"): "a module constant",
    ("predictions/report_snapshot.py", "statement"): "_SNAPSHOT and _DROP: literal statements in the module",
    ("predictions/report_snapshot.py", "_scored_view()"): "the migrations' own view, made in temp",
}  # fmt: skip


def _sql_interpolations(tree: ast.AST):
    """(expression text) for every non-literal piece of the first argument of execute-like calls,
    following local variables assigned from string expressions within the same function."""
    for function in [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Module))]:
        assigned: dict[str, list[ast.AST]] = {}
        for node in ast.walk(function):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        assigned.setdefault(target.id, []).append(node.value)
        for node in ast.walk(function):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in {"execute", "executemany", "executescript"} and node.args):  # fmt: skip
                yield from _pieces(node.args[0], assigned, set())


def _pieces(node: ast.AST, assigned, seen):
    if isinstance(node, ast.Constant):
        return
    if isinstance(node, ast.JoinedStr):
        for value in node.values:
            if isinstance(value, ast.FormattedValue):
                yield from _pieces(value.value, assigned, seen)
        return
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        yield from _pieces(node.left, assigned, seen)
        yield from _pieces(node.right, assigned, seen)
        return
    if isinstance(node, ast.Name) and node.id in assigned and node.id not in seen:
        values = assigned[node.id]
        if all(isinstance(v, (ast.Constant, ast.JoinedStr, ast.BinOp)) for v in values):
            for value in values:
                yield from _pieces(value, assigned, seen | {node.id})
            return
    yield ast.unparse(node)


def test_sql_is_never_built_from_user_text():
    found = set()
    for path in sorted([*ROOT.joinpath("predictions").glob("*.py"), *ROOT.joinpath("cli").glob("*.py")]):
        relative = path.relative_to(ROOT).as_posix()
        for piece in _sql_interpolations(ast.parse(path.read_text(encoding="utf-8"))):
            found.add((relative, piece))
    unexplained = sorted(found - set(CODE_OWNED))
    assert unexplained == [], f"SQL built with values not known to be code-owned: {unexplained}"
    # `order` reaches SQL text: every call that passes it must pass a literal.
    for path in [*ROOT.joinpath("predictions").glob("*.py"), *ROOT.joinpath("cli").glob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                for keyword in node.keywords:
                    if keyword.arg == "order" and ast.unparse(keyword.value) != "order":  # passed through
                        assert isinstance(keyword.value, ast.Constant), (path, ast.unparse(node))


INJECTIONS = ["x' OR 1=1 --", "' OR '1'='1", "%", "_", "*", "'; DELETE FROM forecasts; --", "alpha%", "\" OR \"\"=\""]


@pytest.mark.parametrize("injection", INJECTIONS)
def test_sql_fragments_in_filters_and_ids_are_plain_values(attack, injection):
    for option in ("--source", "--tag"):
        result = attack(["list", "--json", option, injection])
        assert result.exit_code == 0 and json.loads(result.stdout) == [], (option, injection, result.stdout)
    for command in (["show", injection], ["history", injection],
                    ["resolve", injection, "yes", "--on", "2026-03-01", "--evidence", "e"]):  # fmt: skip
        result = attack(command)
        assert result.exit_code == 1 and "no forecast or question has an id starting with" in result.stderr, (command, result.stderr)


def test_sql_text_is_stored_and_matched_exactly(attack):
    """The template holds a forecast whose source is itself an injection: exact match only."""
    result = attack(["list", "--json", "--source", "Robert'); DROP TABLE forecasts; --"])
    assert [r["id"] for r in json.loads(result.stdout)] == ["gamma-three"]
    result = attack(["list", "--json", "--tag", "x"])
    assert [r["id"] for r in json.loads(result.stdout)] == ["gamma-three"]
    result = attack(["score", "--by", "source", "--json"])
    assert result.exit_code == 0
