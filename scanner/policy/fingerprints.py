"""Stable identities for findings, shared by SARIF, baselines and diffs.

A fingerprint must not change between two runs over the same inputs, so it is built from the
rule, the component ref and the finding's structured evidence, never from message wording (which
may improve between releases) or from anything time-dependent.
"""

from __future__ import annotations

import hashlib
import json

from scanner.inventory import Finding

FINGERPRINT_KEY = "aiscan/v1"
"""The `partialFingerprints` key in SARIF; bump the version if the recipe ever changes."""


def fingerprint(finding: Finding) -> str:
    """A hex digest identifying `finding` across runs."""
    material = json.dumps(
        [finding.rule, finding.component, dict(finding.evidence)],
        sort_keys=True,
        ensure_ascii=False,
        default=str,
    )
    # A lone surrogate (a hostile card, a file name that is not UTF-8) must not crash the run.
    return hashlib.sha256(material.encode("utf-8", "surrogatepass")).hexdigest()
