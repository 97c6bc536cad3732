"""A terminal progress bar for long hashing work: bytes, files, rate and time left, on stderr.

Silent unless stderr is a terminal and `CI` is unset, so logs and pipes stay clean. rich's
`Progress` is thread-safe, so hashing threads report their bytes directly.
"""

from __future__ import annotations

import os
import sys


def progress_wanted() -> bool:
    """A bar only helps a person watching a terminal."""
    return sys.stderr.isatty() and not os.environ.get("CI")


class TerminalProgress:
    """Bytes hashed, files done, rate and ETA, drawn by rich on stderr."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        self._files = 0
        self._total_files = 0
        self._progress = Progress(
            TextColumn("hashing"),
            BarColumn(),
            DownloadColumn(binary_units=True),
            TransferSpeedColumn(),
            TextColumn("{task.fields[files]} files"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self._task = self._progress.add_task("hashing", total=0, files="0/0")

    def start(self, total_bytes: int, files: int) -> None:
        """Start (or, for a second batch such as a run's object-store files, restart) the bar."""
        self._files = 0
        self._total_files = files
        self._progress.reset(self._task, total=total_bytes, files=f"0/{files}")
        self._progress.start()

    def advance(self, count: int) -> None:
        self._progress.advance(self._task, count)

    def file_done(self) -> None:
        self._files += 1
        self._progress.update(self._task, files=f"{self._files}/{self._total_files}")

    def stop(self) -> None:
        self._progress.stop()


class LineageProgress:
    """A one-line count of base models looked up, on stderr, while a long walk runs."""

    def __init__(self) -> None:
        from rich.console import Console

        self._count = 0
        self._status = Console(stderr=True).status("following base models…")

    def __enter__(self) -> LineageProgress:
        self._status.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._status.stop()

    def looked_up(self, repo_id: str) -> None:
        self._count += 1
        from rich.markup import escape

        from scanner.files import printable

        shown = escape(printable(repo_id))
        self._status.update(f"following base models… {self._count} looked up ({shown})")
