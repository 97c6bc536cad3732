"""Fetches license metadata of packages that are declared but not installed, from a PyPI index.

Only used with `aiscan scan --pypi`: a lock file names `name==version`, and the index's JSON API
(`/pypi/<name>/<version>/json`) carries that release's License-Expression, License field and
classifiers. Answers are cached on disk per release, since a release's metadata never changes.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


class PyPIClient:
    """A minimal JSON API client with a per-release disk cache."""

    def __init__(self, index_url: str | None = None, cache_dir: Path | None = None) -> None:
        self.index_url = (index_url or os.environ.get("AISCAN_PYPI_URL") or DEFAULT_INDEX).rstrip(
            "/"
        )
        self.cache_dir = cache_dir

    def _cache_path(self, name: str, version: str) -> Path | None:
        if self.cache_dir is None:
            return None
        host = urllib.parse.urlsplit(self.index_url).netloc.replace(":", "_") or "index"
        return self.cache_dir / "pypi" / host / name / f"{version}.json"

    def release(self, name: str, version: str) -> ReleaseMetadata:
        url = f"{self.index_url}/pypi/{urllib.parse.quote(name)}/{urllib.parse.quote(version)}/json"
        cached = self._cache_path(name, version)
        if cached is not None and cached.is_file():
            try:
                return _parse(url, json.loads(cached.read_text(encoding="utf-8")))
            except (OSError, ValueError):
                pass  # a damaged cache entry is fetched again
        try:
            with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
                document = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return ReleaseMetadata(url, error=f"HTTP {exc.code} from {url}")
        except (urllib.error.URLError, OSError, ValueError) as exc:
            return ReleaseMetadata(url, error=f"cannot fetch {url}: {exc}")
        if cached is not None:
            try:
                cached.parent.mkdir(parents=True, exist_ok=True)
                cached.write_text(json.dumps({"info": document.get("info")}), encoding="utf-8")
            except OSError:
                pass  # the cache is an optimisation; the answer is still good
        return _parse(url, document)


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
