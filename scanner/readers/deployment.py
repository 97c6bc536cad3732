"""Finds the models and inference servers a project's deployment files name: Dockerfiles,
compose files, Kubernetes manifests, Helm values, shell scripts, Makefiles, `.env` files and
GitHub workflows.

They say which models are served without any Python naming them: `ollama pull llama3.1`,
`vllm serve meta-llama/Llama-3.1-8B-Instruct`, text-generation-inference's `--model-id`,
`MODEL_ID=…` settings, and the inference servers' own images (`ollama/ollama`,
`vllm/vllm-openai`). Every file is read as text, line by line, and split into words: YAML is
never parsed (so aliases are never expanded and a YAML bomb is just text), nothing is run or
substituted, and each file is bounded. A name given by a variable (`$MODEL`, `{{ .Values.model
}}`) is kept as an unresolved reference, never dropped.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

from scanner.errors import describe_os_error
from scanner.files import (
    NO_EXCLUDES,
    Excludes,
    FileTooLarge,
    control_character,
    outside_problem,
    read_whole,
    shown_name,
)
from scanner.inventory import CodeReference, Problem, Service
from scanner.readers.code_references import FoundReference
from scanner.readers.model_names import NamedModel, ollama_model, setting_model
from scanner.readers.project_files import YAML_SUFFIXES, project_files

MAX_DEPLOYMENT_BYTES = 4 * 1024 * 1024
"""Deployment files are kilobytes; a rendered Helm chart or a manifest bundle may reach a few
hundred. A larger file named like one (a Dockerfile, a workflow) is a problem, not read; a
larger YAML file elsewhere is data, not deployment, and is passed over."""

MAX_DEPLOYMENT_WORDS = 200_000
"""Words kept per file from the lines that can name a model: a real file has a few thousand, so
a file of nothing but `model:` keys (each word a tuple kept in memory) is refused instead."""
MAX_DEPLOYMENT_REFERENCES = 1_000
"""Models and servers reported per file; a compose file or manifest names a handful."""
_KEYWORDS = re.compile(
    r"model|ollama|vllm|revision|inference|llama\.cpp|sglang|localai|nvcr\.io", re.IGNORECASE
)
"""Words without which a line names no model or server (a setting `…MODEL…=`, a key
`model:`, a command, an image): other lines are not split into words."""
_FOLLOWING = 3
"""Lines after a keyword line that are read too: a Kubernetes `args` item or `env` `value:`
continues on the next lines (YAML list items do not count against it)."""
_LIST_ITEM = re.compile(r"^\s*- ")

_NAMED = ("Dockerfile", "Containerfile", "Makefile", "GNUmakefile", "makefile")
_SUFFIXES = (".dockerfile", ".containerfile", ".sh", ".bash", ".mk", ".env")
_VISITED_HIDDEN = frozenset({".github"})
"""Hidden folders read: GitHub workflows live in `.github/workflows`."""

_SPLIT = re.compile(r"[\s\[\],\"'`;]+")
_SETTING = re.compile(r"^[A-Z0-9_]*MODEL(?:_ID|_NAME|_REPO)?$")
"""Settings whose value is a model name: `MODEL_ID`, `HF_MODEL_ID`, `OPENAI_MODEL`,
`OLLAMA_MODEL`, `EMBEDDING_MODEL_NAME` (not `MODEL_PATH` or `MODEL_DIR`)."""
_YAML_KEYS = frozenset({"model:", "modelid:", "model_id:", "modelname:", "model_name:"})
"""Keys of Helm values and workflow inputs that name a model."""
_MODEL_FLAGS = frozenset({"--model", "--model-id", "--model_id", "--model-name"})
_SERVER_IMAGES = (
    (re.compile(r"^(?:docker\.io/)?ollama/ollama(?:[:@]\S*)?$"), "ollama"),
    (re.compile(r"^(?:docker\.io/)?vllm/vllm-(?:openai|tpu|cpu)\S*$"), "vllm"),
    (
        re.compile(r"^ghcr\.io/huggingface/text-generation-inference(?:[:@]\S*)?$"),
        "text-generation-inference",
    ),
    (
        re.compile(r"^ghcr\.io/huggingface/text-embeddings-inference(?:[:@]\S*)?$"),
        "text-embeddings-inference",
    ),
    (re.compile(r"^ghcr\.io/(?:ggerganov|ggml-org)/llama\.cpp(?:[:@]\S*)?$"), "llama.cpp"),
    (re.compile(r"^(?:docker\.io/)?lmsysorg/sglang(?:[:@]\S*)?$"), "sglang"),
    (re.compile(r"^(?:docker\.io/)?localai/localai(?:[:@]\S*)?$"), "localai"),
    (re.compile(r"^nvcr\.io/nim/\S+$"), "nvidia-nim"),
)
"""Container images of inference servers, and the server each runs."""

Found = FoundReference | Service | Problem

_LETTER = re.compile(r"[A-Za-z]")
_NOT_NAMES = frozenset({"true", "false", "null", "none", "yes", "no", "on", "off", "~"})


def is_deployment_file(path: Path) -> bool:
    """A file named like a deployment file (YAML anywhere counts: manifests, Helm values and
    workflows have no fixed names)."""
    name = path.name
    if name in _NAMED or name.startswith(("Dockerfile.", "Containerfile.", ".env")):
        return True
    return name.lower().endswith(_SUFFIXES) or name.endswith(YAML_SUFFIXES)


def _named_deployment(path: Path) -> bool:
    """A file whose name alone says it is a deployment file (not just any YAML)."""
    name = path.name
    if name.endswith(YAML_SUFFIXES):
        return (
            "compose" in name
            or name.startswith("values")
            or (path.parent.name == "workflows" and path.parent.parent.name == ".github")
        )
    return True


def deployment_files(root: Path, exclude: Excludes = NO_EXCLUDES) -> Iterator[Path]:
    """Deployment files below root (`project_files`; of hidden folders, `.github` only)."""
    return project_files(root, is_deployment_file, exclude, _VISITED_HIDDEN)


def _tokens(text: str) -> list[tuple[str, int]] | None:
    """The words of the lines that can name a model or server (a keyword on the line, or one
    of the `_FOLLOWING` lines after one, where a value split over lines continues), with their
    line numbers; comment lines and separators dropped. None past `MAX_DEPLOYMENT_WORDS`."""
    words = []
    follow = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if line.lstrip().startswith("#"):
            continue
        if _KEYWORDS.search(line):
            follow = _FOLLOWING
        elif follow:
            # A YAML list goes on as long as its items (`args:` of a manifest, `pull:` of a chart).
            follow = follow if _LIST_ITEM.match(line) else follow - 1
        else:
            continue
        for word in _SPLIT.split(line):
            if word and word not in ("-", "\\", "|", ">", "&&", "||", "&"):
                words.append((word, number))
        if len(words) > MAX_DEPLOYMENT_WORDS:
            return None
    return words


def _dynamic(value: str) -> bool:
    """A value given by a variable, a template, a placeholder or a YAML alias (`*name`)."""
    return "$" in value or value.startswith(("{{", "<", "*"))


def _value(words: list[tuple[str, int]], index: int) -> tuple[str, int] | None:
    """The word at `index` as a value (a template `{{ … }}` joined into one), or None when it
    is a flag or a key."""
    if index >= len(words):
        return None
    word, line = words[index]
    if word.startswith("-") or word.endswith(":"):
        return None
    if word.startswith("{{") and "}}" not in word:
        parts = [word]
        for following, _ in words[index + 1 : index + 8]:
            parts.append(following)
            if "}}" in following:
                break
        word = " ".join(parts)
    return word, line


def _image(word: str) -> str | None:
    return next((server for pattern, server in _SERVER_IMAGES if pattern.match(word)), None)


class _Scan:
    """The references of one file's words."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.found: list[FoundReference | Service] = []
        self.revisions: dict[int, str] = {}
        """`--revision` values by line: a server's model on that line is pinned to it."""

    @property
    def full(self) -> bool:
        """Past `MAX_DEPLOYMENT_REFERENCES`: the file is refused, so nothing more is kept."""
        return len(self.found) > MAX_DEPLOYMENT_REFERENCES

    def model(self, name: str, line: int, call: str, named: NamedModel | None = None) -> None:
        if self.full or not _LETTER.search(name) or name.lower() in _NOT_NAMES:
            return  # `model: 2`, `MODEL_ID=false`: a setting, not a model name
        if _dynamic(name) or control_character(name) is not None:
            # A variable is named at run time; a control character is a trick, shown quoted.
            shown = shown_name(name)
            reference = CodeReference(
                file=self.file, line=line, call=call, resolved=False, expression=shown
            )
            self.found.append(FoundReference(shown, "model", reference))
            return
        named = named or NamedModel("open-weight", name)
        if named.kind == "hosted":
            where = f"{self.file}:{line}"
            self.found.append(
                Service(
                    ref=f"service:{named.provider}/{named.name}#{where}",
                    provider=named.provider or "unknown",
                    file=self.file,
                    line=line,
                    call=call,
                    location=where,
                    model=named.name,
                )
            )
            return
        revision = self.revisions.get(line) if named.registry == "hub" else None
        reference = CodeReference(
            file=self.file,
            line=line,
            call=call,
            registry=named.registry,
            loads_weights=named.registry == "hub",
            revision=None if revision is None or _dynamic(revision) else revision,
            revision_literal=revision is None or not _dynamic(revision),
        )
        self.found.append(FoundReference(named.name, "model", reference))

    def server(self, image: str, server: str, line: int) -> None:
        if self.full:
            return
        where = f"{self.file}:{line}"
        self.found.append(
            Service(
                ref=f"service:{server}/{image}#{where}",
                provider=server,
                file=self.file,
                line=line,
                call="container image",
                location=where,
                hosted=False,
                image=image,
            )
        )

    @staticmethod
    def _list(words: list[tuple[str, int]], start: int) -> Iterator[tuple[str, int]]:
        """The values from `start` up to the next key (a word ending with `:`); indexed, not
        sliced, so a key that lists nothing costs nothing."""
        for index in range(start, len(words)):
            word, line = words[index]
            if word.endswith(":"):
                return
            yield word, line

    def words(self, words: list[tuple[str, int]], yaml: bool) -> None:
        for index, (word, line) in enumerate(words):
            flag, _, inline = word.partition("=")
            if flag == "--revision":
                value = (inline, line) if inline else _value(words, index + 1)
                if value is not None:
                    self.revisions.setdefault(value[1], value[0])
        under_models = False
        """Whether the last key was `models:` (or its sibling `pull:`/`run:` lists after it)."""
        for index, (word, line) in enumerate(words):
            following = words[index + 1][0] if index + 1 < len(words) else ""
            if word.endswith(":") and word not in ("pull:", "run:"):
                under_models = word == "models:"
            server = _image(word)
            if server is not None:
                self.server(word, server, line)
            elif yaml and under_models and word in ("pull:", "run:"):
                # The Ollama Helm chart's `ollama: {models: {pull: [...], run: [...]}}`.
                for item, at in self._list(words, index + 1):
                    self.model(item, at, f"models.{word}", ollama_model(item))
            elif word == "ollama" and following in ("pull", "run"):
                value = _value(words, index + 2)
                if value is not None:
                    self.model(value[0], value[1], f"ollama {following}", ollama_model(value[0]))
            elif word == "vllm" and following == "serve":
                value = _value(words, index + 2)
                if value is not None:
                    self.model(value[0], value[1], "vllm serve")
            elif word in _MODEL_FLAGS or (word.split("=", 1)[0] in _MODEL_FLAGS and "=" in word):
                flag, _, inline = word.partition("=")
                value = (inline, line) if inline else _value(words, index + 1)
                if value is not None:
                    self.model(value[0], value[1], flag, setting_model(value[0], "MODEL"))
            elif "=" in word and _SETTING.match(word.split("=", 1)[0].removeprefix("--")):
                variable, _, setting = word.partition("=")
                if setting:
                    self.model(setting, line, f"{variable}=", setting_model(setting, variable))
            elif word.endswith(":") and (
                _SETTING.match(word[:-1]) or (yaml and word.lower() in _YAML_KEYS)
            ):
                value = _value(words, index + 1)
                if value is not None:
                    variable = word[:-1]
                    self.model(value[0], value[1], word, setting_model(value[0], variable))
            elif word == "name:" and _SETTING.match(following):
                # A Kubernetes env entry: `- name: MODEL_ID` then `value: …`.
                if index + 2 < len(words) and words[index + 2][0] == "value:":
                    value = _value(words, index + 3)
                    if value is not None:
                        named = setting_model(value[0], following)
                        self.model(value[0], value[1], f"{following}=", named)
            elif word == "ENV" and _SETTING.match(following) and "=" not in following:
                value = _value(words, index + 2)  # the legacy `ENV MODEL_ID value` form
                if value is not None:
                    named = setting_model(value[0], following)
                    self.model(value[0], value[1], f"{following}=", named)


def scan_deployment_file(path: Path, display: str) -> Iterator[Found]:
    """The models and servers one deployment file names, or the problem reading it."""
    try:
        data = read_whole(path, MAX_DEPLOYMENT_BYTES)
    except FileTooLarge:
        if _named_deployment(path):
            yield Problem(
                display,
                f"larger than {MAX_DEPLOYMENT_BYTES // 2**20} MiB; not scanned for models",
            )
        return
    except OSError as exc:
        yield Problem(display, f"cannot read: {describe_os_error(exc)}; not scanned")
        return
    if b"\0" in data[:8192]:
        return  # binary, whatever its name
    words = _tokens(data.decode("utf-8", "replace"))
    if words is None:
        yield Problem(
            display,
            f"over {MAX_DEPLOYMENT_WORDS:,} words on lines that may name models; not scanned",
        )
        return
    scan = _Scan(display)
    scan.words(words, path.name.endswith(YAML_SUFFIXES))
    if scan.full:
        yield Problem(
            display,
            f"names over {MAX_DEPLOYMENT_REFERENCES:,} models and servers; not reported "
            "(a deployment file names a handful)",
        )
        return
    yield from scan.found


def scan_deployment_tree(
    root: Path, exclude: Excludes = NO_EXCLUDES
) -> Iterator[tuple[str, Found]]:
    """Every model, server and problem in the deployment files below root (but what `exclude`
    matches); a file linked out of the tree is a problem, never read."""
    real_root = os.path.realpath(root)
    for path in deployment_files(root, exclude):
        display = path.relative_to(root).as_posix()
        outside = outside_problem(path, real_root, display)
        items = (outside,) if outside is not None else scan_deployment_file(path, display)
        for item in items:
            yield display, item
