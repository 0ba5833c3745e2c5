"""A live terminal line for long publishing runs: simulated time reached, rate, sent, acknowledged, errors.

Drawn with rich on stderr (stdout stays free for the final summary) and refreshed a few times a second
from the publisher's running :class:`~producers.publisher.PublishStats`. When stderr is not a terminal
nothing is drawn; the caller prints the summary either way.
"""

from __future__ import annotations

from datetime import datetime
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from producers.publisher import PublishStats


class PublishProgress:
    """Context manager showing a bar over simulated time (when the period is known) and the counters."""

    def __init__(
        self, label: str, start: datetime | None, end: datetime | None, total: int | None = None
    ) -> None:
        self.console = Console(stderr=True)
        self.start, self.end = start, end
        self.total = total
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[sim]}"),
            TextColumn("{task.fields[rate]:>8.0f} msg/s"),
            TextColumn("sent {task.fields[sent]:,}"),
            TextColumn("acked {task.fields[acked]:,}"),
            TextColumn("errors {task.fields[errors]:,}"),
            TimeElapsedColumn(),
            console=self.console,
            transient=False,
            disable=not self.console.is_terminal,
            refresh_per_second=4,
        )
        self._task: TaskID | None = None
        self._label = label

    def __enter__(self) -> PublishProgress:
        self._progress.__enter__()
        total = 1000.0 if self.start and self.end else float(self.total or 0) or None
        self._task = self._progress.add_task(
            self._label, total=total, sim="", rate=0.0, sent=0, acked=0, errors=0
        )
        return self

    def update(self, stats: PublishStats) -> None:
        if self._task is None:
            return
        completed: float = stats.sent
        sim = ""
        if stats.sim_at is not None:
            sim = stats.sim_at.strftime("%m-%d %H:%M")
            if self.start and self.end:
                span = (self.end - self.start).total_seconds()
                completed = 1000.0 * max(0.0, (stats.sim_at - self.start).total_seconds()) / span
        self._progress.update(
            self._task,
            completed=completed,
            sim=sim,
            rate=stats.rate,
            sent=stats.sent,
            acked=stats.acked,
            errors=stats.errors,
        )

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._progress.__exit__(kind, exc, tb)
