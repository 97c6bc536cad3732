"""The interface every source of facts implements, and what a run hands to each source.

A source turns one kind of target (a model folder or store, the HF cache, a Hub repo, a Python
project) into `Component` facts. Sources never judge: whether a license is acceptable is for
checks. Each source says which targets it accepts; `registry.py` lists them, so adding a store
is one module plus one line there.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from scanner.files import NO_EXCLUDES, Excludes
from scanner.inventory import Component, Service
from scanner.licensing.knowledge_base import LicenseKnowledgeBase

if TYPE_CHECKING:
    from scanner.readers.python.environment import Environment
    from scanner.remote.hub import HubClient
    from scanner.remote.pypi import PyPIClient

Target = Path | str
"""A local path, or an `hf://org/name[@revision]` string for the Hub."""

EnvMode = Literal["auto", "on", "off"]


@dataclass(frozen=True)
class ProjectOptions:
    """Which project sources a scan reads (`aiscan scan --env/--no-env/--python/--pypi/...`).

    `env`: `auto` reads the project's own `.venv`/`venv` when there is one, as files (its
    interpreter is never run); `on` runs the interpreter running aiscan (or `python`, which
    the user named) to dump its metadata; `off` reads no environment. `active_venv` is the
    virtual environment activated where aiscan runs (`$VIRTUAL_ENV`): in `auto` a project is
    read with it, as files, the way pip-licenses and pip-audit follow the active environment.
    """

    env: EnvMode = "auto"
    python: Path | None = None
    active_venv: Path | None = None
    manifests: bool = True
    code: bool = True
    pypi: PyPIClient | None = None


@dataclass(frozen=True)
class SourceContext:
    """What every source of one run may use, built once by the pipeline.

    `hub` is set when the run may ask the Hub; `project` when Python projects are read (with
    `environment`, the interpreter the user named, read once for the whole run); `files_only`
    for `aiscan verify`, which needs sizes, formats and headers but no cards or license texts;
    `exclude` the `--exclude` patterns, set to the target being read (`Excludes.below`) before
    its sources see it, so stores found inside a folder match paths from the same root.
    """

    kb: LicenseKnowledgeBase
    hub: HubClient | None = None
    project: ProjectOptions | None = None
    environment: Environment | None = None
    files_only: bool = False
    exclude: Excludes = NO_EXCLUDES


class Source(ABC):
    """Something that yields components for a scan."""

    name: str

    @classmethod
    @abstractmethod
    def accepts(cls, target: Target, context: SourceContext) -> bool:
        """Whether this source reads `target` (several may: a folder can hold models and be a
        Python project)."""

    @abstractmethod
    def collect(self) -> Iterator[Component | Service]:
        """Yield the components found, streaming so large stores need not fit in memory, and
        the AI services a project calls (only project sources find those)."""
