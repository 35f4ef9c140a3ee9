"""The extract command: candidate forecasts in an article, as a draft seed file or as JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from predictions import ValidationError, extract_forecasts, write_output

from .options import DATE, FilePath


@click.command()
@click.argument("file", type=FilePath(dir_okay=False, allow_dash=True))
@click.option("--source", help="Who made the forecasts (default: the document's author or outlet).")
@click.option("--published", type=DATE,
              help="Publication date, YYYY-MM-DD (default: the document's own); every deadline counts from it.")
@click.option("--url", help="Where the article was published (default: the document's own).")
@click.option("--format", "fmt", type=click.Choice(["toml", "json"]), default="toml", show_default=True,
              help="toml: a draft seed file, best candidate first; json: the candidates as a list.")
@click.option("-o", "--output", type=FilePath(dir_okay=False),
              help="Write to this new file instead of stdout (an existing file is never replaced).")
def extract(file, source, published, url, fmt, output):
    """Find the forecasts in FILE (plain text, Markdown or HTML) and draft its seed file.

    Each candidate is a sentence, or a row of a table of projected figures, with its exact words
    and offsets, the horizon and hedge found in it, the cues that fired and its score. The TOML
    draft is refused by `seed` until each question and resolution_criteria has been written.
    FILE - reads standard input.
    """
    article = Path(file) if file != "-" else sys.stdin.buffer
    draft = extract_forecasts(article, source=source, published=published, url=url)
    if fmt == "json":
        rendered = json.dumps(draft.to_json(), ensure_ascii=False, indent=2) + "\n"
    else:
        rendered = draft.to_toml()
    if output is None:
        sys.stdout.flush()
        sys.stdout.buffer.write(rendered.encode("utf-8"))
        sys.stdout.flush()
        return
    _write_new(Path(output), rendered)
    click.echo(f"Wrote {len(draft.candidates)} candidates to {output}", err=True)


def _write_new(path: Path, text: str) -> None:
    """Write the draft whole, as a new file: a draft being edited is never replaced, not even by a
    second extract racing this one (the library's output rules: never the ledger or a special file)."""
    try:
        with write_output(path, protect=[click.get_current_context().find_root().obj["db"]], replace=False) as out:
            out.write(text)
    except FileExistsError:
        raise ValidationError("--output", f"{path} exists: extract never replaces a file (a draft may hold your edits)") from None


COMMANDS = (extract,)
