"""Speed of `extract_forecasts`: a 20,000-word article, and linearity on hostile input.

The article is the five source articles (../shared/articles) repeated, or, without them, the
fixture articles of tests/fixtures/extract, cut at 20,000 words; each repetition marks its
sentences (" r2." ...) so that none is a repeat, which extract would read only once. Linearity: each hostile text is
timed at 1 MB and at 10 MB (the article's time is also given as a ratio to one
regular-expression pass over the same text, measured in the same run); a ratio of 10 seconds-per-10MB over seconds-per-1MB near 10 is
linear (a quadratic step would give 100). Best of three runs each.

    python benchmarks/extract_speed.py
"""

from __future__ import annotations

import datetime as dt
import re
import time
from pathlib import Path

from predictions import extract_forecasts

REPO = Path(__file__).resolve().parents[1]
ARTICLES = REPO.parent / "shared" / "articles"
FIXTURES = REPO / "tests" / "fixtures" / "extract"
DAY = dt.date(2026, 5, 15)
HOSTILE = {
    "one word repeated": "word ",
    "one word a line": "word\n",
    "one future sentence repeated": "Will. ",
    "distinct future sentences": None,  # "Acme 0 will open by 2027. Acme 1 will ..."
    "a wrapped paragraph": "one two three four five six seven eight nine ten eleven twelve thirteen\n",
    "nested brackets and quotes": "(\"[«'",
    "HTML: unclosed quoted attributes": "<a b='",
    "HTML: tags never closed": "<a",
    "HTML: nested divs": "<div>",
}


_WORDS = re.compile(r"\w+")


def best(function, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        function()
        times.append(time.perf_counter() - began)
    return min(times)


def article_of(words: int) -> str:
    sources = sorted(ARTICLES.glob("*.txt")) if ARTICLES.is_dir() else sorted(
        p for p in FIXTURES.iterdir() if p.suffix in (".txt", ".md"))
    texts = [p.read_text(encoding="utf-8") for p in sources]
    pieces, count, index = [], 0, 0
    while count < words:
        text = re.sub(r"(\w)([.!?])(\s)", rf"\1 r{index}\2\3", texts[index % len(texts)])
        pieces.append(text)
        count += len(text.split())
        index += 1
    return " ".join(" ".join(pieces).split(" ")[:words])


def hostile(unit: str | None, size: int) -> str:
    if unit is None:
        out, total, i = [], 0, 0
        while total < size:
            sentence = f"Acme {i} will open a plant by 2027. "
            out.append(sentence)
            total += len(sentence)
            i += 1
        return "".join(out)[:size]
    return (unit * (size // len(unit) + 1))[:size]


def main() -> None:
    text = article_of(20_000)
    seconds = best(lambda: extract_forecasts(text, published=DAY))
    found = len(extract_forecasts(text, published=DAY).candidates)
    baseline = best(lambda: _WORDS.findall(text))  # one regular-expression pass over the same text
    print(f"20,000-word article ({len(text):,} characters): {seconds:.3f} s, {found} candidates; "
          f"{seconds / baseline:.0f}x one pass of re.findall(r'\\w+') ({baseline * 1000:.1f} ms), same run")
    print(f"{'hostile input':32} {'1 MB (s)':>9} {'10 MB (s)':>10} {'ratio':>6}")
    for name, unit in HOSTILE.items():
        small, large = hostile(unit, 1_000_000), hostile(unit, 10_000_000)
        kind = "html" if name.startswith("HTML") else "text"
        t1 = best(lambda: extract_forecasts(small, published=DAY, kind=kind))
        t10 = best(lambda: extract_forecasts(large, published=DAY, kind=kind), runs=1)
        print(f"{name:32} {t1:9.3f} {t10:10.3f} {t10 / t1:6.1f}")


if __name__ == "__main__":
    main()
