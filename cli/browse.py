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
@click.option("--questions", "by_question", is_flag=True,
              help="List questions (one line each, with how many forecasts and sources) instead of forecasts.")
@wide_option
@json_option
@click.pass_context
def list_(ctx, status, source, tag, by_question, wide, as_json):
    """List forecasts (or, with --questions, questions), soonest deadline first."""
    day = today(ctx)
    with open_ledger(ctx) as ledger:
        if by_question:
            rows = ledger.questions(status=status, source=source, tag=tag, today=day)
            if as_json:
                print_json_array(q.to_record() for q in rows)
            else:
                echo_lines(render.question_lines(rows, day, width=render.terminal_width(wide)))
            return
        _listed(ledger.iter_forecasts(status=status, source=source, tag=tag, today=day), day, as_json,
                "No forecasts match.", wide)  # fmt: skip


@click.command()
@click.argument("forecast_id", metavar="ID")
@json_option
@click.pass_context
def show(ctx, forecast_id, as_json):
    """Tell the whole story of one forecast and its question (ID may be any unique prefix of a
    forecast's or a question's id; a question shows its first forecast)."""
    day = today(ctx)
    with open_ledger(ctx) as ledger:
        tracked = ledger.get(forecast_id, today=day)
        question = ledger.get_question(tracked.question.id, today=day)
    if as_json:  # the forecast's export record (its question's fields and history) and every forecast on the question
        print_json({**tracked.to_record(), "forecasts": [f.to_record() for f in question.forecasts]})
    else:
        click.echo(render.forecast_story(tracked, day, question))


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
    """Every resolution and correction of one question (named by its id or any of its forecasts'), oldest first."""
    with open_ledger(ctx) as ledger:
        tracked = ledger.get_question(forecast_id, today=today(ctx))
    if as_json:
        print_json([r.to_record() for r in tracked.history])
    elif not tracked.history:
        click.echo(f"{tracked.id} has not been resolved.")
    else:
        click.echo("\n".join(render.history_lines(tracked.history)))


COMMANDS = (list_, show, due, history)
