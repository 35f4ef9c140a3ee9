"""Commands that read the ledger: list, show, due, history."""

from __future__ import annotations

import click

from predictions import STATUSES

from . import render
from .options import echo_lines, json_option, open_ledger, print_json, print_json_array, today, wide_option


def _listed(rows, day, as_json: bool, empty: str, wide: bool) -> None:
    """Forecasts as they are read: a JSON array, or a table (never all of them in memory at once)."""
    if as_json:
        print_json_array(t.to_record() for t in rows)
    else:
        echo_lines(render.forecast_lines(rows, day, empty, width=render.terminal_width(wide)))


@click.command("list")
@click.option("--status", type=click.Choice(STATUSES), default="all", show_default=True,
              help="open: deadline not passed; due: passed and unresolved; resolved; all.")
@click.option("--source", help="Only this source (exact name).")
@click.option("--tag", help="Only forecasts with this tag.")
@wide_option
@json_option
@click.pass_context
def list_(ctx, status, source, tag, wide, as_json):
    """List forecasts, soonest deadline first."""
    day = today(ctx)
    with open_ledger(ctx) as ledger:
        _listed(ledger.iter_forecasts(status=status, source=source, tag=tag, today=day), day, as_json,
                "No forecasts match.", wide)  # fmt: skip


@click.command()
@click.argument("forecast_id", metavar="ID")
@json_option
@click.pass_context
def show(ctx, forecast_id, as_json):
    """Tell the whole story of one forecast (ID may be any unique prefix)."""
    day = today(ctx)
    with open_ledger(ctx) as ledger:
        tracked = ledger.get(forecast_id, today=day)
    if as_json:
        print_json(tracked.to_record())
    else:
        click.echo(render.forecast_story(tracked, day))


@click.command()
@wide_option
@json_option
@click.pass_context
def due(ctx, wide, as_json):
    """Forecasts past their deadline and not yet resolved, oldest deadline first."""
    day = today(ctx)
    with open_ledger(ctx) as ledger:
        _listed(ledger.iter_forecasts(status="due", today=day), day, as_json, "Nothing is due.", wide)


@click.command()
@click.argument("forecast_id", metavar="ID")
@json_option
@click.pass_context
def history(ctx, forecast_id, as_json):
    """Every resolution and correction of one forecast, oldest first."""
    with open_ledger(ctx) as ledger:
        tracked = ledger.get(forecast_id, today=today(ctx))
    if as_json:
        print_json([r.to_record() for r in tracked.history])
    elif not tracked.history:
        click.echo(f"{tracked.id} has not been resolved.")
    else:
        click.echo("\n".join(render.history_lines(tracked.history)))


COMMANDS = (list_, show, due, history)
