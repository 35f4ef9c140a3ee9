"""Commands that judge sources: score and report."""

from __future__ import annotations

import datetime as dt

import click

from predictions import (
    PERIOD_KINDS, REPORT_EXTENSIONS, REPORT_FORMATS, SCORE_BY, Period, ValidationError, escape_terminal, write_output,
)  # fmt: skip

from .options import (
    DATE, FilePath, checked_output, chosen_format, json_option, log_option, note, open_ledger, print_json, today,
    usage_errors_for, wide_option,
)  # fmt: skip
from .render import terminal_width

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


def _note_unknown_tags(table) -> None:
    """A tag left out that no forecast has is most likely a typo: say so, on stderr."""
    for tag in table.unknown_tags:
        note(f"Note: no forecast has the tag {tag!r}; --exclude-tag {tag} leaves nothing out")


@click.command()
@click.option("--by", type=click.Choice(SCORE_BY), default="source", show_default=True,
              help="Group by source, document author, tag, hedge phrase, probability basis, period resolved, "
                   "or all (one row for the whole ledger).")
@click.option("--since", type=DATE, help="Only forecasts resolved on or after DATE.")
@click.option("--until", type=DATE, help="Only forecasts resolved on or before DATE.")
@min_n_option
@exclude_tag_option
@wide_option
@json_option
@click.pass_context
def score(ctx, by, since, until, min_n, exclude_tags, wide, as_json):
    """Rank groups by Brier score (lower is better) over forecasts resolved yes or no.

    Ambiguous and annulled outcomes are never scored: they are counted in the `excl.` column.
    `--by all` scores everything together, in one row.
    On a terminal narrower than the table, columns are left out, least important first
    (uncert., resol., reliab., log, skill, yes, excl., 95% CI) and the table says which; --wide
    shows them all. The 95% interval of each Brier score is analytic (normal approximation); see docs/scoring.md.
    JSON gives every score, including the two-category Brier form (0-2, as Good Judgment Open
    reports it) as `brier_two_category`.
    """
    with open_ledger(ctx) as ledger, usage_errors_for({"until": ("--until", "")}):
        table = ledger.score(by=by, since=since, until=until, min_n=min_n or 1, exclude_tags=exclude_tags,
                             today=today(ctx))  # fmt: skip
    _note_unknown_tags(table)
    if as_json:
        print_json(table.to_json())
    else:
        click.echo(table.to_text(terminal_width(wide)))


@click.command()
@click.option("--period", type=click.Choice(PERIOD_KINDS), help="Period length (default month, or the form of --for).")
@click.option("--for", "chosen", type=PeriodType(), metavar="PERIOD",
              help="Which period: 2026-10 (month), 2026-Q3 (quarter) or 2026 (year). Default: the latest complete one.")
@click.option("--format", "fmt", type=click.Choice(REPORT_FORMATS),
              help="text for a terminal (with a text chart), md, html (one self-contained file with the chart), or json. "
                   "Default: from the -o file name (.txt, .md, .html, .json), else text.")
@click.option("-o", "--output", type=FilePath(dir_okay=False),
              help="Write to this file instead of stdout (replaced whole once complete; never the ledger or a special file).")
@min_n_option
@exclude_tag_option
@click.option("--no-verify", "verify", is_flag=True, default=True, flag_value=False,
              help="Skip verifying the hash chain first (faster on a large ledger); the report then says "
                   "in every format that it was not verified.")
@click.option("--label", metavar="NAME",
              help="What the report calls the ledger (default: its file name; never its full path).")
@log_option("Write one line to stderr for a cron log: the UTC time, the ledger, the period, the chain "
            "entries and head it verified, and the file written; an error line starts with the time too.")
@wide_option
@click.pass_context
def report(ctx, period, chosen, fmt, output, min_n, exclude_tags, verify, label, log, wide):
    """The periodic calibration report: what the period settled and how every source stands.

    Shows forecasts resolved in the period and their scores by source, the leaderboard with
    intervals and counts, the calibration table and reliability diagram (overall and per source),
    score changes since the previous period, the Brier score of each of the last 12 months (8
    quarters, 5 years), the corrections, late resolutions and late forecasts recorded since the
    previous period ended that changed earlier figures, what is due now, the deadlines still to come in a period
    not over yet (its header says so), and the deadlines of the next period. With a past --today
    the report reads the ledger as recorded by the end of that day (UTC). The hash chain is verified first:
    a ledger that fails `verify` gets no report (exit 1). Ready for cron: the file is named for
    the month it holds, and the log gets a timestamped line of what was verified, or the error:

    \b
      15 6 1 * *  /home/me/.venv/bin/predictions --db /home/me/ledger.db report --log --label "My ledger" -o /home/me/reports/$(date -d 'last month' +\\%Y-\\%m).html 2>>/home/me/reports/report.log
    """
    if chosen is not None and period and period != chosen.kind:
        raise click.BadParameter(f"{chosen.label} is a {chosen.kind}, not a {period}", ctx, param_hint="'--for'")
    fmt = chosen_format(ctx, output, fmt, REPORT_EXTENSIONS, "text")
    if output is not None:
        checked_output(ctx, output)
    options = {"period": ("--for", ""), "today": ("--today", " with --for"), "label": ("--label", "")}
    with open_ledger(ctx) as ledger, usage_errors_for(options):
        data = ledger.report(chosen, kind=period or "month", today=today(ctx), min_n=min_n or 5,
                             exclude_tags=exclude_tags, verify=verify, label=label)  # fmt: skip
    _note_unknown_tags(data.leaderboard)
    text = data.render(fmt, width=None if output else terminal_width(wide))
    if output is None:
        click.echo(text, nl=False)
    else:
        with write_output(output, protect=[ledger.path]) as out:
            out.write(text)
    if log:
        click.echo(escape_terminal(data.log_line(dt.datetime.now(dt.timezone.utc), output and str(output))), err=True)
    elif output is not None:
        note(f"Wrote the {data.period.label} report to {output}")


COMMANDS = (score, report)
