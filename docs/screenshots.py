"""Regenerate the README's pictures from the bundled examples: the terminal table (SVG, drawn
by rich from aiscan's own coloured output) and the HTML report's first screen (PNG, by
headless Chromium). Run from the repository root: `python docs/screenshots.py`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from rich.console import Console
from rich.text import Text

IMAGES = Path(__file__).parent / "images"
SCAN = ["scan", "examples", "--policy", "examples/aiscan.yaml"]


def terminal(columns: int = 100) -> None:
    environment = {**os.environ, "FORCE_COLOR": "1", "COLUMNS": str(columns)}
    environment.pop("NO_COLOR", None)
    drawn = subprocess.run(
        [sys.executable, "-m", "scanner", *SCAN], capture_output=True, text=True, env=environment
    ).stdout
    import io

    console = Console(record=True, width=columns, force_terminal=True, file=io.StringIO())
    console.print(Text.from_ansi(f"$ aiscan {' '.join(SCAN)}\n" + drawn), end="")
    console.save_svg(str(IMAGES / "terminal.svg"), title="aiscan scan")


def report() -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        sys.exit("chromium is needed for the report screenshot")
    with tempfile.TemporaryDirectory() as work:
        html = Path(work) / "report.html"
        subprocess.run(
            [sys.executable, "-m", "scanner", "report", *SCAN[1:], "-o", html], check=True
        )
        subprocess.run(
            [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                f"--user-data-dir={Path(work) / 'profile'}",
                "--window-size=1200,900",
                f"--screenshot={IMAGES / 'report.png'}",
                html.as_uri(),
            ],
            check=True,
            capture_output=True,
        )


if __name__ == "__main__":
    IMAGES.mkdir(exist_ok=True)
    terminal()
    report()
