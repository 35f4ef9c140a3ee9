"""Commands that prove the ledger is intact: verify, head, backup."""

from __future__ import annotations

import click

from predictions import escape_terminal, plural

from .options import FilePath, json_option, log_option, logged, note, open_ledger, print_json, usage_errors_for


@click.command()
@click.option("--contains", metavar="HASH",
              help="Also check that a head hash published earlier is in the chain: everything up to it is unchanged.")
@json_option
@log_option("For a cron log: start each line of the outcome, and the error line, with the UTC time.")
@click.pass_context
def verify(ctx, contains, as_json, log):
    """Recompute the hash chain and check every forecast and resolution against it.

    Exits 1 and names the first broken entry and what differs if anything was changed,
    deleted or reordered behind the ledger's back.
    """
    def failed(problem):  # each finding as soon as it is found: a schema change before the long steps
        click.echo(escape_terminal(logged(f"FAILED {problem}")))

    with open_ledger(ctx) as ledger, usage_errors_for({"contains": ("--contains", "")}):
        result = ledger.verify(contains=contains, on_problem=None if as_json else failed)
    if as_json:
        print_json(result.to_json())
    elif result.problems:
        pass  # printed as they were found (the findings are the result: stdout; stderr gets the one-line error)
    elif result.contains_found is False:
        click.echo(logged(f"FAILED the hash {result.contains} is not in this ledger's chain"))
    else:
        found = ", and it contains the published hash" if result.contains else ""
        click.echo(escape_terminal(logged(
            f"OK: {_entries_check_out(result.entries)} ({_questions(result.entries - result.forecasts - result.resolutions)}{plural(result.forecasts, 'forecast')}, "
            f"{plural(result.resolutions, 'resolution or correction', 'resolutions and corrections')}){found}; head {result.head}"
        )))  # fmt: skip
    if not result.ok:
        if not as_json:
            first = result.problems[0] if result.problems else f"published hash {result.contains} not found"
            raise click.ClickException(f"verification failed: {first}")
        ctx.exit(1)


def _entries_check_out(entries: int) -> str:
    if entries == 1:
        return "the 1 chain entry checks out"
    return f"all {entries} chain entries check out" if entries else "the chain has no entries yet"


def _questions(count: int) -> str:
    """The entries of questions recorded on their own (shared by several forecasts, m004 on), so
    the parts add up to the entries; where every question rides in its forecast's entry, none."""
    return f"{plural(count, 'question')}, " if count else ""


@click.command()
@json_option
@click.pass_context
def head(ctx, as_json):
    """Print the chain's current hash: publish it to commit to everything recorded so far.

    Later, `predictions verify --contains HASH` shows the ledger still holds exactly what it
    held when HASH was published.
    """
    with open_ledger(ctx) as ledger:
        current = ledger.head()
        count = ledger.count()
    if as_json:
        print_json({"hash": current.hash, "entries": current.seq, "forecasts": count, "recorded_at": current.recorded_at})
    else:
        click.echo(escape_terminal(current.hash))
        note(escape_terminal(f"entry {current.seq} of the chain, {plural(count, 'forecast')}, last recorded {current.recorded_at or '-'}"))


@click.command()
@click.argument("path", type=FilePath(dir_okay=False))
@click.pass_context
def backup(ctx, path):
    """Copy the ledger to PATH with SQLite's online backup: consistent even while others write.

    PATH must not exist; the copy appears there only once complete.
    """
    with open_ledger(ctx) as ledger:
        target = ledger.backup(path)
    note(f"Backed up {ledger.path} to {target}")


@click.command()
@click.pass_context
def upgrade(ctx):
    """Bring a ledger written by an older version up to this version's schema.

    Every command upgrades an older ledger once where it can write the file; a command that only
    reads (list, verify, export, report...) and cannot write it (another user's ledger, a full
    disk) refuses it and says to run this where the file can be written.
    """
    with open_ledger(ctx, write=True) as ledger:
        current = ledger.head()
    note(f"{ledger.path} is up to date (chain head {current.hash})")


COMMANDS = (verify, head, backup, upgrade)
