"""Relative Brier scores: each source against the others on the questions they share.

A raw Brier score rewards whoever picks easy questions. On a question forecast by two or more
sources, a source's relative Brier is its (source, question) pair's Brier minus the median of the
*other* sources' pair Briers on that question: negative is better than the others. A group's
relative Brier is the mean over its shared pairs (weighted by the share of each pair's days its
forecasts in the group carry, so that a group such as a hedge phrase holding part of a pair counts
that part). The forecaster itself is left out of the median (Fatebook includes it, which halves the
difference when two sources share a question); docs/scoring.md says why and cites both.

Only questions with two or more sources are read: the partial index `questions_shared` finds them
without a scan, so a ledger where no question is shared costs one index lookup.
"""

from __future__ import annotations

import statistics
import sqlite3
from collections import defaultdict
from typing import Callable, Sequence

import attrs


@attrs.frozen
class Relative:
    relative_brier: float | None  # mean over the group's shared pairs; None when it has none
    shared_questions: int  # how many questions the group shares with another source


def relative_scores(
    conn: sqlite3.Connection, expression: str, join: str, window: str, params: Sequence[str],
    label: Callable[[str], str] = str,
) -> dict[str, Relative]:
    """{group: Relative} for the groups with shared pairs. `expression`, `join` and `window` are
    aggregate's literal SQL for the grouping and the window (values are in `params`)."""
    sql = (
        f"SELECT s.question_id, s.source, {expression} AS grp, total(s.weight), "
        "total(s.weight * (s.probability - s.outcome) * (s.probability - s.outcome)) "
        # CROSS JOIN keeps the shared questions the outer loop: with a plain JOIN SQLite chose to
        # walk every scored row and probe the partial index (0.2 s at 200,000, none shared).
        "FROM questions q INDEXED BY questions_shared CROSS JOIN scored s ON s.question_id = q.id "
        f"{join} WHERE q.forecasters > 1{window} GROUP BY s.question_id, s.source, grp"
    )
    pair: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
    rows = []
    for question_id, source, group, weight, squared in conn.execute(sql, params):
        pair[question_id, source][0] += squared
        pair[question_id, source][1] += weight
        rows.append((question_id, source, label(str(group)), weight))
    by_question: dict[str, dict[str, float]] = defaultdict(dict)
    for (question_id, source), (squared, weight) in pair.items():
        # the weighted mean: a pair's weights sum to 1 (each tag group repeats every row alike)
        by_question[question_id][source] = squared / weight
    relative: dict[tuple[str, str], float] = {}
    for question_id, briers in by_question.items():
        if len(briers) < 2:  # the others' forecasts on it were not scored (made after its end)
            continue
        for source, brier in briers.items():
            others = [b for s, b in briers.items() if s != source]
            relative[question_id, source] = brier - statistics.median(others)
    sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    questions: dict[str, set[str]] = defaultdict(set)
    for question_id, source, group, weight in rows:
        if (question_id, source) in relative:
            sums[group][0] += weight * relative[question_id, source]
            sums[group][1] += weight
            questions[group].add(question_id)
    return {
        group: Relative(total / weight if weight > 0 else None, len(questions[group]))
        for group, (total, weight) in sums.items()
    }
