"""The interface every source of facts implements.

A source turns one kind of target (a model folder, the HF cache, the Hub, a Python environment)
into `Component` facts. Sources never judge: whether a license is acceptable is for checks.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator

from scanner.inventory import Component


class Source(ABC):
    """Something that yields components for a scan."""

    name: str

    @abstractmethod
    def collect(self) -> Iterator[Component]:
        """Yield the components found, streaming so large stores need not fit in memory."""
