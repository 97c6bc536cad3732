"""The `integrity.*` rules: judges header facts and hash comparisons recorded by integrity."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from scanner.checks.interface import Check, CheckContext, finding
from scanner.inventory import Component, Finding


class IntegrityCheck(Check):
    """Turns recorded structural defects and digest comparisons into findings."""

    name = "integrity"

    def run(self, components: Sequence[Component], context: CheckContext) -> Iterator[Finding]:
        for component in components:
            for entry in component.files:
                for defect in (*entry.header_defects, *entry.defects):
                    yield finding(
                        f"integrity.{defect.kind}",
                        component,
                        f"{entry.path}: {defect.message}",
                        file=entry.path,
                    )
                if entry.sha256 is None or entry.error:
                    continue
                if entry.reference == "lockfile" and entry.expected is None:
                    yield finding(
                        "integrity.unexpected-file",
                        component,
                        f"{entry.path}: not recorded in the lock file (sha256 {entry.sha256})",
                        file=entry.path,
                        sha256=entry.sha256,
                    )
                elif entry.verified is False:
                    yield finding(
                        "integrity.hash-mismatch",
                        component,
                        f"{entry.path}: content differs from the {entry.reference} reference "
                        f"(expected {entry.expected}, sha256 is {entry.sha256})",
                        file=entry.path,
                        reference=entry.reference,
                        expected=entry.expected,
                        sha256=entry.sha256,
                    )
                elif entry.reference is None:
                    yield finding(
                        "integrity.unverified",
                        component,
                        f"{entry.path}: no reference to compare with; sha256 {entry.sha256}",
                        file=entry.path,
                        sha256=entry.sha256,
                    )
