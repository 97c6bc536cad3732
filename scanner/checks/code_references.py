"""Judges models that code loads: undeclared (shadow AI), unresolved, unpinned, unsafe options.

A reference is declared when a model of the same name (or, for a local path, the same folder)
is another component of the scan (a model folder, a cache revision, a Hub repo) or is listed
in the project's aiscan lock file or CycloneDX BOM, as recorded by the source.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import PurePath

from scanner.checks.interface import Check, CheckContext, finding
from scanner.inventory import CodeReference, Component, Finding
from scanner.licensing.lineage import is_local_path

_COMMIT = re.compile(r"^[0-9a-f]{40}$")


def _where(reference: CodeReference) -> str:
    cell = f" cell {reference.cell}" if reference.cell else ""
    return f"{reference.file}{cell}:{reference.line}"


def _ollama_tagged(name: str, reference: CodeReference) -> str | None:
    """An Ollama name as an Ollama store names the model: with its tag, `latest` when none
    is written (`ollama pull gemma2` stores `gemma2:latest`)."""
    if reference.registry != "ollama":
        return None
    name = name.lower().removeprefix("library/")
    return name if ":" in name else f"{name}:latest"


class CodeReferenceCheck(Check):
    """Findings for components that come from `CodeReference`s."""

    name = "code-references"

    def run(self, components: Sequence[Component], context: CheckContext) -> Iterator[Finding]:
        on_disk = [c for c in components if c.code_reference is None and c.type == "model"]
        names = {c.name.lower() for c in on_disk}
        folders = {PurePath(c.location).name.lower() for c in on_disk}
        for component in components:
            reference = component.code_reference
            if reference is not None:
                yield from self._check(component, reference, names, folders)

    def _check(
        self,
        component: Component,
        reference: CodeReference,
        names: set[str],
        folders: set[str],
    ) -> Iterator[Finding]:
        where = _where(reference)
        if not reference.resolved:
            yield finding(
                "provenance.unresolved-reference",
                component,
                f"{reference.call} at {where} loads a model named at run time "
                f"({reference.expression}); review which model it is",
                file=reference.file,
                line=reference.line,
                expression=reference.expression,
            )
            return
        local = is_local_path(component.name)
        if component.type == "model":
            declared = (
                bool(reference.declared_in)
                or component.name.lower() in names
                or _ollama_tagged(component.name, reference) in names
                or (local and PurePath(component.name).name.lower() in folders)
            )
            if not declared:
                yield finding(
                    "provenance.undeclared-model",
                    component,
                    f"{where} loads {component.name} ({reference.call}) but no model folder, "
                    "cache, lock file or BOM of the scan declares it",
                    file=reference.file,
                    line=reference.line,
                    call=reference.call,
                )
        if not local and reference.loads_weights:
            yield from self._revision(component, reference, where)
        if reference.trust_remote_code:
            yield finding(
                "provenance.remote-code",
                component,
                f"{where} loads {component.name} with trust_remote_code=True: code from the "
                "repo runs on load",
                file=reference.file,
                line=reference.line,
            )
        if reference.use_safetensors is False:
            yield finding(
                "provenance.unsafe-format",
                component,
                f"{where} loads {component.name} with use_safetensors=False, allowing pickle "
                "weights that can execute code",
                file=reference.file,
                line=reference.line,
            )

    def _revision(
        self, component: Component, reference: CodeReference, where: str
    ) -> Iterator[Finding]:
        if reference.revision is not None and _COMMIT.match(reference.revision):
            return
        if not reference.revision_literal:
            why = "revision= is computed at run time, so it cannot be shown to be a commit"
        elif reference.revision is None:
            why = "no revision= is given, so whatever the main branch holds is loaded"
        else:
            why = f"revision={reference.revision!r} is a branch or tag, not a 40-hex commit"
        yield finding(
            "provenance.unpinned-revision",
            component,
            f"{where} loads {component.name}: {why}",
            file=reference.file,
            line=reference.line,
            revision=reference.revision,
        )
