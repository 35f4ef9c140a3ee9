"""The ledger's schema, as numbered migrations recorded in the file itself.

The list is append-only: never edit a migration that has shipped; add the next one. Each runs in
its own transaction (sqlite-utils' Migrations), and the names applied are kept in the table
`_sqlite_migrations`, which is how a file written by a newer version is recognised and refused.

CHECK constraints repeat the model's rules so that the database refuses bad rows even when
someone writes to it with raw SQL; triggers make history append-only.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any, Callable, NamedTuple

if TYPE_CHECKING:
    from sqlite_utils import Database

MIGRATION_SET = "predictions"


class _Step(NamedTuple):
    name: str
    fn: Callable[[Any], None]


class _LazyMigrations:
    """sqlite-utils' `Migrations`, made only when a migration has to run.

    Importing sqlite_utils costs about 0.27 s (it imports numpy when numpy is installed), and only
    a ledger being created or upgraded needs it: every other command opens the ledger, reads the
    applied names from `migrations_table` and goes on. Registration (`@migrations()`) and the
    order of the steps are the same; `apply` hands them to sqlite-utils, which records them.
    """

    migrations_table = "_sqlite_migrations"

    def __init__(self, name: str):
        self.name = name
        self._migrations: list[_Step] = []

    def __call__(self) -> Callable[[Callable[[Any], None]], Callable[[Any], None]]:
        def register(fn: Callable[[Any], None]) -> Callable[[Any], None]:
            self._migrations.append(_Step(fn.__name__, fn))
            return fn

        return register

    def apply(self, db: "Database") -> None:
        from sqlite_utils import Migrations

        assert Migrations.migrations_table == self.migrations_table
        real = Migrations(self.name)
        for step in self._migrations:
            real()(step.fn)
        real.apply(db)


migrations = _LazyMigrations(MIGRATION_SET)

_ISO_DATE = "{col} IS NULL OR (typeof({col}) = 'text' AND date({col}) IS {col})"


def _date_check(col: str, *, nullable: bool = False) -> str:
    check = _ISO_DATE.format(col=col)
    return check if nullable else f"{col} IS NOT NULL AND ({check})"


def _run_script(db: Database, script: str) -> None:
    """Run statements one by one: executescript() would commit the migration's transaction."""
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            db.execute(statement)
            statement = ""
    if statement.strip():
        raise ValueError(f"incomplete SQL statement in migration: {statement[:60]!r}")


@migrations()
def m001_initial(db: Database) -> None:
    _run_script(
        db,
        f"""
        CREATE TABLE documents (
            id TEXT PRIMARY KEY,
            title TEXT,
            outlet TEXT,
            author TEXT,
            url TEXT,
            published_on TEXT CHECK ({_date_check("published_on", nullable=True)}),
            published_on_estimated INTEGER NOT NULL DEFAULT 0 CHECK (published_on_estimated IN (0, 1)),
            published_text TEXT,
            note TEXT,
            file TEXT
        );

        CREATE TABLE forecasts (
            id TEXT PRIMARY KEY
                CHECK (length(id) BETWEEN 3 AND 40 AND id NOT GLOB '*[^a-z0-9-]*' AND id NOT GLOB '-*'),
            source TEXT NOT NULL CHECK (length(trim(source)) > 0),
            source_kind TEXT CHECK (source_kind IN ('outlet', 'person', 'organisation', 'estimate', 'other')),
            document_id TEXT REFERENCES documents(id),
            claim TEXT NOT NULL CHECK (length(trim(claim)) > 0),
            quote TEXT,
            question TEXT,
            resolution_criteria TEXT NOT NULL CHECK (length(trim(resolution_criteria)) > 0),
            made_on TEXT NOT NULL CHECK ({_date_check("made_on")}),
            deadline TEXT NOT NULL CHECK ({_date_check("deadline")} AND deadline >= made_on),
            deadline_text TEXT,
            deadline_assumed INTEGER NOT NULL DEFAULT 0 CHECK (deadline_assumed IN (0, 1)),
            probability REAL NOT NULL
                CHECK (typeof(probability) = 'real' AND probability >= 0.0 AND probability <= 1.0),
            probability_basis TEXT NOT NULL CHECK (probability_basis IN ('stated', 'verbal', 'assigned')),
            phrase TEXT CHECK (probability_basis <> 'verbal' OR phrase IS NOT NULL),
            note TEXT,
            recorded_at TEXT NOT NULL,
            -- The current outcome: a projection of the latest row in resolutions, kept here so that
            -- scoring reads one table. `verify` checks it against the resolution history.
            outcome TEXT CHECK (outcome IN ('yes', 'no', 'ambiguous', 'annulled')),
            resolved_on TEXT CHECK ({_date_check("resolved_on", nullable=True)}),
            CHECK ((outcome IS NULL) = (resolved_on IS NULL))
        );
        CREATE INDEX forecasts_source ON forecasts(source);
        CREATE INDEX forecasts_deadline ON forecasts(deadline);
        CREATE INDEX forecasts_document ON forecasts(document_id);

        CREATE TABLE forecast_tags (
            forecast_id TEXT NOT NULL REFERENCES forecasts(id),
            tag TEXT NOT NULL CHECK (length(tag) BETWEEN 1 AND 40 AND tag NOT GLOB '*[^a-z0-9._-]*'),
            PRIMARY KEY (forecast_id, tag)
        ) WITHOUT ROWID;
        CREATE INDEX forecast_tags_tag ON forecast_tags(tag);

        CREATE TABLE resolutions (
            id INTEGER PRIMARY KEY,
            forecast_id TEXT NOT NULL REFERENCES forecasts(id),
            outcome TEXT NOT NULL CHECK (outcome IN ('yes', 'no', 'ambiguous', 'annulled')),
            resolved_on TEXT NOT NULL CHECK ({_date_check("resolved_on")}),
            evidence TEXT NOT NULL CHECK (length(trim(evidence)) > 0),
            note TEXT,
            correction_reason TEXT,
            early_reason TEXT,
            recorded_at TEXT NOT NULL,
            recorded_by TEXT
        );
        CREATE INDEX resolutions_forecast ON resolutions(forecast_id, id);

        -- The hash chain: one entry per change to what the ledger says, in order. `payload` is the
        -- canonical JSON of the forecast or resolution; hash = sha256(prev_hash, a newline, payload).
        CREATE TABLE entries (
            seq INTEGER PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('forecast', 'resolution')),
            forecast_id TEXT NOT NULL,
            resolution_id INTEGER,
            payload TEXT NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL,
            CHECK ((kind = 'resolution') = (resolution_id IS NOT NULL))
        );

        -- History is append-only. These stop accidents and casual edits; `verify` catches the rest.
        CREATE TRIGGER entries_no_update BEFORE UPDATE ON entries
            BEGIN SELECT RAISE(ABORT, 'entries are append-only'); END;
        CREATE TRIGGER entries_no_delete BEFORE DELETE ON entries
            BEGIN SELECT RAISE(ABORT, 'entries are append-only'); END;
        CREATE TRIGGER resolutions_no_update BEFORE UPDATE ON resolutions
            BEGIN SELECT RAISE(ABORT, 'resolutions are append-only: record a correction'); END;
        CREATE TRIGGER resolutions_no_delete BEFORE DELETE ON resolutions
            BEGIN SELECT RAISE(ABORT, 'resolutions are append-only: record a correction'); END;
        CREATE TRIGGER forecasts_no_delete BEFORE DELETE ON forecasts
            BEGIN SELECT RAISE(ABORT, 'forecasts are never deleted: resolve one as annulled'); END;
        CREATE TRIGGER forecasts_no_edit BEFORE UPDATE OF
            id, source, source_kind, document_id, claim, quote, question, resolution_criteria,
            made_on, deadline, deadline_text, deadline_assumed, probability, probability_basis,
            phrase, note, recorded_at ON forecasts
            BEGIN SELECT RAISE(ABORT, 'a recorded forecast cannot be changed'); END;
        CREATE TRIGGER forecast_tags_no_change BEFORE DELETE ON forecast_tags
            BEGIN SELECT RAISE(ABORT, 'tags are part of the recorded forecast'); END;
        CREATE TRIGGER documents_no_change BEFORE UPDATE ON documents
            BEGIN SELECT RAISE(ABORT, 'documents are content-addressed and never change'); END;

        -- One row per forecast resolved yes or no, outcome as 0/1: what every score is computed from.
        CREATE VIEW scored AS
            SELECT f.id, f.source, f.probability,
                   CASE f.outcome WHEN 'yes' THEN 1 ELSE 0 END AS outcome,
                   f.made_on, f.deadline, f.resolved_on, f.probability_basis, f.phrase, f.document_id
            FROM forecasts f
            WHERE f.outcome IN ('yes', 'no');
        """
    )


@migrations()
def m002_unscored_outcome_index(db: Database) -> None:
    # Ambiguous and annulled outcomes are counted apart in every score; this partial index lets
    # that count skip the table scan, and costs nothing for the yes/no rows that make up the bulk.
    db.execute(
        "CREATE INDEX forecasts_unscored ON forecasts(outcome) WHERE outcome IN ('ambiguous', 'annulled')"
    )


@migrations()
def m003_real_calendar_dates(db: Database) -> None:
    # The CHECKs of m001 compare date(col) with col, but SQLite's date() passes a day that does not
    # exist ('2026-02-30') through unchanged, so raw SQL could store one. With a modifier date()
    # normalises it ('2026-03-02'); these triggers refuse any date that changes under '+0 days'.
    # (A CHECK cannot be changed without rebuilding the table; a trigger can be added.)
    def unreal(column: str) -> str:
        return f"(NEW.{column} IS NOT NULL AND date(NEW.{column}, '+0 days') IS NOT NEW.{column})"

    for table, columns, event in (
        ("forecasts", ("made_on", "deadline", "resolved_on"), "INSERT"),
        ("forecasts", ("resolved_on",), "UPDATE OF resolved_on"),
        ("resolutions", ("resolved_on",), "INSERT"),
        ("documents", ("published_on",), "INSERT"),
    ):
        name = f"{table}_real_dates_{event.split()[0].lower()}"
        db.execute(
            f"CREATE TRIGGER {name} BEFORE {event} ON {table} WHEN {' OR '.join(map(unreal, columns))} "
            f"BEGIN SELECT RAISE(ABORT, '{table}: a date that is not on the calendar'); END"
        )


_REAL_DATE = "typeof({col}) = 'text' AND date({col}, '+0 days') IS {col}"


def _real_date(col: str, *, nullable: bool = False) -> str:
    """A CHECK that `col` is a calendar date written YYYY-MM-DD: date() with a modifier
    normalises a day that does not exist ('2026-02-30' becomes '2026-03-02') and anything else
    to NULL, so only a real date in canonical form equals its own normalisation."""
    check = _REAL_DATE.format(col=col)
    return f"{col} IS NULL OR ({check})" if nullable else f"{col} IS NOT NULL AND {check}"


_ID_CHECK = "length({col}) BETWEEN 3 AND 40 AND {col} NOT GLOB '*[^a-z0-9-]*' AND {col} NOT GLOB '-*'"

# The indexes that are not part of a table's definition, by name. A bulk load into an empty ledger
# drops and rebuilds exactly these (store.Ledger.import_records); a test checks that the schema it
# leaves is the one the migrations make.
SECONDARY_INDEXES = {
    "forecasts_question": "CREATE INDEX forecasts_question ON forecasts(question_id, source, made_on)",
    "forecasts_source": "CREATE INDEX forecasts_source ON forecasts(source)",
    "forecasts_document": "CREATE INDEX forecasts_document ON forecasts(document_id)",
    "questions_deadline": "CREATE INDEX questions_deadline ON questions(deadline)",
    "questions_unscored": (
        "CREATE INDEX questions_unscored ON questions(outcome) WHERE outcome IN ('ambiguous', 'annulled')"
    ),
    "questions_shared": "CREATE INDEX questions_shared ON questions(id) WHERE forecasters > 1",
    "resolutions_question": "CREATE INDEX resolutions_question ON resolutions(question_id, id)",
    "question_tags_tag": "CREATE INDEX question_tags_tag ON question_tags(tag)",
}


@migrations()
def m004_questions(db: Database) -> None:
    """Questions shared by many forecasts (issue 11), and the m003 date triggers as CHECKs (issue 12).

    Each forecast becomes a question with that one forecast (the question takes the forecast's
    id); its criteria, deadline, tags and outcome move to the question, its resolutions belong to
    the question. Every table is rebuilt with its rows in the same order; the chain's entries are
    copied as they are (payload, hashes), marked shape 1, so every head published before stays
    valid. The column lists here are literal, as a migration must be (it describes the schema
    of its day); a test checks them against the attrs classes.
    """
    _run_script(
        db,
        f"""
        DROP VIEW scored;

        CREATE TABLE documents_v4 (
            id TEXT PRIMARY KEY,
            title TEXT,
            outlet TEXT,
            author TEXT,
            url TEXT,
            published_on TEXT CHECK ({_real_date("published_on", nullable=True)}),
            published_on_estimated INTEGER NOT NULL DEFAULT 0 CHECK (published_on_estimated IN (0, 1)),
            published_text TEXT,
            note TEXT,
            file TEXT
        );
        INSERT INTO documents_v4 SELECT * FROM documents ORDER BY rowid;

        CREATE TABLE questions (
            id TEXT PRIMARY KEY CHECK ({_ID_CHECK.format(col="id")}),
            question TEXT,
            resolution_criteria TEXT NOT NULL CHECK (length(trim(resolution_criteria)) > 0),
            deadline TEXT NOT NULL CHECK ({_real_date("deadline")}),
            deadline_text TEXT,
            deadline_assumed INTEGER NOT NULL DEFAULT 0 CHECK (deadline_assumed IN (0, 1)),
            recorded_at TEXT NOT NULL,
            -- Projections kept for queries, checked by `verify`: the current outcome (the latest
            -- row in resolutions) and how many sources have forecast the question.
            outcome TEXT CHECK (outcome IN ('yes', 'no', 'ambiguous', 'annulled')),
            resolved_on TEXT CHECK ({_real_date("resolved_on", nullable=True)}),
            forecasters INTEGER NOT NULL DEFAULT 1 CHECK (forecasters >= 1),
            CHECK ((outcome IS NULL) = (resolved_on IS NULL))
        );
        INSERT INTO questions (id, question, resolution_criteria, deadline, deadline_text, deadline_assumed,
                               recorded_at, outcome, resolved_on, forecasters)
            SELECT id, question, resolution_criteria, deadline, deadline_text, deadline_assumed,
                   recorded_at, outcome, resolved_on, 1
            FROM forecasts ORDER BY rowid;

        CREATE TABLE question_tags (
            question_id TEXT NOT NULL REFERENCES questions(id),
            tag TEXT NOT NULL CHECK (length(tag) BETWEEN 1 AND 40 AND tag NOT GLOB '*[^a-z0-9._-]*'),
            PRIMARY KEY (question_id, tag)
        ) WITHOUT ROWID;
        INSERT INTO question_tags SELECT forecast_id, tag FROM forecast_tags;

        CREATE TABLE forecasts_v4 (
            id TEXT PRIMARY KEY CHECK ({_ID_CHECK.format(col="id")}),
            question_id TEXT NOT NULL REFERENCES questions(id),
            source TEXT NOT NULL CHECK (length(trim(source)) > 0),
            source_kind TEXT CHECK (source_kind IN ('outlet', 'person', 'organisation', 'estimate', 'other')),
            document_id TEXT REFERENCES documents_v4(id),
            claim TEXT CHECK (claim IS NULL OR length(trim(claim)) > 0),
            quote TEXT,
            made_on TEXT NOT NULL CHECK ({_real_date("made_on")}),
            probability REAL NOT NULL
                CHECK (typeof(probability) = 'real' AND probability >= 0.0 AND probability <= 1.0),
            probability_basis TEXT NOT NULL CHECK (probability_basis IN ('stated', 'verbal', 'assigned')),
            phrase TEXT CHECK (probability_basis <> 'verbal' OR phrase IS NOT NULL),
            note TEXT,
            recorded_at TEXT NOT NULL,
            -- A projection kept for scoring, checked by `verify`: the forecast's share of its
            -- (source, question) pair's days (scoring.PAIR_WEIGHTS_SQL). 1 for a lone forecast.
            weight REAL NOT NULL DEFAULT 1.0 CHECK (weight >= 0.0 AND weight <= 1.0)
        );
        INSERT INTO forecasts_v4 (id, question_id, source, source_kind, document_id, claim, quote, made_on,
                                  probability, probability_basis, phrase, note, recorded_at, weight)
            SELECT id, id, source, source_kind, document_id, claim, quote, made_on,
                   probability, probability_basis, phrase, note, recorded_at, 1.0
            FROM forecasts ORDER BY rowid;

        CREATE TABLE resolutions_v4 (
            id INTEGER PRIMARY KEY,
            question_id TEXT NOT NULL REFERENCES questions(id),
            outcome TEXT NOT NULL CHECK (outcome IN ('yes', 'no', 'ambiguous', 'annulled')),
            resolved_on TEXT NOT NULL CHECK ({_real_date("resolved_on")}),
            evidence TEXT NOT NULL CHECK (length(trim(evidence)) > 0),
            note TEXT,
            correction_reason TEXT,
            early_reason TEXT,
            recorded_at TEXT NOT NULL,
            recorded_by TEXT
        );
        INSERT INTO resolutions_v4 SELECT * FROM resolutions ORDER BY id;

        -- The hash chain, as in m001, with the payload's shape (docs/integrity.md): a forecast of
        -- shape 1 holds its own question's fields (the question has the forecast's id: every
        -- forecast before this migration, and each new question recorded with its first forecast),
        -- of shape 2 it names a question recorded before (question_id); a resolution of shape 1
        -- names forecast_id (before this migration), of shape 2 question_id. `subject_id` is the
        -- question or forecast the entry is about.
        CREATE TABLE entries_v4 (
            seq INTEGER PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('question', 'forecast', 'resolution')),
            shape INTEGER NOT NULL CHECK (shape IN (1, 2) AND (shape = 2 OR kind <> 'question')),
            subject_id TEXT NOT NULL,
            resolution_id INTEGER,
            payload TEXT NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL,
            CHECK ((kind = 'resolution') = (resolution_id IS NOT NULL))
        );
        INSERT INTO entries_v4 SELECT seq, kind, 1, forecast_id, resolution_id, payload, prev_hash, hash
            FROM entries ORDER BY seq;

        DROP TABLE entries;
        DROP TABLE forecast_tags;
        DROP TABLE resolutions;
        DROP TABLE forecasts;
        DROP TABLE documents;
        ALTER TABLE documents_v4 RENAME TO documents;
        ALTER TABLE forecasts_v4 RENAME TO forecasts;
        ALTER TABLE resolutions_v4 RENAME TO resolutions;
        ALTER TABLE entries_v4 RENAME TO entries;

        -- History is append-only. These stop accidents and casual edits; `verify` catches the rest.
        CREATE TRIGGER entries_no_update BEFORE UPDATE ON entries
            BEGIN SELECT RAISE(ABORT, 'entries are append-only'); END;
        CREATE TRIGGER entries_no_delete BEFORE DELETE ON entries
            BEGIN SELECT RAISE(ABORT, 'entries are append-only'); END;
        CREATE TRIGGER resolutions_no_update BEFORE UPDATE ON resolutions
            BEGIN SELECT RAISE(ABORT, 'resolutions are append-only: record a correction'); END;
        CREATE TRIGGER resolutions_no_delete BEFORE DELETE ON resolutions
            BEGIN SELECT RAISE(ABORT, 'resolutions are append-only: record a correction'); END;
        CREATE TRIGGER questions_no_delete BEFORE DELETE ON questions
            BEGIN SELECT RAISE(ABORT, 'questions are never deleted: resolve one as annulled'); END;
        CREATE TRIGGER questions_no_edit BEFORE UPDATE OF
            id, question, resolution_criteria, deadline, deadline_text, deadline_assumed, recorded_at ON questions
            BEGIN SELECT RAISE(ABORT, 'a recorded question cannot be changed'); END;
        CREATE TRIGGER question_tags_no_change BEFORE DELETE ON question_tags
            BEGIN SELECT RAISE(ABORT, 'tags are part of the recorded question'); END;
        CREATE TRIGGER question_tags_no_update BEFORE UPDATE ON question_tags
            BEGIN SELECT RAISE(ABORT, 'tags are part of the recorded question'); END;
        CREATE TRIGGER forecasts_no_delete BEFORE DELETE ON forecasts
            BEGIN SELECT RAISE(ABORT, 'forecasts are never deleted: resolve one as annulled'); END;
        CREATE TRIGGER forecasts_no_edit BEFORE UPDATE OF
            id, question_id, source, source_kind, document_id, claim, quote, made_on, probability,
            probability_basis, phrase, note, recorded_at ON forecasts
            BEGIN SELECT RAISE(ABORT, 'a recorded forecast cannot be changed'); END;
        CREATE TRIGGER documents_no_change BEFORE UPDATE ON documents
            BEGIN SELECT RAISE(ABORT, 'documents are content-addressed and never change'); END;
        -- A rule between two tables, which a CHECK cannot state: no forecast after its question's deadline.
        CREATE TRIGGER forecasts_made_by_deadline BEFORE INSERT ON forecasts
            WHEN NEW.made_on > (SELECT deadline FROM questions WHERE id = NEW.question_id)
            BEGIN SELECT RAISE(ABORT, 'forecasts: made after its question''s deadline'); END;

        -- One row per forecast with a share of its pair's days on a question resolved yes or no,
        -- outcome as 0/1: what every score is computed from (weighted sums; docs/scoring.md).
        CREATE VIEW scored AS
            SELECT f.id, f.question_id, f.source, f.probability, f.weight,
                   CASE q.outcome WHEN 'yes' THEN 1 ELSE 0 END AS outcome,
                   f.made_on, q.deadline, q.resolved_on, f.probability_basis, f.phrase, f.document_id
            FROM forecasts f JOIN questions q ON q.id = f.question_id
            WHERE q.outcome IN ('yes', 'no') AND f.weight > 0;
        """,
    )
    for statement in SECONDARY_INDEXES.values():
        db.execute(statement)


@migrations()
def m005_full_text_and_status(db: Database) -> None:
    """Datasette (issue 13): a full-text index it finds by itself, `claim` in `scored`, and a view
    with each forecast's status to facet by.

    The FTS5 tables are external-content tables named as sqlite-utils names them (fts.FULL_TEXT;
    a test compares), filled here from the rows there are; the tool keeps them current in every
    write (writer.Writer). The chain is untouched, so the head does not change.

    `claim` is what the tool shows for a forecast (store.TrackedForecast.claim: its own claim, else
    its question's wording, else the claim of the question's first forecast that has one; a test
    compares). The status column is the library's rule in SQL (model.status_sql) as of the day the
    view is read, in local time as `predictions list` takes it: so the view's text is derived from
    that rule, and a change to the rule needs a migration that re-creates the view (verify reports
    the old view as differing until then).
    """
    from .model import status_sql  # the rule's one SQL form

    claim = """coalesce(f.claim, q.question, (SELECT o.claim FROM forecasts o
                   WHERE o.question_id = f.question_id AND o.claim IS NOT NULL ORDER BY o.rowid LIMIT 1))"""
    _run_script(
        db,
        f"""
        CREATE VIRTUAL TABLE [forecasts_fts] USING FTS5 (
            [claim], [quote],
            content=[forecasts]
        );
        INSERT INTO forecasts_fts (forecasts_fts) VALUES ('rebuild');
        CREATE VIRTUAL TABLE [questions_fts] USING FTS5 (
            [question], [resolution_criteria],
            content=[questions]
        );
        INSERT INTO questions_fts (questions_fts) VALUES ('rebuild');

        DROP VIEW scored;
        -- As in m004, with the forecast's claim as the tool shows it added at the end.
        CREATE VIEW scored AS
            SELECT f.id, f.question_id, f.source, f.probability, f.weight,
                   CASE q.outcome WHEN 'yes' THEN 1 ELSE 0 END AS outcome,
                   f.made_on, q.deadline, q.resolved_on, f.probability_basis, f.phrase, f.document_id,
                   {claim} AS claim
            FROM forecasts f JOIN questions q ON q.id = f.question_id
            WHERE q.outcome IN ('yes', 'no') AND f.weight > 0;

        -- One row per forecast with its status today (open, due or resolved): what to facet by.
        CREATE VIEW forecast_status AS
            SELECT f.id, f.question_id, f.source, {claim} AS claim, f.probability, f.made_on, q.deadline,
                   {status_sql("date('now', 'localtime')")} AS status,
                   q.outcome, q.resolved_on
            FROM forecasts f JOIN questions q ON q.id = f.question_id;
        """,
    )


def known_names() -> list[str]:
    """Names of every migration this version knows, in order."""
    return [m.name for m in migrations._migrations]
