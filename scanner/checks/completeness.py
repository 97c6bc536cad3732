"""The `scan.unreadable` and `scan.link-outside-target` rules: whatever a source could not or
would not read is reported, never passed."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from scanner.checks.interface import Check, CheckContext, finding
from scanner.inventory import Component, Finding


class CompletenessCheck(Check):
    """Reports files and folders that were skipped: unreadable, or reached through a link that
    leaves the target."""

    name = "completeness"

    def run(self, components: Sequence[Component], context: CheckContext) -> Iterator[Finding]:
        for component in components:
            for entry in component.files:
                if entry.error:
                    yield finding(
                        "scan.unreadable",
                        component,
                        f"{entry.path}: {entry.error}; not examined",
                        file=entry.path,
                    )
            for problem in component.problems:
                yield finding(
                    f"scan.{problem.kind}",
                    component,
                    f"{problem.location}: {problem.message}",
                    location=problem.location,
                )
