"""The `integrity.*` rules: judges header facts and hash comparisons recorded by sources."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from scanner.checks.interface import Check, CheckContext, finding
from scanner.inventory import Component, Finding


class IntegrityCheck(Check):
    """Turns recorded header defects into findings, one per defect."""

    name = "integrity"

    def run(self, components: Sequence[Component], context: CheckContext) -> Iterator[Finding]:
        for component in components:
            for entry in component.files:
                if entry.safetensors is None:
                    continue
                for defect in entry.safetensors.defects:
                    yield finding(
                        f"integrity.{defect.kind}",
                        component,
                        f"{entry.path}: {defect.message}",
                        file=entry.path,
                    )
