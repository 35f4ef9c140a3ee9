"""Options and helpers shared by the commands: the ledger, --json, --today, date parsing, -o."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from pathlib import Path
from typing import Any, Iterable, Iterator

import click

from predictions import Ledger, ValidationError, escape_json, escape_terminal_lines, log_stamp, parse_date


class DateType(click.ParamType):
    """A YYYY-MM-DD date; a bad one is a usage error naming the option."""

    name = "DATE"

    def convert(self, value, param, ctx):
        if isinstance(value, dt.date):
            return value
        try:
            return parse_date(value, param.name if param else "date")
        except ValidationError as exc:
            self.fail(exc.message, param, ctx)


DATE = DateType()


class FilePath(click.Path):
    """click.Path that refuses, as a usage error, names no file system can hold: a NUL byte, or a
    lone surrogate that cannot be encoded (click's own checks let those escape as exceptions)."""

    def convert(self, value, param, ctx):
        if isinstance(value, str):
            if "\x00" in value:
                self.fail(f"{value!r} contains a NUL character", param, ctx)
            try:
                os.fsencode(value)
            except UnicodeEncodeError:
                self.fail(f"{value!r} is not a valid file name", param, ctx)
        return super().convert(value, param, ctx)

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts instead of text.")
wide_option = click.option(
    "--wide", is_flag=True,
    help="Show every column and whole texts on a terminal too (output to a pipe or a file is never cut).",
)  # fmt: skip


@contextlib.contextmanager
def usage_errors_for(options: dict[str, tuple[str, str]]):
    """The library's refusal of one of these fields is a usage error naming its option (exit 2):
    {field: (option, hint added to the message)}."""
    try:
        yield
    except ValidationError as exc:
        if exc.field not in options:
            raise
        option, hint = options[exc.field]
        raise click.BadParameter(exc.message + hint, param_hint=f"'{option}'") from None


def today(ctx: click.Context) -> dt.date:
    return ctx.find_root().obj["today"]


@contextlib.contextmanager
def open_ledger(ctx: click.Context, *, create: bool = False, write: bool = False) -> Iterator[Ledger]:
    """The ledger named by --db, closed afterwards.

    Commands that only read open it read-only (they never create or write it, but upgrade a ledger of
    an older schema once where the file can be written); `write`
    for a command that changes it, `create` for one that may also make a new one (the library
    makes it at the first write, so a refused command leaves no file).
    """
    path = Path(ctx.find_root().obj["db"])
    # A reader upgrades a ledger of an older schema once, where it can write it (after installing a
    # new version, a cron report keeps working); where it cannot, it says how to upgrade.
    with Ledger(path, create=create, read_only=not (create or write), upgrade=True) as ledger:
        yield ledger


def checked_output(ctx: click.Context, path: str, param_hint: str = "'-o' / '--output'") -> None:
    """Refuse an output path the library would refuse (the ledger, a FIFO, ...) as a usage error, at once."""
    from predictions import OutputError, check_output_path  # predictions.files: not loaded by `list`

    try:
        check_output_path(path, protect=[ctx.find_root().obj["db"]])
    except OutputError as exc:
        raise click.BadParameter(str(exc), ctx, param_hint=param_hint) from None


def chosen_format(ctx: click.Context, path: str | None, fmt: str | None, extensions, default: str) -> str:
    """--format, or the format -o's extension names; a contradiction is a usage error."""
    from predictions import OutputError, output_format

    try:
        return output_format(path, fmt, extensions, default)
    except OutputError as exc:
        hint = "'--format'" if exc.option == "format" else "'-o' / '--output'"
        raise click.BadParameter(str(exc), ctx, param_hint=hint) from None


def print_json(value: Any) -> None:
    click.echo(escape_json(value, indent=2))


def print_json_array(items: Iterable[Any]) -> None:
    """What print_json(list(items)) prints, written item by item as they are read."""
    first = True
    for item in items:
        text = escape_json(item, indent=2).replace("\n", "\n  ")
        click.echo(("[\n  " if first else ",\n  ") + text, nl=False)
        first = False
    click.echo("[]" if first else "\n]")


def echo_lines(lines: Iterable[str]) -> None:
    for line in lines:
        click.echo(line)


def note(message: str) -> None:
    """A message for the person at the terminal: stderr, so stdout stays clean for results."""
    click.echo(escape_terminal_lines(logged(message)), err=True)


def log_option(help_text: str):
    """--log: the command writes for a cron log. Parsed before the other options (eager), so that
    an error in any of them is logged too: every line then starts with the UTC time (`logged`;
    errors: main.LoggedError)."""

    def start(ctx: click.Context, _param, value: bool) -> bool:
        if value:
            ctx.find_root().obj["log"] = True
        return value

    return click.option("--log", "log", is_flag=True, is_eager=True, expose_value=True, callback=start, help=help_text)


def logged(message: str) -> str:
    """`message` with each line starting with the UTC time, while the command logs (--log)."""
    ctx = click.get_current_context(silent=True)
    if ctx is None or not (ctx.find_root().obj or {}).get("log"):
        return message
    stamp = log_stamp()
    return "\n".join(f"{stamp} {line}" for line in message.split("\n"))
