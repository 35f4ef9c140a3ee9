"""Reading the files forecasting platforms export: Fatebook, PredictionBook, Metaculus, Manifold.

    from predictions.platforms import read_platform
    batch = read_platform("fatebook", ["fatebook.csv"])
    for question in batch:          # PlatformQuestion values, each with its forecasts
        ...
    batch.skipped.lines()           # ["skipped 4 multiple-choice questions", ...], once read

Each parser streams its file and refuses the first malformed value with a `ValidationError`
naming FILE:LINE (or FILE:JSON.path) and the field. The mapping rules are in docs/import.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator, Sequence

from ..errors import ValidationError
from . import common, fatebook, manifold, metaculus, predictionbook
from .common import PLATFORMS, PlatformForecast, PlatformQuestion, Progress, Skipped, removing_format

_READERS = {
    "fatebook": fatebook.read,
    "predictionbook": predictionbook.read,
    "metaculus": metaculus.read,
    "manifold": manifold.read,
}


class PlatformBatch:
    """The questions of one platform file (or two, for Manifold), read as they are iterated;
    `skipped` is complete once they have all been read."""

    def __init__(self, platform: str, paths: Sequence[str | Path], *, source: str | None = None,
                 progress: Progress | None = None):
        if platform not in _READERS:
            raise ValidationError("platform", f"{platform!r} is not one of {', '.join(PLATFORMS)}")
        paths = list(paths)
        if platform != "manifold" and len(paths) != 1:
            raise ValidationError(None, f"{platform} is read from one file, not {len(paths)}")
        self.platform = platform
        self.paths = paths
        self.source = common.source_override(source)  # an option's refusal names the option, not a file
        self.progress = progress
        self.skipped = Skipped()

    def __iter__(self) -> Iterator[PlatformQuestion]:
        reader = _READERS[self.platform]
        target = self.paths if self.platform == "manifold" else self.paths[0]
        try:
            with removing_format(self.skipped):
                yield from reader(target, skipped=self.skipped, source=self.source, progress=self.progress)
        except ValidationError as exc:
            if exc.where is None and exc.field is not None:  # a value a parser did not locate: the file at least
                raise exc.located(" and ".join(map(str, self.paths))) from None
            raise


def read_platform(platform: str, paths: str | Path | Sequence[str | Path], *, source: str | None = None,
                  progress: Progress | None = None) -> PlatformBatch:
    if isinstance(paths, (str, Path)):
        paths = [paths]
    return PlatformBatch(platform, paths, source=source, progress=progress)


__all__ = ["PLATFORMS", "PlatformBatch", "PlatformForecast", "PlatformQuestion", "Skipped", "read_platform"]
