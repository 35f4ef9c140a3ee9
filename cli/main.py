"""The `predictions` command: a click group whose commands are thin layers over the library.

Errors are handled in one place (`LedgerGroup.invoke`): the library's LedgerErrors become one
line on stderr and exit 1; click's usage errors keep exit 2; nothing prints a traceback.
"""

from __future__ import annotations

import datetime as dt
import os
import sys

import click

from predictions import LedgerError, escape_terminal

from . import browse, extract, integrity, record, scores, transfer
from .options import DATE, FilePath


def one_line(text: str) -> str:
    """An error message as one line: text quoted in it (input, values from the file) may hold line
    breaks or terminal escapes."""
    return escape_terminal(text)


class LedgerGroup(click.Group):
    def invoke(self, ctx: click.Context):
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


for module in (record, browse, transfer, extract, integrity, scores):
    for command in module.COMMANDS:
        cli.add_command(command)
