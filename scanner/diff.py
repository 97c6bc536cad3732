"""Compares two scans, given as aiscan JSON reports or CycloneDX, SPDX 2.3 or SPDX 3.0.1 BOMs.

Each input is read by its format's decoder (`scanner.formats.decoded`) and reduced to the same
`Snapshot`, so a report can be compared with a BOM of another format. A component is keyed as
`kind:name`, the name taken from the purl when there is one (without version), so the same
component matches across versions, across formats and across tools that spell the display name
differently. Document ids (SPDXID, spdxId, bom-ref) are never keys: they embed commits and random
document namespaces.

Reports and CycloneDX BOMs carry licenses as knowledge-base keys (`apache-2.0`), SPDX documents as
SPDX expressions (`Apache-2.0`); `in_spdx_terms` rewrites the former the way the SPDX writers do,
so a mixed comparison does not report a notation as a license change.

A change introduces a policy violation when the new side has an unwaived finding at or above its
fail level that the old side did not have.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import unquote

from scanner.errors import UsageError
from scanner.files import load_json_file, printable
from scanner.formats.cyclonedx import decode_cyclonedx
from scanner.formats.decoded import BomDecodeError, DecodedBom, DecodedFinding
from scanner.formats.json import decode_report
from scanner.formats.markdown import escape
from scanner.formats.spdx import decode_spdx
from scanner.formats.spdx3 import decode_spdx3
from scanner.inventory import SEVERITY_RANK
from scanner.licensing.knowledge_base import LicenseKnowledgeBase

DECODERS = (decode_report, decode_cyclonedx, decode_spdx, decode_spdx3)
"""Every format diff reads; each returns None for a document of another format."""


@dataclass(frozen=True)
class ComponentState:
    """What diff compares of one component. `hashes` maps a file's path to its SHA-256, the
    empty path standing for the component's own digest (a loose file, an aisbom-cli model)."""

    version: str | None
    declared: tuple[str, ...]
    effective: str | None
    hashes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FindingState:
    """One unwaived finding: its severity and message."""

    severity: str
    message: str


@dataclass(frozen=True)
class Snapshot:
    """One side of a diff."""

    components: dict[str, ComponentState]
    findings: dict[tuple[str, str], tuple[FindingState, ...]]
    """(rule, component key) → the unwaived findings of that rule on that component, one by one;
    the key of a finding about no single component is empty."""
    fail_on: str = "error"
    spdx_licenses: bool = False
    """Licenses are SPDX expressions (SPDX inputs, other tools' BOMs), not knowledge-base keys."""
    concludes: bool = True
    """Declared and effective licenses are told apart (see `DecodedBom.concludes`)."""


def load_snapshot(path: Path) -> Snapshot:
    """Read an aiscan report or a CycloneDX, SPDX 2.3 or SPDX 3.0.1 JSON BOM."""
    document = load_json_file(path, "report or BOM")
    try:
        bom = next((b for b in (decode(document) for decode in DECODERS) if b is not None), None)
    except BomDecodeError as exc:
        raise UsageError(f"{path}: {exc}") from exc
    if bom is None:
        raise UsageError(
            f"{path} is neither an aiscan JSON report nor a CycloneDX JSON, SPDX 2.3 JSON or "
            "SPDX 3.0.1 JSON-LD BOM"
        )
    return snapshot(bom)


_PYPI_SEPARATORS = re.compile(r"[-_.]+")


def component_key(kind: str, name: str, purl: str | None = None) -> str:
    """`kind:name`, the name being the purl's namespace/name when a purl is given; a PyPI name is
    normalised as PEP 503 says (`boolean.py`, `Boolean_Py` and `boolean-py` are one project)."""
    purl_type = ""
    if purl and purl.startswith("pkg:"):
        path = purl.split("#", 1)[0].split("?", 1)[0].removeprefix("pkg:").strip("/")
        purl_type, _, path = path.partition("/")
        head, _, last = path.rpartition("/")
        last = last.split("@", 1)[0]
        name = unquote(f"{head}/{last}" if head else last) or name
    if purl_type.lower() == "pypi" or (kind == "library" and not purl_type):
        name = _PYPI_SEPARATORS.sub("-", name).lower()
    return f"{kind}:{name}"


def _state_order(state: ComponentState) -> tuple:
    """An order of the states of one name, so which is kept does not depend on listing order."""
    return (
        state.version or "",
        state.effective or "",
        state.declared,
        sorted(state.hashes.items()),
    )


def snapshot(bom: DecodedBom) -> Snapshot:
    """What diff compares of a decoded document; SPDX expressions in one spelling. Components a
    document only names (`named_only`) are left out: a report does not list them."""
    spdx = bom.license_notation == "spdx"
    components: dict[str, ComponentState] = {}
    findings: dict[tuple[str, str], list[FindingState]] = {}

    def record(key: str, found: tuple[DecodedFinding, ...]) -> None:
        for f in found:
            if f.counts:
                findings.setdefault((f.rule, key), []).append(FindingState(f.severity, f.message))

    record("", bom.findings)
    for c in bom.components:
        if c.named_only:
            continue
        key = component_key(c.kind, c.name, c.purl)
        declared = tuple(filter(None, map(_spdx_text, c.declared))) if spdx else c.declared
        hashes = {f.path: f.sha256 for f in c.files if f.sha256}
        if c.sha256:
            hashes[""] = c.sha256
        state = ComponentState(
            c.version, declared, _spdx_text(c.effective) if spdx else c.effective, hashes
        )
        if key in components:
            # One name listed twice (a service used in two places, one model loaded under two
            # revisions): the same state is kept whatever order the document lists them in.
            state = min(components[key], state, key=_state_order)
        components[key] = state
        record(key, c.findings)
    return Snapshot(
        components,
        {k: tuple(v) for k, v in findings.items()},
        bom.fail_on,
        spdx_licenses=spdx,
        concludes=bom.concludes,
    )


def _spdx_text(expression: str | None) -> str | None:
    """An SPDX expression in one spelling, so documents written by different tools compare equal
    when they mean the same."""
    if not expression:
        return None
    from license_expression import ExpressionError, Licensing

    try:
        return str(Licensing().parse(expression, validate=False))
    except ExpressionError:
        return expression.strip()


def in_spdx_terms(snapshot: Snapshot, kb: LicenseKnowledgeBase) -> Snapshot:
    """A report's or CycloneDX BOM's licenses as the SPDX writers would have written them:
    the effective license mapped to SPDX ids, the declared ones only when every value maps."""
    from scanner.formats import aibom

    if snapshot.spdx_licenses:
        return snapshot
    components = {}
    for key, state in snapshot.components.items():
        declared = _spdx_text(aibom.declared_values_expression(state.declared, kb)[0])
        effective = aibom.spdx_expression(state.effective, kb) if state.effective else None
        components[key] = replace(
            state, declared=(declared,) if declared else (), effective=_spdx_text(effective)
        )
    return replace(snapshot, components=components, spdx_licenses=True)


@dataclass(frozen=True)
class Change:
    """One difference: `kind` is added, removed, version, declared, effective, license (one
    undivided license, when a side does not tell declared from effective), hash, new-finding or
    resolved-finding. `detail` is an added component's license or a finding's message."""

    kind: str
    component: str
    old: str | None = None
    new: str | None = None
    detail: str | None = None


@dataclass(frozen=True)
class Changes:
    changes: tuple[Change, ...]
    introduces_violation: bool
    integrity_drift: bool = False
    """A file's hash changed while the component's version did not: the same release now has
    other bytes (a swapped or corrupted weights file)."""

    @property
    def exit_code(self) -> int:
        """1 when a change introduces a policy violation or an integrity drift, else 0."""
        return 1 if self.introduces_violation or self.integrity_drift else 0


def _license_of(state: ComponentState) -> str | None:
    """One license for a component: the effective one, else the declared ones together."""
    return state.effective or (" AND ".join(state.declared) if state.declared else None)


def _classifiers_in_spdx(snapshot: Snapshot) -> Snapshot:
    """Another tool's declared Trove classifiers (cyclonedx-py writes each as a license `name`)
    in SPDX terms, as aiscan's SPDX writers map them: `License :: OSI Approved :: MIT License`
    is `MIT`. A classifier that names no license (`License :: OSI Approved`) says nothing a
    license id would, and is left out; one that maps to nothing stays as written."""
    if not any(
        v.startswith("License ::") for c in snapshot.components.values() for v in c.declared
    ):
        return snapshot
    from scanner.licensing.knowledge_base import default_knowledge_base
    from scanner.licensing.python_licenses import classifiers_to_spdx

    kb = default_knowledge_base()

    def mapped(value: str) -> str | None:
        if not value.startswith("License ::"):
            return value
        if value.count("::") < 2:
            return None
        return _spdx_text(classifiers_to_spdx(value, kb)) or value

    components = {
        key: replace(
            state, declared=tuple(dict.fromkeys(filter(None, map(mapped, state.declared))))
        )
        for key, state in snapshot.components.items()
    }
    return replace(snapshot, components=components)


_FAMILY_REF = re.compile(r"LicenseRef-aiscan-(BSD|GPL|LGPL|AGPL|Artistic)-unspecified")
"""aiscan's refs for a classifier or License field that names a license family only."""


def _same_license(before: str | None, after: str | None, *, families: bool = False) -> bool:
    """Whether two SPDX expressions say the same: equal once license-expression has simplified
    both (`MPL-2.0 AND MPL-2.0` is `MPL-2.0`; term order does not matter). With `families`
    (comparing tools that read different metadata fields), also, for conjunctions, equal once a
    family ref (`BSD License`, no variant named) beside a license of its family is dropped
    (`BSD-3-Clause AND` the BSD family is `BSD-3-Clause`), or when one side is a family ref
    alone and every license of the other is of that family."""
    if before == after:
        return True
    if before is None or after is None:
        return False
    from license_expression import ExpressionError, Licensing

    licensing = Licensing()
    try:
        first = licensing.parse(before, validate=False).simplify()
        second = licensing.parse(after, validate=False).simplify()
    except ExpressionError:
        return False
    if first == second or not families:
        return first == second

    def conjuncts(expression: object) -> set[str] | None:
        if " OR " in str(expression):
            return None
        keys = set(licensing.license_keys(expression))
        for key in list(keys):
            family = _FAMILY_REF.fullmatch(key)
            if family and any(k.startswith(f"{family.group(1)}-") for k in keys):
                keys.discard(key)
        return keys

    one, other = conjuncts(first), conjuncts(second)
    if one is None or other is None:
        return False
    if one == other:
        return True
    for alone, rest in ((one, other), (other, one)):
        family = _FAMILY_REF.fullmatch(next(iter(alone))) if len(alone) == 1 else None
        if family and rest and all(k.startswith(f"{family.group(1)}-") for k in rest):
            return True
    return False


def _component_changes(
    key: str, before: ComponentState, after: ComponentState, undivided: bool
) -> Iterator[Change]:
    if before.version != after.version:
        yield Change("version", key, before.version, after.version)
    if undivided:
        if not _same_license(_license_of(before), _license_of(after), families=True):
            yield Change("license", key, _license_of(before), _license_of(after))
    else:
        old_declared, new_declared = " AND ".join(before.declared), " AND ".join(after.declared)
        if not _same_license(old_declared or None, new_declared or None):
            yield Change("declared", key, ", ".join(before.declared), ", ".join(after.declared))
        if not _same_license(before.effective, after.effective):
            yield Change("effective", key, before.effective, after.effective)
    for path in sorted(before.hashes.keys() & after.hashes.keys()):
        if before.hashes[path] != after.hashes[path]:
            where = f"{key}/{path}" if path else key
            yield Change("hash", where, before.hashes[path], after.hashes[path])


def compare(old: Snapshot, new: Snapshot) -> Changes:
    """Every difference between two snapshots, in a stable order."""
    if old.spdx_licenses != new.spdx_licenses:
        from scanner.licensing.knowledge_base import default_knowledge_base

        kb = default_knowledge_base()
        old, new = in_spdx_terms(old, kb), in_spdx_terms(new, kb)
    old, new = _classifiers_in_spdx(old), _classifiers_in_spdx(new)
    undivided = not (old.concludes and new.concludes)
    changes: list[Change] = []
    drift = False
    for key in sorted(old.components.keys() | new.components.keys()):
        before, after = old.components.get(key), new.components.get(key)
        if before is None and after is not None:
            changes.append(Change("added", key, None, after.version, _license_of(after)))
        elif before is not None and after is None:
            changes.append(Change("removed", key, before.version, None, _license_of(before)))
        elif before is not None and after is not None:
            found = list(_component_changes(key, before, after, undivided))
            drift = drift or (
                before.version == after.version and any(c.kind == "hash" for c in found)
            )
            changes += found
    threshold = SEVERITY_RANK.get(new.fail_on, SEVERITY_RANK["error"])
    violation = False
    for rule, key in sorted(old.findings.keys() | new.findings.keys()):
        earlier = old.findings.get((rule, key), ())
        later = new.findings.get((rule, key), ())
        for finding in later:
            if finding.message in {f.message for f in earlier} or (earlier and not finding.message):
                continue
            changes.append(
                Change("new-finding", key, None, f"{rule} ({finding.severity})", finding.message)
            )
            violation = violation or SEVERITY_RANK.get(finding.severity, 0) >= threshold
        for finding in earlier:
            if finding.message in {f.message for f in later} or (later and not finding.message):
                continue
            changes.append(
                Change(
                    "resolved-finding", key, f"{rule} ({finding.severity})", None, finding.message
                )
            )
    return Changes(tuple(changes), violation, drift)


_HEADINGS = ("change", "component", "old", "new", "detail")


def render_diff(changes: Changes, output_format: str) -> str:
    """The changes as a table, JSON or Markdown (for a pull-request comment)."""
    if output_format == "json":
        return (
            json.dumps(
                {
                    "changes": [vars(c) for c in changes.changes],
                    "introduces_violation": changes.introduces_violation,
                    "integrity_drift": changes.integrity_drift,
                },
                indent=2,
                ensure_ascii=False,
            )
            + "\n"
        )
    rows = [
        (c.kind, c.component, c.old or "", c.new or "", c.detail or "") for c in changes.changes
    ]
    verdicts = [
        "a change introduces a policy violation"
        if changes.introduces_violation
        else "no change introduces a policy violation"
    ]
    if changes.integrity_drift:
        verdicts.append("INTEGRITY DRIFT: a hash changed while its version did not")
    verdict = "; ".join(verdicts)
    if output_format == "markdown":
        lines = ["## aiscan diff", "", f"{len(rows)} change(s); {escape(verdict)}.", ""]
        if rows:
            lines += ["| " + " | ".join(_HEADINGS) + " |", "|---|---|---|---|---|"]
            lines += ["| " + " | ".join(escape(v) for v in row) + " |" for row in rows]
        return "\n".join(lines) + "\n"
    shown = [tuple(printable(v) for v in row) for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in shown)]) for i, h in enumerate(_HEADINGS)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(_HEADINGS, widths, strict=True)).rstrip()]
    lines += [
        "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in shown
    ]
    return "\n".join(lines) + f"\n{len(rows)} change(s); {verdict}\n"
