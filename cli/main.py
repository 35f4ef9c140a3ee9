"""The `predictions` command: a click group whose commands are thin layers over the library.

Errors are handled in one place (`LedgerGroup.invoke`): the library's LedgerErrors become one
line on stderr and exit 1; click's usage errors keep exit 2; nothing prints a traceback.
"""

from __future__ import annotations

import datetime as dt
import gc
import os
import sys
from collections.abc import MutableMapping

import click

from predictions import LedgerError, escape_terminal, log_stamp

from .options import DATE, FilePath

# Where each command is defined (its module's COMMANDS); a module is imported only when one of its
# commands runs or --help lists them, so `predictions list` does not load the report or import code.
COMMAND_MODULES = {
    "add": "record", "resolve": "record",
    "list": "browse", "show": "browse", "due": "browse", "history": "browse",
    "import": "transfer", "export": "transfer", "seed": "transfer",
    "extract": "extract",
    "verify": "integrity", "head": "integrity", "backup": "integrity", "upgrade": "integrity",
    "score": "scores", "report": "scores",
}  # fmt: skip


class LazyCommands(MutableMapping):
    """A click group's `commands`: every name known at once, each command loaded on first use."""

    def __init__(self, modules: dict[str, str]):
        self._modules = dict(modules)
        self._loaded: dict[str, click.Command] = {}

    def __getitem__(self, name: str) -> click.Command:
        if name not in self._loaded:
            qualified = f"{__package__}.{self._modules[name]}"
            __import__(qualified)  # not importlib.import_module: `python -X importtime` sees this
            module = sys.modules[qualified]
            for command in module.COMMANDS:
                if self._modules.get(command.name) == self._modules[name]:
                    self._loaded.setdefault(command.name, command)
        return self._loaded[name]

    def __setitem__(self, name: str, command: click.Command) -> None:
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        if name not in self:
            raise KeyError(name)
        self._modules.pop(name, None)
        self._loaded.pop(name, None)

    def __contains__(self, name: object) -> bool:  # without loading the command
        return name in self._modules or name in self._loaded

    def __iter__(self):
        return iter(dict.fromkeys([*self._modules, *self._loaded]))

    def __len__(self) -> int:
        return len(dict.fromkeys([*self._modules, *self._loaded]))


def one_line(text: str) -> str:
    """An error message as one line: text quoted in it (input, values from the file) may hold line
    breaks or terminal escapes."""
    return escape_terminal(text)


class LoggedError(click.ClickException):
    """An error while a command logs (`--log`): one line on stderr that starts with the UTC time,
    as the log line does, whatever the error (a usage error too: a cron log gets no usage block)."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code

    def show(self, file=None) -> None:
        click.echo(f"{log_stamp()} Error: {self.message}", err=True)


class LedgerGroup(click.Group):
    def __call__(self, *args, **kwargs):
        """Run as the `predictions` command (its script calls this; CliRunner and library users do not).

        What is loaded by now (click, attrs, the library's classes and functions) lives until the
        process ends, so it is moved out of the collector's sight (`gc.freeze`): the collection at
        interpreter exit, and any during a long command, no longer walk it. About 8 ms of the
        0.08-0.11 s a `list` takes. What the command itself creates is collected as before.
        """
        gc.freeze()
        return super().__call__(*args, **kwargs)

    def invoke(self, ctx: click.Context):
        try:
            return self._invoke(ctx)
        except click.ClickException as exc:
            if not (ctx.obj or {}).get("log"):  # set by a command's --log (options.log_option), parsed first
                raise
            raise LoggedError(one_line(exc.format_message()), exc.exit_code) from None

    def _invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except LedgerError as exc:
            raise click.ClickException(one_line(str(exc))) from None
        except OSError as exc:
            if isinstance(exc, BrokenPipeError):  # `predictions export | head`: the reader left
                sys.stderr.close()
                ctx.exit(1)
            where = f"{exc.filename}: " if exc.filename else ""
            raise click.ClickException(one_line(f"{where}{exc.strerror or exc}")) from None
        except click.ClickException as exc:  # a command's own: it may quote values from the file too
            exc.message = one_line(exc.message)
            raise
        except (click.exceptions.Exit, click.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:  # a bug: still one line, the traceback only on request
            if os.environ.get("PREDICTIONS_DEBUG"):
                raise
            raise click.ClickException(
                one_line(f"unexpected {type(exc).__name__}: {exc} (set PREDICTIONS_DEBUG=1 for the traceback)")
            ) from None


@click.group("predictions", cls=LedgerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    type=FilePath(dir_okay=False),
    envvar="PREDICTIONS_DB",
    default="ledger.db",
    show_default=True,
    help="The ledger file (or set PREDICTIONS_DB). Created by the first command that writes.",
)
@click.option(
    "--today",
    type=DATE,
    default=None,
    help="Treat DATE as today when deciding what is due or in the future (reproducible reports). "
    "Commands that write accept no DATE after the real date.",
)
@click.version_option(package_name="predictions")
@click.pass_context
def cli(ctx: click.Context, db: str, today: dt.date | None):
    """Keep an honest, tamper-evident ledger of forecasts and score who made them.

    Record forecasts with `add` or `import`, settle them with `resolve`, check the hash chain
    with `verify`, and judge sources with `score` and `report`.
    """
    ctx.obj = {"db": db, "today": today or dt.date.today()}


cli.commands = LazyCommands(COMMAND_MODULES)
