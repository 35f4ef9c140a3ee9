"""Commands that move forecasts in and out: import, export, seed."""

from __future__ import annotations

import contextlib
import io
import os
import sys
from pathlib import Path

import click

from predictions import (
    EXPORT_EXTENSIONS, EXPORT_FORMATS, IMPORT_PLATFORMS, escape_terminal, format_of, plural, read_records, read_seeds,
    rebuild_ledger, write_output, write_records,
)  # fmt: skip

from .options import (
    FilePath, checked_output, chosen_format, echo_lines, json_option, note, open_ledger, print_json, today,
)  # fmt: skip

MAX_DIFFERENCES_SHOWN = 20


def _summary(summary, as_json: bool, what: str) -> None:
    if as_json:
        print_json(summary.to_json())
        return
    parts = [plural(summary.forecasts, "forecast")]
    if summary.platform:
        parts.append(plural(summary.questions, "new question"))
    parts.append(plural(summary.resolutions, "resolution"))
    if summary.corrections:
        parts.append(plural(summary.corrections, "correction"))
    counted = f"{', '.join(parts[:-1])} and {parts[-1]}"
    origin = f" from {summary.platform_name}" if summary.platform else ""
    lines = [f"{what} {counted}{origin}; chain head {summary.head}"]
    if summary.skipped_existing:
        lines.append(f"skipped {plural(summary.skipped_existing, 'forecast')} already in the ledger")
    lines.extend(summary.skipped_lines())
    for difference in summary.differs[:MAX_DIFFERENCES_SHOWN]:
        lines.append(f"{difference.where}: {difference.id}: {difference.reason}")
    hidden = summary.differs_total - min(len(summary.differs), MAX_DIFFERENCES_SHOWN)
    if hidden > 0:
        listed = "them all" if summary.differs_total == len(summary.differs) else f"the first {len(summary.differs)}"
        lines.append(f"... and {hidden} more kept as recorded (--json lists {listed})")
    echo_lines(escape_terminal(line) for line in lines)


@click.command("import")
@click.argument("files", nargs=-1, required=True, metavar="FILE...", type=FilePath(exists=True, dir_okay=False))
@click.option("--from", "platform", type=click.Choice(IMPORT_PLATFORMS),
              help="Read a platform's export instead of the project's own format (docs/import.md); "
                   "manifold takes the market and its bets in one file or two.")
@click.option("--format", "fmt", type=click.Choice(EXPORT_FORMATS), help="Default: from the file name (.jsonl, .json, .csv).")
@click.option("--source", help="With --from: the forecaster's name for a single-person export.")
@click.option("--skip-existing", is_flag=True,
              help="Skip records already in the ledger with the same content (counted); one whose id is "
                   "there with other content is refused. Always so with --from.")
@json_option
@click.pass_context
def import_(ctx, files, platform, fmt, source, skip_existing, as_json):
    """Add every forecast in FILE, all or nothing.

    FILE holds records with the keys `export` writes (outcome, resolved_on and evidence are
    optional; so is the id, derived from the content when missing). One bad record and nothing
    is written: the error names FILE:LINE and the field.

    \b
    From a platform (re-importing a newer export adds only what is new):
      predictions import --from fatebook fatebook-export.csv
      predictions import --from manifold market.json bets.json
    """
    if platform is None:
        if source is not None:
            raise click.UsageError("--source is for --from PLATFORM; the project's own records name their sources")
        if len(files) != 1:
            raise click.UsageError(f"give one FILE, not {len(files)} (two only with --from manifold)")
        format_of(files[0], fmt)  # an unknown file type is refused before any ledger is created
    elif fmt is not None:
        raise click.UsageError("--format is for the project's own formats; --from names the platform's")
    elif len(files) > (2 if platform == "manifold" else 1):
        raise click.UsageError(f"--from {platform} reads one FILE, not {len(files)}"
                               + (" (manifold: the market and its bets, one file or two)" if platform == "manifold" else ""))
    with open_ledger(ctx, create=True) as ledger, _progress(sum(os.path.getsize(f) for f in files)) as update:
        if platform is not None:
            summary = ledger.import_platform(platform, list(files), source=source, progress=update, today=today(ctx))
        else:
            records = read_records(files[0], fmt, progress=update)
            summary = ledger.import_records(records, today=today(ctx), skip_existing=skip_existing)
    _summary(summary, as_json, "Imported")


@contextlib.contextmanager
def _progress(length: int):
    """A progress bar on stderr when it is a terminal; silence otherwise (logs, pipes, cron)."""
    stream = sys.stderr
    if not stream.isatty():
        yield None
        return
    with click.progressbar(length=length, label="Importing", file=stream) as bar:
        yield bar.update


@click.command()
@click.option("--format", "fmt", type=click.Choice(EXPORT_FORMATS),
              help="jsonl: one record a line; json: one array; csv: document.* columns, tags comma-separated, "
                   "resolutions as JSON. Default: from the -o file name (.jsonl, .json, .csv), else jsonl.")
@click.option("-o", "--output", type=FilePath(dir_okay=False),
              help="Write to this file instead of stdout (replaced whole once complete; never the ledger or a special file).")
@click.pass_context
def export(ctx, fmt, output):
    """Write every forecast with its outcome and full resolution history.

    The output imports into a new ledger without losing a record (`predictions --db new.db import
    FILE`); the chain is rebuilt in import order, so to keep it as it is, copy with `backup`.
    """
    fmt = chosen_format(ctx, output, fmt, EXPORT_EXTENSIONS, "jsonl")
    if output is not None:
        checked_output(ctx, output)
    with open_ledger(ctx) as ledger:
        records = ledger.export_records(today=today(ctx))
        if output is None:
            _write_stdout(records, fmt)
            return
        with write_output(output, protect=[ledger.path]) as out:
            count = write_records(records, out, fmt)
    note(f"Exported {plural(count, 'forecast')} to {output}")


def _write_stdout(records, fmt: str) -> None:
    """Export files are UTF-8 with "\n" line ends whatever the terminal's locale says."""
    sys.stdout.flush()
    out = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="")
    try:
        write_records(records, out, fmt)
        out.flush()
    finally:
        out.detach()  # leave sys.stdout open


@click.command()
@click.argument("paths", nargs=-1, type=FilePath(exists=True))
@click.option("--rebuild", is_flag=True,
              help="Build a new ledger from the seeds and replace the --db file with it (atomically). "
                   "The file must be a ledger or absent; do not rebuild one others are writing.")
@json_option
@click.pass_context
def seed(ctx, paths, rebuild, as_json):
    """Load seed files (TOML, one per article; default: the seeds/ folder).

    \b
    Rebuild the example ledger, deterministically:
      predictions --db ledger.db.example seed --rebuild seeds/
    """
    paths = list(paths) or ["seeds"]
    target = Path(ctx.find_root().obj["db"])
    if not rebuild:
        with open_ledger(ctx, create=True) as ledger:
            summary = ledger.import_records(read_seeds(paths), today=today(ctx))
        _summary(summary, as_json, "Seeded")
        return
    summary = rebuild_ledger(target, paths, today=today(ctx))
    _summary(summary, as_json, f"Rebuilt {target} from")


COMMANDS = (import_, export, seed)
