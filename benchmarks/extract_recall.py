"""Recall and precision of `predictions extract` against forecasts written down by hand.

Two sets: the five source articles (../shared/articles) against seeds/, and the small articles
of tests/fixtures/extract/ against their expected.toml, written for this measure and never
tuned on. A forecast is found when one candidate's quote covers at least half of the
characters of its quote (a quote of excerpts joined by " […] " counts each excerpt where it
best overlaps the candidate). A candidate is a hit when it finds at least one forecast.
A found forecast's deadline is recovered when the candidate gives the same date (checked only
where the forecast's deadline is the article's own wording, not an assumed one) and its
probability when the candidate gives the same number.

    python benchmarks/extract_recall.py            # both sets, misses by name
    python benchmarks/extract_recall.py --json
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
import tomllib
from pathlib import Path

from predictions import extract_forecasts

REPO = Path(__file__).resolve().parents[1]
ARTICLES = REPO.parent / "shared" / "articles"
SEEDS = REPO / "seeds"
FIXTURES = REPO / "tests" / "fixtures" / "extract"
GAP = " […] "


def _occurrences(text: str, excerpt: str) -> list[int]:
    found, at = [], text.find(excerpt)
    while at >= 0:
        found.append(at)
        at = text.find(excerpt, at + 1)
    return found


def covered(text: str, quote: str, start: int, end: int) -> tuple[int, int]:
    """(characters of `quote` inside text[start:end], characters of `quote`), excerpt by excerpt."""
    total = inside = 0
    for excerpt in quote.split(GAP):
        total += len(excerpt)
        inside += max((max(0, min(end, at + len(excerpt)) - max(start, at)) for at in _occurrences(text, excerpt)),
                      default=0)
    return inside, total


def score_article(draft, expected: list[dict]) -> dict:
    """Matches of one article's candidates against its expected forecasts."""
    text, candidates = draft.text, draft.candidates
    hits: set[int] = set()
    rows = []
    for forecast in expected:
        matched, best = None, 0.0
        for index, candidate in enumerate(candidates):
            inside, total = covered(text, forecast["quote"], candidate.start, candidate.end)
            if total and 2 * inside >= total:
                hits.add(index)
                if inside / total > best:  # the candidate that covers most of it speaks for it
                    matched, best = candidate, inside / total
        row = {"id": forecast["id"], "found": matched is not None}
        if matched is not None and forecast.get("deadline") and not forecast.get("deadline_assumed"):
            row["deadline"] = matched.deadline == forecast["deadline"]
        if matched is not None and forecast.get("probability") is not None:
            row["probability"] = matched.probability == forecast["probability"]
        rows.append(row)
    return {"forecasts": rows, "candidates": len(candidates), "hits": len(hits)}


def seed_set() -> list[tuple[str, Path, dt.date, list[dict]]]:
    cases = []
    for path in sorted(SEEDS.glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        document = data["document"]
        cases.append((path.name, ARTICLES / document["file"], document["published_on"], data["forecasts"]))
    return cases


def fixture_set() -> list[tuple[str, Path, dt.date, list[dict]]]:
    data = tomllib.loads((FIXTURES / "expected.toml").read_text(encoding="utf-8"))
    return [(a["file"], FIXTURES / a["file"], a["published"], a["forecasts"]) for a in data["article"]]


def measure(cases) -> dict:
    articles, seconds = [], 0.0
    for name, path, published, expected in cases:
        began = time.perf_counter()
        draft = extract_forecasts(path, published=published)
        seconds += time.perf_counter() - began
        articles.append({"name": name, **score_article(draft, expected)})
    rows = [row for article in articles for row in article["forecasts"]]
    found = [row for row in rows if row["found"]]
    candidates = sum(a["candidates"] for a in articles)

    def share(key):
        checked = [row[key] for row in found if key in row]
        return {"recovered": sum(checked), "checked": len(checked)}

    return {
        "forecasts": len(rows), "found": len(found), "recall": len(found) / len(rows),
        "candidates": candidates, "hits": sum(a["hits"] for a in articles),
        "precision": sum(a["hits"] for a in articles) / candidates if candidates else 0.0,
        "candidates_per_forecast": candidates / len(rows),
        "misses": [row["id"] for row in rows if not row["found"]],
        "deadline": share("deadline"), "probability": share("probability"),
        "wrong_deadline": [row["id"] for row in found if row.get("deadline") is False],
        "wrong_probability": [row["id"] for row in found if row.get("probability") is False],
        "per_article": [{"name": a["name"], "forecasts": len(a["forecasts"]),
                         "found": sum(r["found"] for r in a["forecasts"]), "candidates": a["candidates"],
                         "hits": a["hits"]} for a in articles],
        "seconds": seconds,
    }


def _report(title: str, result: dict) -> None:
    print(f"{title}: recall {result['found']}/{result['forecasts']} = {result['recall']:.0%}; "
          f"{result['candidates']} candidates ({result['candidates_per_forecast']:.2f} per forecast), "
          f"precision {result['hits']}/{result['candidates']} = {result['precision']:.0%}")
    for article in result["per_article"]:
        print(f"  {article['name']}: found {article['found']}/{article['forecasts']}, "
              f"{article['hits']}/{article['candidates']} candidates hit")
    print(f"  deadline recovered {result['deadline']['recovered']}/{result['deadline']['checked']}, "
          f"probability {result['probability']['recovered']}/{result['probability']['checked']}")
    print(f"  missed: {', '.join(result['misses']) or 'none'}")
    print(f"  wrong deadline: {', '.join(result['wrong_deadline']) or 'none'}")
    print(f"  wrong probability: {', '.join(result['wrong_probability']) or 'none'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    results = {}
    if ARTICLES.is_dir():
        results["seeds"] = measure(seed_set())
    results["fixtures"] = measure(fixture_set())
    if args.json:
        print(json.dumps(results, indent=2, default=str))
    else:
        if "seeds" not in results:
            print(f"(no articles at {ARTICLES}: the seed set is skipped)")
        for key, title in (("seeds", "seeds/ on the five articles"), ("fixtures", "tests/fixtures/extract")):
            if key in results:
                _report(title, results[key])
    return 0


if __name__ == "__main__":
    sys.exit(main())
