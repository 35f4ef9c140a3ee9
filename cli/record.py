"""Commands that change what the ledger says: add and resolve."""

from __future__ import annotations

import contextlib

import click

from predictions import OUTCOMES, PROBABILITY_BASES, SOURCE_KINDS, ValidationError

from .options import DATE, json_option, open_ledger, print_json, today

# The record fields whose option has another name: a refusal names both, so the user knows what to type.
ADD_OPTIONS = {"deadline_text": "--within", "resolution_criteria": "--criteria", "probability_basis": "--basis",
               "tags": "--tag", "made_on": "--made-on", "source_kind": "--source-kind",
               "document.url": "--document-url", "document.title": "--title", "document.author": "--author",
               "document.outlet": "--outlet", "deadline_assumed": "--assumed-deadline",
               "question": "--question-text", "question_id": "--question"}  # fmt: skip
RESOLVE_OPTIONS = {"resolved_on": "--on", "correction_reason": "--correct", "early_reason": "--early-reason",
                   "recorded_by": "--by"}


@contextlib.contextmanager
def naming_options(options: dict[str, str]):
    """Refusals say `field early_reason (--early-reason): ...`: the record's field and the option."""
    try:
        yield
    except ValidationError as exc:
        if exc.field not in options:
            raise
        raise ValidationError(f"{exc.field} ({options[exc.field]})", exc.message, exc.where) from None


@click.command()
@click.option("--source", required=True, help="Who made the forecast: an outlet, a person or an organisation.")
@click.option("--source-kind", type=click.Choice(SOURCE_KINDS), help="What kind of source it is.")
@click.option("--question", "question_id", metavar="ID",
              help="Add this forecast to an existing question (its id, or any of its forecasts' ids; a unique "
                   "prefix will do): another source's forecast, or an update. Its criteria and deadline are the question's.")
@click.option("--claim", help="What is predicted, in one plain sentence (required for a new question).")
@click.option("--criteria", help="Resolution criteria: what counts as YES, as NO, and what evidence settles it "
                                 "(required for a new question).")
@click.option("--quote", help="The source's words, verbatim.")
@click.option("--question-text", help="The question's wording: the claim as a yes/no question a stranger could settle.")
@click.option("--made-on", type=DATE, required=True, help="When the forecast was made or published (YYYY-MM-DD); may be long ago.")
@click.option("--deadline", type=DATE, help="Last day it may come true, inclusive (YYYY-MM-DD).")
@click.option("--within", "deadline_text", metavar="TEXT",
              help='The deadline as worded, counted from --made-on: "18 months", "by the end of 2027", "by Q3 2026"... '
                   'Given with --deadline, the date must be the wording\'s, or marked --assumed-deadline.')
@click.option("--assumed-deadline", is_flag=True,
              help="The --deadline is an editorial choice, not the source's words (which --within may keep, "
                   "such as \"by early 2028\").")
@click.option("--probability", type=float, help="Probability it comes true, 0 to 1.")
@click.option("--phrase", help='The hedge used ("likely", "will"...): sets the probability from the hedge scale.')
@click.option("--basis", type=click.Choice(PROBABILITY_BASES),
              help="Where the probability comes from (default: verbal when it is the --phrase's value on the hedge scale, else assigned).")
@click.option("--document-url", help="Where the forecast was published.")
@click.option("--title", help="Title of the document it appeared in.")
@click.option("--author", help="Author of the document.")
@click.option("--outlet", help="Outlet that published the document.")
@click.option("--tag", "tags", multiple=True, help="A tag (repeatable): letters (lower-cased), digits, '.', '_', '-'.")
@click.option("--note", help="An editorial note (why a deadline was assumed, caveats).")
@click.option("--id", "forecast_id", help="Choose the id (default: derived from the content).")
@json_option
@click.pass_context
def add(ctx, source, source_kind, question_id, claim, criteria, quote, question_text, made_on, deadline, deadline_text,
        assumed_deadline, probability, phrase, basis, document_url, title, author, outlet, tags, note,
        forecast_id, as_json):  # fmt: skip
    """Record a forecast and print its id.

    Without --question, the forecast comes with its own new question (which takes the
    forecast's id): give --claim, --criteria, and the deadline as a date (--deadline) or as
    worded (--within), or both when the wording has no agreed last day and the date is your
    choice (--assumed-deadline). With --question ID, it is a forecast on that question: another
    source's, or the same source's update. Give the probability as a number (--probability) or
    as the hedge the source used (--phrase).

    \b
    Example:
      predictions add --source "The Economist" --made-on 2026-05-12 \\
        --claim "Brent crude closes above $100" --within "by the end of 2026" \\
        --criteria "YES if any daily Brent close exceeds $100 (EIA data); NO otherwise." \\
        --phrase likely --tag oil
    """
    if question_id is None:
        for value, option in ((claim, "--claim"), (criteria, "--criteria")):
            if value is None:
                raise click.UsageError(f"give {option} (or add to an existing question with --question ID)")
        if deadline is None and deadline_text is None:
            raise click.UsageError("give a deadline: --deadline DATE or --within TEXT")
    if probability is None and phrase is None:
        raise click.UsageError("give a probability: --probability P or --phrase TEXT")
    document = {"url": document_url, "title": title, "author": author, "outlet": outlet}
    with open_ledger(ctx, create=True) as ledger, naming_options(ADD_OPTIONS):
        forecast = ledger.add(
            source=source, source_kind=source_kind, claim=claim, resolution_criteria=criteria,
            quote=quote, question=question_id, question_text=question_text, made_on=made_on, deadline=deadline,
            deadline_text=deadline_text, deadline_assumed=assumed_deadline, probability=probability,
            phrase=phrase, probability_basis=basis,
            document={k: v for k, v in document.items() if v is not None} or None,
            tags=tags, note=note, id=forecast_id, today=today(ctx),
        )  # fmt: skip
        added = ledger.get(forecast.id, today=today(ctx)) if as_json else None
    if added is not None:  # the shape `list --json` prints (with `id` and `question_id`)
        print_json(added.to_record())
    else:
        click.echo(forecast.id)


@click.command()
@click.argument("forecast_id", metavar="ID")
@click.argument("outcome", type=click.Choice(OUTCOMES), metavar="OUTCOME")
@click.option("--on", "resolved_on", type=DATE, required=True,
              help="When the outcome happened or became certain (not when you record it; that is kept automatically).")
@click.option("--evidence", required=True, help="What settles it: a source, a figure, a quote with its origin.")
@click.option("--note", help="Anything else worth keeping.")
@click.option("--correct", "correction", metavar="REASON",
              help="Required to resolve again: records a correction, keeping the earlier resolution in the history.")
@click.option("--early-reason", metavar="REASON",
              help="Required to resolve NO before the deadline: why it can no longer come true. "
                   "Refused with any other outcome or date.")
@click.option("--by", envvar="PREDICTIONS_USER", help="Who is recording this (or set PREDICTIONS_USER).")
@json_option
@click.pass_context
def resolve(ctx, forecast_id, outcome, resolved_on, evidence, note, correction, early_reason, by, as_json):
    """Record the outcome of question ID: the question's id or any of its forecasts' ids (any
    unique prefix of one). It settles every forecast on the question.

    OUTCOME is yes or no (scored), or ambiguous or annulled (counted apart, never scored).
    Resolutions are append-only: changing one needs --correct REASON, and the history stays.
    """
    with open_ledger(ctx, write=True) as ledger, naming_options(RESOLVE_OPTIONS):
        resolution = ledger.resolve(
            forecast_id, outcome, on=resolved_on, evidence=evidence, note=note,
            correction=correction, early_reason=early_reason, by=by, today=today(ctx),
        )  # fmt: skip
    if as_json:
        print_json(resolution.to_record())
    else:
        kind = "corrected to" if correction else "resolved"
        click.echo(f"{resolution.question_id} {kind} {resolution.outcome} on {resolution.resolved_on}")


COMMANDS = (add, resolve)
