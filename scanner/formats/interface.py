"""The interface every output format implements.

A format only renders a `ScanResult`: it never scans, judges or reads files, so every format
shows the same facts and findings.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from scanner.inventory import ScanResult


class ReportFormat(ABC):
    """Turns a scan result into text."""

    name: str

    @abstractmethod
    def render(self, result: ScanResult, *, color: bool = False) -> str:
        """Return the whole document; `color` is a hint for terminal formats."""
