"""`--baseline`: accept the findings an earlier run already reported, fail only on new ones.

The baseline is an aiscan JSON report or a SARIF log from a previous run. Findings are matched by
fingerprint (see `fingerprints.py`), so a reworded message does not make an old finding new.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from scanner.errors import UsageError
from scanner.files import load_json_file
from scanner.inventory import Finding, ScanResult
from scanner.policy.fingerprints import FINGERPRINT_KEY, fingerprint


def load_baseline(path: Path) -> frozenset[str]:
    """Fingerprints of every finding in a saved aiscan report or SARIF log."""
    document = load_json_file(path, "baseline")
    if isinstance(document, dict) and isinstance(document.get("runs"), list):
        return frozenset(
            result["partialFingerprints"][FINGERPRINT_KEY]
            for run in document["runs"]
            for result in run.get("results", [])
            if FINGERPRINT_KEY in result.get("partialFingerprints", {})
        )
    if not isinstance(document, dict) or not str(document.get("schema", "")).startswith(
        "aiscan-report/"
    ):
        raise UsageError(f"{path} is neither an aiscan JSON report nor a SARIF log")
    prints = set()
    for raw in document.get("findings", []):
        prints.add(
            raw.get("fingerprint")
            or fingerprint(
                Finding(
                    rule=raw["rule"],
                    severity=raw["severity"],
                    component=raw.get("component"),
                    message=raw.get("message", ""),
                    evidence=raw.get("evidence") or {},
                )
            )
        )
    return frozenset(prints)


def apply_baseline(result: ScanResult, known: frozenset[str]) -> ScanResult:
    """Mark findings the baseline already holds; they stay listed but no longer fail the run."""
    findings = tuple(
        dataclasses.replace(f, in_baseline=True) if fingerprint(f) in known else f
        for f in result.findings
    )
    return dataclasses.replace(result, findings=findings)
