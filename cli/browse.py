"""Commands that read the ledger: list, show, due, history."""

from __future__ import annotations

import click

from predictions.records import export_record
from predictions.store import STATUSES

from . import render
from .options import json_option, open_ledger, print_json, today


def _records(rows, day):
    return [export_record(t.forecast, list(t.history), day) for t in rows]


@click.command("list")
@click.option("--status", type=click.Choice(STATUSES), default="all", show_default=True,
              help="open: deadline not passed; due: passed and unresolved; resolved; all.")
@click.option("--source", help="Only this source (exact name).")
@click.option("--tag", help="Only forecasts with this tag.")
@json_option
@click.pass_context
def list_(ctx, status, source, tag, as_json):
    """List forecasts, soonest deadline first."""
    day = today(ctx)
    with open_ledger(ctx) as ledger:
        rows = ledger.forecasts(status=status, source=source, tag=tag, today=day)
    if as_json:
        print_json(_records(rows, day))
    else:
        click.echo(render.forecast_table(rows, day))


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
        print_json(_records([tracked], day)[0])
    else:
        click.echo(render.forecast_story(tracked, day))


@click.command()
@json_option
@click.pass_context
def due(ctx, as_json):
    """Forecasts past their deadline and not yet resolved, oldest deadline first."""
    day = today(ctx)
    with open_ledger(ctx) as ledger:
        rows = ledger.due(today=day)
    if as_json:
        print_json(_records(rows, day))
    elif not rows:
        click.echo("Nothing is due.")
    else:
        click.echo(render.forecast_table(rows, day))


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
