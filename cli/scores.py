"""Commands that judge sources: score and report."""

from __future__ import annotations

from pathlib import Path

import click

from predictions.aggregate import GROUPINGS, score_table
from predictions.errors import ValidationError
from predictions.report import PERIOD_KINDS, Period, build_report
from predictions.report_formats import FORMATS, SCORE_LEGEND, render, score_table_json, score_table_text
from predictions.sqlite_file import shown_path

from .options import DATE, FilePath, atomic_output, json_option, note, open_ledger, print_json, today

min_n_option = click.option(
    "--min-n", type=click.IntRange(min=1), metavar="N",
    help="Rank only groups with at least N forecasts resolved yes or no. score hides smaller groups; "
         "report lists them after the ranked ones, unranked (default 5 there).",
)  # fmt: skip
exclude_tag_option = click.option(
    "--exclude-tag", "exclude_tags", multiple=True, metavar="TAG",
    help="Leave forecasts with this tag out of every score (repeatable), e.g. past-at-publication: "
         "forecasts already settled when they were made say nothing about foresight.",
)  # fmt: skip


class PeriodType(click.ParamType):
    """A period a report can cover (2026, 2026-Q3, 2026-10); anything else is a usage error naming the option."""

    name = "period"

    def convert(self, value, param, ctx):
        if isinstance(value, Period):
            return value
        try:
            return Period.parse(value)
        except ValidationError as exc:
            self.fail(exc.message, param, ctx)


def _check_tags(ledger, tags) -> None:
    """A tag left out that no forecast has is most likely a typo: say so, on stderr."""
    for tag in tags:
        if not ledger.has_tag(tag):
            note(f"Note: no forecast has the tag {tag!r}; --exclude-tag {tag} leaves nothing out")


@click.command()
@click.option("--by", type=click.Choice(list(GROUPINGS)), default="source", show_default=True,
              help="Group by source, document author, tag, hedge phrase, probability basis, period resolved, "
                   "or all (one row for the whole ledger).")
@click.option("--since", type=DATE, help="Only forecasts resolved on or after DATE.")
@click.option("--until", type=DATE, help="Only forecasts resolved on or before DATE.")
@min_n_option
@exclude_tag_option
@json_option
@click.pass_context
def score(ctx, by, since, until, min_n, exclude_tags, as_json):
    """Rank groups by Brier score (lower is better) over forecasts resolved yes or no.

    Ambiguous and annulled outcomes are never scored: they are counted in the `excl.` column.
    The 95% interval of each Brier score is analytic (normal approximation); see docs/scoring.md.
    JSON gives every score, including the two-category Brier form (0-2, as Good Judgment Open
    reports it) as `brier_two_category`.
    """
    if since and until and until < since:  # an empty window is surely a slip, not a question
        raise click.BadParameter(f"{until} is before --since {since}", ctx, param_hint="'--until'")
    with open_ledger(ctx) as ledger:
        table = score_table(
            ledger.conn, by=by, since=since, until=until, min_n=min_n or 1, exclude_tags=exclude_tags
        )
        _check_tags(ledger, exclude_tags)
    # --min-n hides the groups too small to judge; the report lists them, unranked, instead.
    if as_json:
        print_json(score_table_json(table, show_unranked=False))
    else:
        click.echo(score_table_text(table, show_unranked=False))
        if table.groups:
            click.echo("\n" + SCORE_LEGEND)


@click.command()
@click.option("--period", type=click.Choice(PERIOD_KINDS), help="Period length (default month, or the form of --for).")
@click.option("--for", "chosen", type=PeriodType(), metavar="PERIOD",
              help="Which period: 2026-10 (month), 2026-Q3 (quarter) or 2026 (year). Default: the latest complete one.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="text for a terminal (with a text chart), md, html (one self-contained file with the chart), or json.")
@click.option("-o", "--output", type=FilePath(dir_okay=False), help="Write to this file instead of stdout.")
@min_n_option
@exclude_tag_option
@click.pass_context
def report(ctx, period, chosen, fmt, output, min_n, exclude_tags):
    """The periodic calibration report: what the period settled and how every source stands.

    Shows forecasts resolved in the period and their scores by source, the leaderboard with
    intervals and counts, the calibration table and reliability diagram, score changes since
    the previous period, what is due now, the deadlines still to come in a period not over yet
    (its header says so), and the deadlines of the next period. Ready for cron:

    \b
      0 6 1 * *  /home/me/.venv/bin/predictions --db /home/me/ledger.db report --format html -o /home/me/reports/latest.html
    """
    day = today(ctx)
    if chosen is not None:
        if period and period != chosen.kind:
            raise click.BadParameter(f"{chosen.label} is a {chosen.kind}, not a {period}", ctx, param_hint="'--for'")
        if chosen.start > day:  # nothing in it can be resolved yet; `list --status open` shows what is coming
            raise click.BadParameter(
                f"{chosen.label} has not started yet (it starts {chosen.start}, today is {day})", ctx, param_hint="'--for'"
            )
    else:
        try:
            chosen = Period.latest_complete(period or "month", day)
        except ValidationError as exc:  # only a --today at the calendar's start gets here
            raise click.BadParameter(f"{exc.message}; name a period with --for", ctx, param_hint="'--today'") from None
    with open_ledger(ctx) as ledger:
        data = build_report(
            ledger.conn, ledger=shown_path(ledger.path), chain_head=ledger.head().hash, period=chosen,
            today=day, min_n=min_n or 5, exclude_tags=exclude_tags,
        )  # fmt: skip
        _check_tags(ledger, exclude_tags)
    text = render(data, fmt)
    if output is None:
        click.echo(text, nl=False)
        return
    with atomic_output(Path(output)) as out:
        out.write(text)
    note(f"Wrote the {chosen.label} report to {output}")


COMMANDS = (score, report)
