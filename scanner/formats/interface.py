"""The interface every output format implements.

A format only renders a `ScanResult`: it never scans, judges or reads files, so every format
shows the same facts and findings. The caller passes the license knowledge base (the CLI loads
it once), so a format depends only on its arguments and never loads data of its own.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # the CLI imports this module to list formats: keep its start-up light
    from scanner.inventory import ScanResult, Severity
    from scanner.licensing.knowledge_base import LicenseKnowledgeBase

Detail = Literal["quiet", "normal", "verbose"]


@dataclass(frozen=True)
class Display:
    """How a terminal format lays a result out; document formats ignore it.

    `width` is the terminal's width in columns; `detail` is `-q` (no component table, no
    notes), normal (a component's license obligations grouped into one line) or `-v` (every
    finding on its own); findings below `min_severity` are counted but not shown.
    """

    width: int = 80
    color: bool = False
    detail: Detail = "normal"
    min_severity: Severity = "note"


PLAIN = Display()

SOURCE_LABELS = {
    "modeldir": "folder",
    "hfcache": "HF cache",
    "hub": "Hub",
    "ollama": "Ollama",
    "python-env": "installed",
    "lockfile": "lock file",
}
"""What each source is called where people read (terminal, HTML); JSON, SARIF and the BOMs keep
the source ids of the report contract."""


class ReportFormat(ABC):
    """Turns a scan result into text."""

    name: str

    @abstractmethod
    def render(
        self, result: ScanResult, kb: LicenseKnowledgeBase, *, display: Display = PLAIN
    ) -> str:
        """Return the whole document; `kb` explains the license keys in `result`, `display`
        says how a terminal format lays it out."""
