"""Every Python example in the README, the guide and the library reference runs as written, so the
documentation cannot drift from the code: each file's examples run in order, in one namespace, in
an empty folder."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

import predictions

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = ("README.md", "docs/guide.md", "docs/library.md")
FENCE = re.compile(r"^```python\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def python_examples(text: str) -> list[str]:
    return FENCE.findall(text)


@pytest.mark.parametrize("document", DOCUMENTS)
def test_every_python_example_runs(document, tmp_path, monkeypatch):
    examples = python_examples((ROOT / document).read_text(encoding="utf-8"))
    assert examples, f"{document} has no Python example"
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__doc_example__"}
    printed = io.StringIO()
    for number, code in enumerate(examples, start=1):
        with contextlib.redirect_stdout(printed):
            exec(compile(code, f"{document} example {number}", "exec"), namespace)  # noqa: S102
    for ledger in [v for v in namespace.values() if isinstance(v, predictions.Ledger)]:
        ledger.close()


def test_the_examples_are_found():
    text = "a\n```python\nx = 1\n```\n```sh\nls\n```\n```python\ny = 2\n```\n"
    assert python_examples(text) == ["x = 1\n", "y = 2\n"]


def test_the_library_reference_names_every_public_name():
    text = (ROOT / "docs/library.md").read_text(encoding="utf-8")
    missing = [name for name in predictions.__all__ if f"`{name}`" not in text and f"{name}(" not in text]
    assert missing == []


def test_the_readme_library_example_scores_and_reports():
    (example,) = python_examples((ROOT / "README.md").read_text(encoding="utf-8"))
    assert ".score(" in example and ".report(" in example
