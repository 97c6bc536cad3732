"""Reads the distributions installed in a Python environment, without importing any of them.

The metadata dump (`env_dump.py`) runs inside the target interpreter, so the environment read is
exactly the one that interpreter would import from, whatever its version or platform, and the
marker variables used to evaluate `Requires-Dist` are that interpreter's own.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

from scanner.sources.interface import SourceError

DUMP_TIMEOUT = 300


@dataclass(frozen=True)
class InstalledDistribution:
    """One installed distribution's metadata as written (nothing is normalised here)."""

    name: str
    version: str | None
    path: str | None
    license_expression: str | None = None
    license: str | None = None
    classifiers: tuple[str, ...] = ()
    requires_dist: tuple[str, ...] = ()
    license_files: tuple[tuple[str, str], ...] = ()
    error: str | None = None
    """Why the metadata could not be read; the other fields are then empty."""


@dataclass(frozen=True)
class Environment:
    """An interpreter's marker variables and installed distributions."""

    python: str
    version: str
    markers: Mapping[str, str]
    distributions: tuple[InstalledDistribution, ...]


def _distribution(raw: Mapping[str, Any]) -> InstalledDistribution | None:
    name = raw.get("name")
    if not name:
        return None
    return InstalledDistribution(
        name=name,
        version=raw.get("version"),
        path=raw.get("path"),
        license_expression=raw.get("license_expression"),
        license=raw.get("license"),
        classifiers=tuple(raw.get("classifiers") or ()),
        requires_dist=tuple(raw.get("requires_dist") or ()),
        license_files=tuple((f[0], f[1]) for f in raw.get("license_files") or ()),
        error=raw.get("error"),
    )


def parse_dump(document: Mapping[str, Any]) -> Environment:
    """Turn the dump's JSON into an `Environment`, keeping the first of duplicate names (the one
    the interpreter would import, as it comes first on sys.path)."""
    from packaging.utils import canonicalize_name

    seen: set[str] = set()
    distributions = []
    for raw in document.get("distributions", ()):
        dist = _distribution(raw)
        if dist is None or canonicalize_name(dist.name) in seen:
            continue
        seen.add(canonicalize_name(dist.name))
        distributions.append(dist)
    return Environment(
        python=document.get("python", ""),
        version=document.get("version", ""),
        markers=dict(document.get("markers") or {}),
        distributions=tuple(distributions),
    )


def read_environment(python: Path | str | None = None) -> Environment:
    """Run the metadata dump in `python` (default: the interpreter running aiscan).

    `-I` keeps the user's PYTHONPATH, user site and current directory out, so nothing but the
    environment's own site-packages is read.
    """
    interpreter = str(python or sys.executable)
    script = files("scanner.sources").joinpath("env_dump.py").read_text(encoding="utf-8")
    try:
        done = subprocess.run(
            [interpreter, "-I", "-c", script],
            capture_output=True,
            timeout=DUMP_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise SourceError(f"cannot run {interpreter}: {exc}") from exc
    if done.returncode != 0:
        last = (done.stderr.decode(errors="replace").strip().splitlines() or ["no output"])[-1]
        raise SourceError(
            f"cannot read the environment of {interpreter} (exit {done.returncode}): {last}"
        )
    try:
        document = json.loads(done.stdout)
    except ValueError as exc:
        raise SourceError(f"{interpreter} printed no metadata dump: {exc}") from exc
    return parse_dump(document)
