"""The interface every output format implements.

A format only renders a `ScanResult`: it never scans, judges or reads files, so every format
shows the same facts and findings. The caller passes the license knowledge base (the CLI loads
it once), so a format depends only on its arguments and never loads data of its own.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from scanner.inventory import ScanResult
from scanner.licensing.knowledge_base import LicenseKnowledgeBase


class ReportFormat(ABC):
    """Turns a scan result into text."""

    name: str

    @abstractmethod
    def render(self, result: ScanResult, kb: LicenseKnowledgeBase, *, color: bool = False) -> str:
        """Return the whole document; `kb` explains the license keys in `result`, `color` is a
        hint for terminal formats."""
