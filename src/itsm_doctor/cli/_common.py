"""What every command shares: consoles, exit codes, the progress display."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskProgressColumn, TextColumn, TimeElapsedColumn

__all__ = ["EXIT_INTAKE", "EXIT_OK", "EXIT_USAGE", "err", "out", "progress_display"]

out = Console()
err = Console(stderr=True)

EXIT_OK, EXIT_INTAKE, EXIT_USAGE = 0, 1, 2


@contextmanager
def progress_display(*, enabled: bool = True) -> Iterator[Progress]:
    """A progress bar on stderr; spinner-only while a task's total is unknown."""
    progress = Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not enabled,
    )
    with progress:
        yield progress
