"""Progress a person can follow wherever the output goes.

In a terminal, a Rich bar on stderr with a percentage once a step's size is known (signs
measured of all signs, tickets simulated of all tickets). When stderr is piped or redirected
(a CI log, ``2> log``), plain lines instead: one when a step starts and one per tenth of a
long step, never a spinner's control characters.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from rich.console import Console

__all__ = ["PlainProgress", "sign_steps"]


@dataclass(kw_only=True)
class _Task:
    description: str
    total: float | None
    completed: float = 0.0
    tenth: int = -1  # the last tenth of the total a line was printed for


class PlainProgress:
    """The subset of ``rich.progress.Progress`` the commands use, as plain lines on ``console``."""

    def __init__(self, console: Console, *, enabled: bool = True) -> None:
        self._console = console
        self._enabled = enabled
        self._tasks: list[_Task] = []

    def add_task(self, description: str, total: float | None = None, **_: Any) -> int:
        self._tasks.append(_Task(description=description, total=total))
        self._say(self._tasks[-1], started=True)
        return len(self._tasks) - 1

    def update(
        self,
        task_id: int,
        *,
        description: str | None = None,
        total: float | None = None,
        completed: float | None = None,
        advance: float | None = None,
        **_: Any,
    ) -> None:
        task = self._tasks[task_id]
        started = description is not None and description != task.description
        if description is not None:
            task.description = description
        if total is not None or started:
            task.total = total
        if completed is not None:
            task.completed = completed
        if advance is not None:
            task.completed += advance
        if started:
            task.tenth = -1
        self._say(task, started=started)

    def _say(self, task: _Task, *, started: bool) -> None:
        if not self._enabled:
            return
        if task.total:
            tenth = int(10 * min(task.completed, task.total) / task.total)
            if tenth == task.tenth:
                return
            task.tenth = tenth
            self._console.print(f"{task.description}: {10 * tenth}%", markup=False, highlight=False)
        elif started:
            self._console.print(task.description, markup=False, highlight=False)


def sign_steps(progress: Any, task: Any, *, label: str, signs: Collection[str]) -> Callable[[str], None]:
    """A progress callback for an examination: a message naming a sign counts it (so the
    step shows a percentage of ``signs``); any other message names the current step."""
    done: set[str] = set()

    def say(message: str) -> None:
        if message in signs:
            done.add(message)
            progress.update(task, description=f"{label}measuring signs", total=len(signs), completed=len(done))
        else:
            progress.update(task, description=f"{label}{message}", total=None)

    return say
