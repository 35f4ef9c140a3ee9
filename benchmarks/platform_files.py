"""Synthetic platform exports of N forecasts for the platform benchmarks, in two shapes:
`per_question` forecasts on each of N / per_question questions (few questions with many
forecasts, or many questions with few). Each writer returns the paths `import --from` takes.

    python benchmarks/platform_files.py PLATFORM N PER_QUESTION DIR   (writes, prints the paths)
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import random
import sys
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from platform_parse import HEADER, fatebook_time  # noqa: E402 (the Fatebook CSV's header and times)

START = dt.datetime(2022, 1, 1, 9, 0, 0, tzinfo=dt.timezone.utc)
NAMES = ["Alice Example", "Bob Sample", "Carol Third"]


def _questions(n: int, per_question: int, seed: int = 20261201):
    """(q, created, deadline, outcome or None, [(f, made, p), ...]) for each question."""
    rng = random.Random(seed)
    for q in range(max(1, n // per_question)):
        created = START + dt.timedelta(minutes=rng.randrange(1_000_000))
        deadline = created + dt.timedelta(days=rng.randrange(30, 400) + 2 * per_question // 86400)
        outcome = rng.choice(["yes", "no", None])
        forecasts = []
        for f in range(per_question):  # distinct times (the platforms key some forecasts by time)
            made = created + dt.timedelta(seconds=60 + 2 * f + rng.randrange(2))
            forecasts.append((f, made, round(rng.random(), 2)))
        yield q, created, deadline, outcome, forecasts


def _iso(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def fatebook(work: Path, n: int, per_question: int) -> list[Path]:
    path = work / "fatebook.csv"
    with open(path, "w", encoding="utf-8") as out:
        out.write(HEADER)
        for q, created, deadline, outcome, forecasts in _questions(n, per_question):
            title = f'Will synthetic event {q} happen, "as described", by {deadline:%Y-%m-%d}?'
            resolution = outcome.upper() if outcome else ""
            tail = [fatebook_time(deadline), f'"{resolution}"' if resolution else "",
                    fatebook_time(deadline) if resolution else "", "", "",
                    f'"YES if event {q} is reported by the deadline; NO otherwise."', '""', "false", '""', '"synthetic"']
            head = '"' + title.replace('"', '""') + '"'
            for f, made, p in forecasts:
                cells = [head, "", f'"{NAMES[f % 3]}"', repr(p), fatebook_time(made), '"Alice Example"',
                         fatebook_time(created), *tail]
                out.write("\n" + ",".join(cells))
    return [path]


def predictionbook(work: Path, n: int, per_question: int) -> list[Path]:
    path = work / "predictionbook.json"
    with open(path, "w", encoding="utf-8") as out:
        out.write('{"user": {"name": "Alice Example", "user_id": 42}, "predictions": [')
        for q, created, deadline, outcome, forecasts in _questions(n, per_question):
            judged = deadline if outcome else None
            prediction = {
                "id": 1000 + q, "description": f"Synthetic event {q} happens by {deadline:%Y-%m-%d}",
                "created_at": _iso(created), "deadline": _iso(deadline), "creator_label": "Alice Example",
                "outcome": None if outcome is None else outcome == "yes", "withdrawn": False,
                "last_judgement_at": _iso(judged) if judged else None, "updated_at": _iso(created),
                "responses": [{"id": q * per_question + f, "confidence": round(p * 100), "comment": None,
                               "created_at": _iso(made), "user_label": NAMES[f % 3]} for f, made, p in forecasts],
            }
            out.write(("," if q else "") + json.dumps(prediction))
        out.write("]}")
    return [path]


def manifold(work: Path, n: int, per_question: int) -> list[Path]:
    path = work / "manifold.json"
    ms = lambda moment: int(moment.timestamp() * 1000)  # noqa: E731
    with open(path, "w", encoding="utf-8") as out:
        out.write("[")
        for q, created, deadline, outcome, forecasts in _questions(n, per_question):
            market = {
                "id": f"m{q:08d}", "question": f"Will synthetic event {q} happen by {deadline:%Y-%m-%d}?",
                "outcomeType": "BINARY", "createdTime": ms(created), "closeTime": ms(deadline),
                "url": f"https://manifold.markets/alice/synthetic-{q}", "creatorName": "Alice Example",
                "textDescription": f"YES if event {q} is reported by the deadline.", "groupSlugs": ["synthetic"],
                "isResolved": outcome is not None, "resolution": outcome.upper() if outcome else None,
                "resolutionTime": ms(deadline) if outcome else None,
            }
            bets = [{"id": f"b{q:08d}x{f}", "userId": f"u{f % 3}", "contractId": market["id"], "createdTime": ms(made),
                     "amount": 10, "probAfter": p, "isRedemption": False} for f, made, p in forecasts]
            out.write(("," if q else "") + json.dumps({"market": market, "bets": bets}))
        out.write("]")
    return [path]


def metaculus(work: Path, n: int, per_question: int) -> list[Path]:
    """The data export: a zip of question_data.csv and forecast_data.csv (only the columns read)."""
    path = work / "metaculus.zip"
    questions, forecasts = io.StringIO(), io.StringIO()
    qw, fw = csv.writer(questions), csv.writer(forecasts)
    qw.writerow(["Question ID", "Question URL", "Question Title", "Categories", "Question Type", "Open Time",
                 "Scheduled Close Time", "Resolution", "Resolution Known Time"])
    fw.writerow(["Question ID", "Forecaster ID", "Forecaster Username", "Is Bot", "Start Time", "Probability Yes"])
    for q, created, deadline, outcome, rows in _questions(n, per_question):
        qw.writerow([31000 + q, f"https://www.metaculus.com/questions/{q}/synthetic-{q}/",
                     f"Will synthetic event {q} happen by {deadline:%Y-%m-%d}?", "['Synthetic']", "binary",
                     str(created), str(deadline), outcome or "", str(deadline) if outcome else ""])
        for f, made, p in rows:
            fw.writerow([31000 + q, 1000 + f % 3, NAMES[f % 3].split()[0].lower(), False, str(made), p])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("question_data.csv", questions.getvalue())
        archive.writestr("forecast_data.csv", forecasts.getvalue())
    return [path]


WRITERS = {"fatebook": fatebook, "predictionbook": predictionbook, "manifold": manifold, "metaculus": metaculus}

if __name__ == "__main__":
    platform, n, per_question, work = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])
    work.mkdir(parents=True, exist_ok=True)
    print(*WRITERS[platform](work, n, per_question))
