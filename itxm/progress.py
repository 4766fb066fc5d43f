"""Progress bars for long work on the command line (quiet when output is not a terminal)."""

import sys
from contextlib import contextmanager

from tqdm import tqdm


@contextmanager
def progress_bar(description: str, total: int | None = None, unit: str = "rows", enabled: bool | None = None):
    """Yield a callable that advances the bar by n."""
    show = sys.stderr.isatty() if enabled is None else enabled
    with tqdm(total=total, desc=description, unit=unit, disable=not show, file=sys.stderr, leave=True) as bar:
        yield bar.update


def count_lines(path) -> int:
    with open(path, "rb") as handle:
        return sum(1 for _ in handle)
