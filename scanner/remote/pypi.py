"""Fetches license metadata of packages that are declared but not installed, from a PyPI index.

Only used with `aiscan scan --pypi`: a lock file names `name==version`, and the index's JSON API
(`/pypi/<name>/<version>/json`) carries that release's License-Expression, License field and
classifiers. Answers are cached on disk per release, since a release's metadata never changes.
"""

from __future__ import annotations

import hashlib
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scanner.errors import redact_credentials

DEFAULT_INDEX = "https://pypi.org"
TIMEOUT = 15


@dataclass(frozen=True)
class ReleaseMetadata:
    """The license-relevant part of one release's JSON API answer, or why there is none."""

    url: str
    license_expression: str | None = None
    license: str | None = None
    classifiers: tuple[str, ...] = ()
    error: str | None = None


def configured_index() -> str | None:
    """The index to ask: `$AISCAN_PYPI_URL`, else pip's `$PIP_INDEX_URL` without its `/simple`
    suffix (mirrors such as devpi and Artifactory serve the JSON API beside the simple one)."""
    explicit = os.environ.get("AISCAN_PYPI_URL")
    if explicit:
        return explicit
    pip_index = os.environ.get("PIP_INDEX_URL", "").rstrip("/")
    if pip_index.endswith("/simple"):
        pip_index = pip_index[: -len("/simple")]
    return pip_index or None


class PyPIClient:
    """A minimal JSON API client with a per-release disk cache."""

    def __init__(self, index_url: str | None = None, cache_dir: Path | None = None) -> None:
        self.index_url = (index_url or configured_index() or DEFAULT_INDEX).rstrip("/")
        self.cache_dir = cache_dir

    def _cache_path(self, name: str, version: str) -> Path | None:
        """The cache file of one release: named by a digest of the index and the release, since
        both come from input (a lock file's version `==1.0/../../x` must not pick the path)."""
        if self.cache_dir is None:
            return None
        key = hashlib.sha256(f"{self.index_url}\0{name}\0{version}".encode()).hexdigest()
        return self.cache_dir / "pypi" / key[:2] / f"{key}.json"

    def release(self, name: str, version: str) -> ReleaseMetadata:
        path = (
            f"/pypi/{urllib.parse.quote(name, safe='')}/{urllib.parse.quote(version, safe='')}/json"
        )
        url = self.index_url + path
        shown = redact_credentials(self.index_url) + path
        cached = self._cache_path(name, version)
        if cached is not None and cached.is_file():
            try:
                return _parse(shown, json.loads(cached.read_text(encoding="utf-8")))
            except (OSError, ValueError, RecursionError):
                pass  # a damaged cache entry is fetched again
        try:
            with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
                document = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return ReleaseMetadata(shown, error=f"HTTP {exc.code} from {shown}")
        except (urllib.error.URLError, OSError, ValueError, RecursionError) as exc:
            return ReleaseMetadata(
                shown, error=f"cannot fetch {shown}: {redact_credentials(str(exc))}"
            )
        if cached is not None:
            try:
                cached.parent.mkdir(parents=True, exist_ok=True)
                cached.write_text(json.dumps({"info": document.get("info")}), encoding="utf-8")
            except (OSError, AttributeError, ValueError):
                pass  # the cache is an optimisation; the answer is still good
        return _parse(shown, document)


def _parse(url: str, document: Mapping[str, Any]) -> ReleaseMetadata:
    info = document.get("info") if isinstance(document, Mapping) else None
    if not isinstance(info, Mapping):
        return ReleaseMetadata(url, error=f"{url}: no 'info' in the answer")
    return ReleaseMetadata(
        url=url,
        license_expression=info.get("license_expression") or None,
        license=info.get("license") or None,
        classifiers=tuple(info.get("classifiers") or ()),
    )
