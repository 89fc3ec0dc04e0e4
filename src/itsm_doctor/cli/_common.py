"""What every command shares: consoles, exit codes, the progress display."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskProgressColumn, TextColumn, TimeElapsedColumn

from itsm_doctor.cli._progress import PlainProgress

__all__ = ["EXIT_INTAKE", "EXIT_OK", "EXIT_USAGE", "err", "out", "progress_display"]

out = Console()
err = Console(stderr=True)

EXIT_OK, EXIT_INTAKE, EXIT_USAGE = 0, 1, 2


@contextmanager
def progress_display(*, enabled: bool = True) -> Iterator[Any]:
    """Progress on stderr: in a terminal a bar with a percentage once a step's size is known
    (a spinner until then); piped or redirected, plain lines (see ``_progress``)."""
    if not err.is_terminal:
        yield PlainProgress(err, enabled=enabled)
        return
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
