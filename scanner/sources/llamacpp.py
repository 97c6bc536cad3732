"""Reads llama.cpp's download cache: one `model` component per model pulled with `-hf`.

Where the cache is (llama.cpp's `fs_get_cache_directory` in `common/common.cpp`): `$LLAMA_CACHE`
when set, else `$XDG_CACHE_HOME/llama.cpp` or `~/.cache/llama.cpp` on Linux and the BSDs,
`~/Library/Caches/llama.cpp` on macOS and `%LOCALAPPDATA%\\llama.cpp` on Windows. No cache is
read unless it is a target: the home folder is the user's.

The layout is flat. `llama-cli -hf owner/repo:tag` saves the Hub's answer for that tag as
`manifest=<owner>=<repo>=<tag>.json` (its `ggufFile.rfilename` and `mmprojFile.rfilename` name
the files in the repo) and each file as `<owner>/<repo>_<rfilename>` with every `/` made `_`;
split GGUFs keep their `-00001-of-00003` suffix; the ETag of a download sits beside it in
`<file>.etag` (older builds: `<file>.json` with `url`, `etag` and `lastModified`) and a download
under way is `<file>.downloadInProgress`. A model is named as llama.cpp's `-hf` argument names
it (`owner/repo:tag`) and names that Hub repo as its base, so lineage (the HF cache, the Hub,
the catalogue) finds the repo's license; a GGUF no manifest claims is named by its file and
gets its repo only from a `.json` sidecar whose URL is a Hub download URL, since the flat name
cannot be split back into owner, repo and file. Newer builds keep `-hf` downloads in the
Hugging Face cache layout (`models--owner--repo`), which `HfCacheSource` reads.

The GGUF files are read with the GGUF reader (their `general.license*` and base-model keys are
declarations); nothing else about a manifest is trusted: a file it names that is not there, and
a file in the cache nothing explains, are recorded for the checks.
"""

from __future__ import annotations

import json
import os
import re
import stat
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from scanner.errors import SourceError, describe_os_error
from scanner.files import not_regular_description, outside_problem, read_whole
from scanner.inventory import (
    Component,
    Evidence,
    FileEntry,
    HeaderDefect,
    LicenseFacts,
    ModelDetails,
    Problem,
)
from scanner.readers.model_folder import read_file_entry
from scanner.readers.weights_metadata import weights_declarations
from scanner.sources.hfcache import is_cache_repo_dir
from scanner.sources.interface import Source, SourceContext, Target

MAX_MANIFEST_BYTES = 1024 * 1024
"""A cached Hub manifest is a few kilobytes; anything past this is not one."""
MAX_SIDECAR_BYTES = 64 * 1024
MAX_SPLIT_PARTS = 1000

_MANIFEST = re.compile(r"^manifest=([A-Za-z0-9_.-]+)=([A-Za-z0-9_.-]+)=(.*)\.json$")
"""llama.cpp's own pattern: `=` cannot occur in a repo name, so the parts split unambiguously."""
_SPLIT = re.compile(r"^(.+)-(\d{5})-of-(\d{5})\.gguf$", re.IGNORECASE)
_HUB_DOWNLOAD = re.compile(
    r"^https?://(?:www\.)?(?:huggingface\.co|hf\.co)/([\w.-]+/[\w.-]+)/resolve/[^/]+/(.+)$"
)
_SIDECARS = (".etag", ".json")
_PARTIAL = ".downloadInProgress"


def default_llama_cache() -> Path:
    """The folder llama.cpp downloads into on this platform (`fs_get_cache_directory`)."""
    explicit = os.environ.get("LLAMA_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA") or Path.home()) / "llama.cpp"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "llama.cpp"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "llama.cpp"


def is_llama_cache(path: Path) -> bool:
    """A folder llama.cpp downloaded into: a cached `manifest=…` answer, a GGUF with an ETag
    sidecar or a download under way at its top level, or the platform's cache folder itself."""
    try:
        if not path.is_dir():
            return False
        if _same(path, default_llama_cache()):
            return True
        names = {entry.name for entry in os.scandir(path)}
    except OSError:
        return False
    for name in names:
        if _MANIFEST.match(name) or name.endswith(".gguf" + _PARTIAL):
            return True
        if name.lower().endswith(".gguf") and any(name + s in names for s in _SIDECARS):
            return True
    return False


def _same(path: Path, other: Path) -> bool:
    try:
        return path.samefile(other)
    except OSError:
        return False


def _local_name(repo: str, rfilename: str) -> str:
    """The cache file name llama.cpp gives `rfilename` of `repo` (`common_params_handle_model`)."""
    return f"{repo}_{rfilename}".replace("/", "_")


@dataclass(frozen=True)
class _Manifest:
    """One cached `-hf owner/repo:tag` answer: the files it names, as cache file names."""

    name: str
    repo: str
    tag: str
    files: tuple[str, ...] = ()
    problems: tuple[Problem, ...] = ()


@dataclass
class _Listing:
    """The cache's top level: regular files by name, and what could not or should not be read."""

    files: set[str] = field(default_factory=set)
    problems: list[Problem] = field(default_factory=list)


class LlamaCppSource(Source):
    """Every model of one llama.cpp download cache."""

    name = "llamacpp"

    def __init__(self, target: Target, context: SourceContext, *, root: str | None = None) -> None:
        self.cache = Path(target)
        self.kb = context.kb
        self.files_only = context.files_only
        self.root = root or os.path.realpath(target)
        """The resolved scan target: no link may lead out of it. A cache met inside a larger
        target keeps that target's root."""

    @classmethod
    def accepts(cls, target: Target, context: SourceContext) -> bool:
        return isinstance(target, Path) and is_llama_cache(target)

    def collect(self) -> Iterator[Component]:
        listing = self._listing()
        claimed: set[str] = set()
        manifests = sorted(n for n in listing.files if _MANIFEST.match(n))
        for name in manifests:
            manifest = self._manifest(name)
            claimed.add(name)
            files = [f for part in manifest.files for f in _parts(part)]
            claimed.update(files)
            yield self._component(
                manifest.name, files, listing, (manifest.repo,), manifest.problems
            )
        loose = sorted(
            name for name in listing.files if name.lower().endswith(".gguf") and name not in claimed
        )
        grouped: dict[str, list[str]] = {}
        for name in loose:
            split = _SPLIT.match(name)
            grouped.setdefault(split.group(1) + ".gguf" if split else name, []).append(name)
        for name, files in sorted(grouped.items()):
            claimed.update(files)
            repo, evidence = self._sidecar_repo(files[0], listing)
            yield self._component(name, files, listing, repo, (), evidence)
        store = self._store_component(listing, claimed)
        if store is not None:
            yield store

    def _listing(self) -> _Listing:
        listing = _Listing()
        try:
            entries = sorted(os.scandir(self.cache), key=lambda e: e.name)
        except OSError as exc:
            raise SourceError(f"cannot read {self.cache}: {describe_os_error(exc)}") from exc
        for entry in entries:
            path = self.cache / entry.name
            problem = outside_problem(path, self.root)
            if problem is not None:
                listing.problems.append(problem)
                continue
            try:
                mode = path.stat().st_mode
            except OSError as exc:
                listing.problems.append(Problem(str(path), describe_os_error(exc)))
                continue
            if stat.S_ISREG(mode):
                listing.files.add(entry.name)
            elif stat.S_ISDIR(mode):
                if not is_cache_repo_dir(path):  # HfCacheSource reads those
                    listing.problems.append(
                        Problem(str(path), "a folder llama.cpp does not write; not read")
                    )
            else:
                listing.problems.append(
                    Problem(str(path), f"{not_regular_description(mode)}; not read")
                )
        return listing

    def _manifest(self, name: str) -> _Manifest:
        match = _MANIFEST.match(name)
        assert match is not None
        owner, repo_name, tag = match.groups()
        repo = f"{owner}/{repo_name}"
        shown = f"{repo}:{tag}" if tag else repo
        path = self.cache / name
        try:
            document = json.loads(read_whole(path, MAX_MANIFEST_BYTES))
        except OSError as exc:
            return _Manifest(
                shown, repo, tag, problems=(Problem(str(path), describe_os_error(exc)),)
            )
        except (ValueError, RecursionError) as exc:
            return _Manifest(
                shown, repo, tag, problems=(Problem(str(path), f"not a Hub manifest: {exc}"),)
            )
        files: list[str] = []
        problems: list[Problem] = []
        for key in ("ggufFile", "mmprojFile"):
            value = document.get(key) if isinstance(document, dict) else None
            rfilename = value.get("rfilename") if isinstance(value, dict) else None
            if isinstance(rfilename, str) and rfilename and "\x00" not in rfilename:
                files.append(_local_name(repo, rfilename))
            elif value is not None or key == "ggufFile":
                problems.append(Problem(str(path), f"manifest: {key}.rfilename is not a file name"))
        return _Manifest(shown, repo, tag, tuple(files), tuple(problems))

    def _sidecar_repo(
        self, name: str, listing: _Listing
    ) -> tuple[tuple[str, ...], tuple[Evidence, ...]]:
        """The Hub repo an old-style `.json` sidecar's download URL names, quoted as evidence."""
        sidecar = name + ".json"
        if sidecar not in listing.files:
            return (), ()
        try:
            document = json.loads(read_whole(self.cache / sidecar, MAX_SIDECAR_BYTES))
        except (OSError, ValueError, RecursionError):
            return (), ()
        url = document.get("url") if isinstance(document, dict) else None
        match = _HUB_DOWNLOAD.match(url) if isinstance(url, str) else None
        if match is None:
            return (), ()
        return (match.group(1),), (Evidence(sidecar, f"downloaded from {url}"),)

    def _entry(self, name: str, listing: _Listing) -> FileEntry:
        if name not in listing.files:
            return FileEntry(
                path=name,
                size=None,
                format="gguf",
                error="absent: the cached manifest names this file but the cache does not hold it",
            )
        return read_file_entry(self.cache / name, name, self.kb, files_only=self.files_only)

    def _component(
        self,
        name: str,
        names: list[str],
        listing: _Listing,
        repos: tuple[str, ...],
        problems: tuple[Problem, ...],
        evidence: tuple[Evidence, ...] = (),
    ) -> Component:
        files = [self._entry(n, listing) for n in names]
        declared: list[str] = []
        bases = list(repos)
        quoted = list(evidence)
        for declaration in weights_declarations(files):
            declared.extend(v for v in declaration.licenses if v.lower() not in _lower(declared))
            bases.extend(b for b in declaration.base_models if b.lower() not in _lower(bases))
            quoted.extend(declaration.evidence)
        architectures = [f.gguf.architecture for f in files if f.gguf and f.gguf.architecture]
        return Component(
            ref=f"model:llamacpp/{name}",
            type="model",
            name=name,
            source=self.name,
            location=str(self.cache),
            license=LicenseFacts(declared=tuple(declared), evidence=tuple(quoted)),
            base_models=tuple(bases),
            files=tuple(files),
            problems=problems,
            details=ModelDetails(model_type=next(iter(architectures), None)),
        )

    def _store_component(self, listing: _Listing, claimed: set[str]) -> Component | None:
        """Downloads under way and files llama.cpp does not write, and what of the cache could
        not be read, as one `file` component: nothing in the cache goes unreported."""
        files = []
        for name in sorted(listing.files - claimed):
            if name.endswith(_SIDECARS) and name.rsplit(".", 1)[0] in listing.files:
                continue  # the ETag of a file that is there
            if name.endswith(_SIDECARS) and name.rsplit(".", 1)[0].lower().endswith(".gguf"):
                why = "the ETag of a download the cache no longer holds"
            elif name.endswith(_PARTIAL):
                why = "an unfinished download: llama.cpp resumes or replaces it"
            else:
                why = "not a file llama.cpp's downloader writes"
            files.append(self._stray(name, why))
        if not files and not listing.problems:
            return None
        return Component(
            ref="file:llamacpp/cache",
            type="file",
            name="llama.cpp cache",
            source=self.name,
            location=str(self.cache),
            files=tuple(files),
            problems=tuple(listing.problems),
        )

    def _stray(self, name: str, why: str) -> FileEntry:
        try:
            size: int | None = (self.cache / name).stat().st_size
        except OSError:
            size = None
        return FileEntry(
            path=name, size=size, format="other", defects=(HeaderDefect("unexpected-file", why),)
        )


def _parts(name: str) -> list[str]:
    """A file a manifest names, with the other parts of a split GGUF (`-00001-of-00003`, as
    llama.cpp's `llama_split_path` names them); an absurd part count is taken as one file."""
    split = _SPLIT.match(name)
    if split is None:
        return [name]
    prefix, _, count = split.groups()
    total = int(count)
    if not 0 < total <= MAX_SPLIT_PARTS:
        return [name]
    return [f"{prefix}-{i:05d}-of-{total:05d}.gguf" for i in range(1, total + 1)]


def _lower(values: list[str]) -> set[str]:
    return {value.lower() for value in values}
