"""What every command shares: consoles, exit codes, the progress display, and the one error
path of user-facing failures (exit 2, a message naming the file, row, column or setting)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskProgressColumn, TextColumn, TimeElapsedColumn

__all__ = [
    "EXIT_INTAKE",
    "EXIT_OK",
    "EXIT_USAGE",
    "check_output_file",
    "err",
    "fail",
    "out",
    "parse_share",
    "progress_display",
    "user_errors",
]

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


def fail(message: str) -> typer.Exit:
    """Print ``error: message`` on stderr; the caller raises what this returns (exit 2)."""
    err.print(f"error: {message}", markup=False, highlight=False, soft_wrap=True)
    return typer.Exit(EXIT_USAGE)


def _user_error_types() -> tuple[type[BaseException], ...]:
    # imported here: the command modules stay cheap to import
    from itsm_doctor.assessment.answers import AnswersError
    from itsm_doctor.engine import EngineError
    from itsm_doctor.intake.workspace import WorkspaceError
    from itsm_doctor.sources.base import IntakeError
    from itsm_doctor.store import StoreError

    return (IntakeError, EngineError, WorkspaceError, StoreError, AnswersError)


@contextmanager
def user_errors(*, debug: bool = False) -> Iterator[None]:
    """The one error path: a user-facing failure ends in ``error: …`` naming the file, row,
    column or setting, and exit 2; anything else too, as an internal error, never with a
    traceback unless ``--debug`` (or ``ITSM_DOCTOR_DEBUG=1``) asks for one."""
    debug = debug or os.environ.get("ITSM_DOCTOR_DEBUG", "") not in ("", "0")
    try:
        yield
    except typer.Exit:
        raise
    except KeyboardInterrupt:
        err.print("interrupted: nothing was committed by the unfinished step", highlight=False)
        raise typer.Exit(130) from None
    except _user_error_types() as exc:
        if debug:
            err.print_exception()
        raise fail(str(exc)) from None
    except OSError as exc:
        if debug:
            err.print_exception()
        where = f"file {exc.filename}: " if exc.filename else ""
        raise fail(f"{where}{exc.strerror or exc}") from None
    except Exception as exc:
        if debug:
            err.print_exception()
        raise fail(
            f"internal error ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}); "
            "run again with --debug for the traceback, and please report it"
        ) from None


def parse_share(text: str, *, option: str = "--max-quarantine") -> float:
    """A share given as a fraction (0.01) or a percentage (1%)."""
    raw = text.strip()
    try:
        value = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a share: give 0.01 or 1%", param_hint=option) from None
    if not 0 <= value <= 1:
        raise typer.BadParameter(
            f"{text!r}: give a share between 0 and 1, or a percentage such as 1%", param_hint=option
        )
    return value


def check_output_file(path: Path | None, *, option: str) -> None:
    """Refuse before any work an output file that cannot be written (a folder, a missing folder)."""
    if path is None:
        return
    if path.is_dir():
        raise fail(f"{option} {path}: is a folder; give a file name")
    parent = path.parent
    if not parent.exists():
        raise fail(f"{option} {path}: the folder {parent} does not exist")
    if not parent.is_dir():
        raise fail(f"{option} {path}: {parent} is not a folder")
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise fail(f"{option} {path}: cannot be written here (permission denied)")
