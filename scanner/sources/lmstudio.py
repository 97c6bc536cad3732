"""Reads LM Studio's models folder: one `model` component per `<publisher>/<repo>` folder.

LM Studio keeps what it downloads from the Hugging Face Hub as
`<models>/<publisher>/<repo>/<file>` (its documentation, "Import Models"), so the two folder
names are the Hub repo id the files came from. The models folder is `~/.lmstudio/models`
(`<home>/models`, where a `~/.lmstudio-home-pointer` file may name another LM Studio home) or,
for versions before 0.3, `~/.cache/lm-studio/models`. No store is read unless it is a target
(the LM Studio home or its models folder); a models folder moved elsewhere in LM Studio's
settings is scanned as a plain folder, whose model folders are named `publisher/repo` all the
same.

Each repo folder is read like any model folder (GGUF and safetensors headers, the GGUF's
`general.license*` and base-model declarations, a card or license file when one is there; LM
Studio downloads the weights alone, so most have neither). The component is named by the repo
id and carries it as its package URL, so a model built on it elsewhere in the scan finds it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from scanner.errors import SourceError, describe_os_error
from scanner.files import outside_problem, read_bounded
from scanner.inventory import Component, Problem
from scanner.readers.model_folder import read_model_folder
from scanner.sources.interface import Source, SourceContext, Target

_HOME_NAMES = frozenset({".lmstudio", "lm-studio"})
"""The folder names of LM Studio's home (`~/.lmstudio`) and of its older cache
(`~/.cache/lm-studio`); each holds `models/`."""
MAX_POINTER_BYTES = 4096


def default_lmstudio_models() -> tuple[Path, ...]:
    """Where LM Studio keeps models on this machine: the home the pointer file names (else
    `~/.lmstudio`), then the pre-0.3 cache folder."""
    home = Path.home() / ".lmstudio"
    try:
        pointed = read_bounded(Path.home() / ".lmstudio-home-pointer", MAX_POINTER_BYTES)
    except OSError:
        pointed = b""
    text = pointed.decode("utf-8", "replace").strip()
    if text and "\x00" not in text:
        home = Path(text).expanduser()
    return home / "models", Path.home() / ".cache" / "lm-studio" / "models"


def lmstudio_models_folder(path: Path) -> Path | None:
    """The models folder `path` is or holds, when it is LM Studio's: `models` inside an LM Studio
    home (`.lmstudio`, `lm-studio`), that home itself, or a default models folder."""
    try:
        if not path.is_dir():
            return None
        resolved = Path(os.path.realpath(path))
        if resolved.name == "models" and resolved.parent.name in _HOME_NAMES:
            return path
        if resolved.name in _HOME_NAMES and (path / "models").is_dir():
            return path / "models"
        if any(_same(path, default) for default in default_lmstudio_models()):
            return path
    except OSError:
        return None
    return None


def _same(path: Path, other: Path) -> bool:
    try:
        return path.samefile(other)
    except OSError:
        return False


class LmStudioSource(Source):
    """Every model of one LM Studio models folder."""

    name = "lmstudio"

    def __init__(self, target: Target, context: SourceContext) -> None:
        folder = lmstudio_models_folder(Path(target))
        assert folder is not None  # as `accepts` requires
        self.models = folder
        self.kb = context.kb
        self.files_only = context.files_only
        self.root = os.path.realpath(target)

    @classmethod
    def accepts(cls, target: Target, context: SourceContext) -> bool:
        return isinstance(target, Path) and lmstudio_models_folder(target) is not None

    def collect(self) -> Iterator[Component]:
        problems: list[Problem] = []
        for publisher in self._children(self.models, problems):
            for repo in self._children(publisher, problems):
                yield self._component(publisher.name, repo)
        stray = [
            Problem(str(path), "a file outside any <publisher>/<repo> folder; LM Studio ignores it")
            for path in self._files(self.models)
        ]
        if problems or stray:
            yield Component(
                ref="file:lmstudio/models",
                type="file",
                name="LM Studio models",
                source=self.name,
                location=str(self.models),
                problems=(*problems, *stray),
            )

    def _children(self, folder: Path, problems: list[Problem]) -> list[Path]:
        """The visible sub-folders of `folder` (links out of the target reported, not entered)."""
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            if folder == self.models:
                raise SourceError(f"cannot read {folder}: {describe_os_error(exc)}") from exc
            problems.append(Problem(str(folder), describe_os_error(exc)))
            return []
        children = []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = folder / entry.name
            problem = outside_problem(path, self.root)
            if problem is not None:
                problems.append(problem)
            elif path.is_dir():
                children.append(path)
        return children

    def _files(self, folder: Path) -> list[Path]:
        try:
            return sorted(
                folder / e.name
                for e in os.scandir(folder)
                if not e.name.startswith(".") and not e.is_dir()
            )
        except OSError:
            return []

    def _component(self, publisher: str, folder: Path) -> Component:
        repo_id = f"{publisher}/{folder.name}"
        facts = read_model_folder(folder, self.kb, files_only=self.files_only, root=self.root)
        card = facts.card
        return Component(
            ref=f"model:lmstudio/{repo_id}",
            type="model",
            name=repo_id,
            source=self.name,
            location=str(folder),
            purl=f"pkg:huggingface/{repo_id}",
            license=facts.license,
            base_models=tuple(b for b in facts.base_models if b.lower() != repo_id.lower()),
            datasets=card.datasets if card else (),
            files=facts.files,
            problems=facts.problems,
            details=facts.model_details(),
            notices=facts.notices,
            license_texts=facts.license_texts,
        )
