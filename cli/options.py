"""Options and helpers shared by the commands: the ledger, --json, --today, date parsing."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import tempfile
from pathlib import Path
from typing import Any, Iterable, Iterator

import click

from predictions import Ledger, ValidationError, escape_json, parse_date


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
def open_ledger(ctx: click.Context, *, create: bool = False) -> Iterator[Ledger]:
    """The ledger named by --db, closed afterwards. Commands that only read never create one.

    A command that creates the ledger and then fails (a bad record, say) removes the file it
    created, so that an error leaves the disk as it was: no ledger before, no ledger after.
    """
    path = Path(ctx.find_root().obj["db"])
    fresh = create and not path.exists() and not path.is_symlink()
    ledger = Ledger(path, create=create)
    try:
        yield ledger
    except BaseException:
        if fresh:
            _remove_if_empty(ledger)
        raise
    finally:
        ledger.close()


def _remove_if_empty(ledger: Ledger) -> None:
    """Delete a ledger this process just created, if nothing has been written to it since."""
    try:
        empty = ledger.head().seq == 0
    except Exception:  # an unreadable new file is no one's data either
        empty = True
    ledger.close()
    if empty:
        for suffix in ("", "-wal", "-shm", "-journal"):
            with contextlib.suppress(OSError):
                os.unlink(f"{ledger.path}{suffix}")


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
    click.echo(message, err=True)


def _mode_for(path: Path) -> int:
    """The existing file's permissions, or for a new file 0666 less the umask."""
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _naming(exc: OSError, path: Path) -> OSError:
    """The same error about the user's file: the temporary file's name is ours, not theirs."""
    return type(exc)(exc.errno, exc.strerror, str(path))


@contextlib.contextmanager
def atomic_output(path: Path):
    """Write beside the target and rename over it, so a failed export leaves no half file.

    An error about the temporary file (a missing folder, no permission) names the target path.
    """
    try:
        handle = tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", newline="", dir=path.parent or ".", prefix=f".{path.name}.", delete=False
        )
    except OSError as exc:
        raise _naming(exc, path) from None
    try:
        with handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())  # the bytes reach the disk before the name points at them
        # The temporary file is private (0600); give the result the mode a plain open() would.
        os.chmod(handle.name, _mode_for(path))
        os.replace(handle.name, path)
    except OSError as exc:
        if exc.filename != handle.name:
            raise
        raise _naming(exc, path) from None
    finally:
        if os.path.exists(handle.name):
            os.unlink(handle.name)
