"""The Hugging Face Hub client: model_info with retries, an answer cache and a thread pool.

One `model_info` call per repo revision carries everything license and provenance questions
need: card data, commit sha, gating, and every file with its size and LFS sha256. The card
README and a LICENSE file are fetched only when asked for, bounded, and kept in aiscan's cache,
never in the user's HF cache. Answers for a commit sha are immutable and kept for good; branch
names are asked again after a TTL. The token comes from huggingface_hub's usual places
(HF_TOKEN, `hf auth login`) and is never printed or stored; credentials written into
HF_ENDPOINT are never shown. HF_ENDPOINT and HF_HUB_OFFLINE are read when the client is created,
so tests can point it at a local fake Hub. Rate limits, server errors and timeouts are retried
with backoff (honouring Retry-After); when the Hub still does not answer, HubUnavailable ends
the run with exit code 3.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlparse

from scanner.errors import ScanIncomplete, UsageError, redact_credentials

HUB_SCHEME = "hf://"
DEFAULT_ENDPOINT = "https://huggingface.co"
DEFAULT_TTL_SECONDS = 3600.0
"""How long an answer for a branch name is trusted before the Hub is asked again."""
ATTEMPTS = 4
COMMIT = re.compile(r"^[0-9a-f]{40}$")
REPO_ID = re.compile(r"^[\w.-]+/[\w.-]+$")
_TRUE = frozenset({"1", "on", "yes", "true"})
_CARD_FIELDS = (
    "license",
    "license_name",
    "license_link",
    "base_model",
    "base_model_relation",
    "datasets",
    "pipeline_tag",
    "library_name",
    "tags",
)


class HubUnavailable(ScanIncomplete):
    """The Hub did not answer after retries, or offline mode left nothing to read (exit 3)."""


def parse_target(target: str) -> tuple[str, str | None]:
    """Split `hf://org/name[@revision]` into repo id and revision; a malformed one is exit 2."""
    spec = target[len(HUB_SCHEME) :]
    repo_id, _, revision = spec.partition("@")
    if not REPO_ID.match(repo_id) or (revision == "" and "@" in spec):
        raise UsageError(f"{target!r} is not hf://org/name or hf://org/name@revision")
    return repo_id, revision or None


def is_hub_target(target: object) -> bool:
    return isinstance(target, str) and target.startswith(HUB_SCHEME)


@dataclass(frozen=True)
class HubFile:
    """One file of a Hub revision as `model_info` lists it."""

    path: str
    size: int | None
    lfs_sha256: str | None


@dataclass(frozen=True)
class HubModel:
    """The facts of one repo revision from one `model_info` answer."""

    repo_id: str
    sha: str
    gated: str | None
    private: bool
    card_data: dict[str, Any]
    files: tuple[HubFile, ...]
    auto_map: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> HubModel:
        files = tuple(HubFile(**f) for f in data["files"])
        return cls(**{**data, "files": files, "auto_map": tuple(data["auto_map"])})


def _truthy(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in _TRUE


def _auto_map(config: Any) -> tuple[str, ...]:
    auto_map = config.get("auto_map") if isinstance(config, dict) else None
    if not isinstance(auto_map, dict):
        return ()
    return tuple(
        f"{key}={','.join(str(v) for v in value if v) if isinstance(value, list) else value}"
        for key, value in auto_map.items()
    )


def _to_model(info: Any) -> HubModel:
    card = info.card_data.to_dict() if info.card_data is not None else {}
    files = tuple(
        HubFile(s.rfilename, s.size, s.lfs.sha256 if s.lfs is not None else None)
        for s in info.siblings or ()
    )
    return HubModel(
        repo_id=info.id,
        sha=info.sha,
        gated=info.gated or None,
        private=bool(info.private),
        card_data={k: card[k] for k in _CARD_FIELDS if card.get(k) is not None},
        files=files,
        auto_map=_auto_map(info.config),
    )


class HubAnswerCache:
    """Hub answers on disk: per commit kept for good, per branch trusted for `ttl` seconds."""

    def __init__(self, root: Path, endpoint: str, ttl: float) -> None:
        host = urlparse(endpoint).netloc.rpartition("@")[2] or "hub"  # never credentials
        self.root = root / "hub" / re.sub(r"[^\w.-]", "_", host)
        self.ttl = ttl

    def _path(self, repo_id: str, revision: str, kind: str) -> Path:
        name = quote(revision, safe="")
        return self.root / repo_id.replace("/", "--") / f"{kind}-{name}.json"

    def get(self, repo_id: str, revision: str, kind: str = "info") -> dict[str, Any] | None:
        path = self._path(repo_id, revision, kind)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not COMMIT.match(revision) and time.time() - data.get("fetched", 0) > self.ttl:
            return None
        return data

    def put(self, repo_id: str, revision: str, data: dict[str, Any], kind: str = "info") -> None:
        path = self._path(repo_id, revision, kind)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_suffix(f".{threading.get_ident()}.tmp")
            temporary.write_text(json.dumps({**data, "fetched": time.time()}), encoding="utf-8")
            temporary.replace(path)
        except OSError:
            pass  # a cache that cannot be written only costs another request next time


class HubClient:
    """Asks the Hub about repos, with retries, an on-disk answer cache and a thread pool."""

    def __init__(
        self,
        cache_dir: Path,
        *,
        ttl: float = DEFAULT_TTL_SECONDS,
        attempts: int = ATTEMPTS,
        backoff: float = 1.0,
        workers: int = 8,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.endpoint = (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")
        self.shown_endpoint = redact_credentials(self.endpoint)
        """The endpoint as messages and reports show it: credentials in HF_ENDPOINT stay secret."""
        self.offline = _truthy("HF_HUB_OFFLINE")
        self.cache = HubAnswerCache(cache_dir, self.endpoint, ttl)
        self.attempts = attempts
        self.backoff = backoff
        self.workers = workers
        self._sleep = sleep
        self._memo: dict[tuple[str, str], HubModel | None] = {}
        self._failed: dict[tuple[str, str], HubUnavailable] = {}
        self._lock = threading.Lock()

    # -- model_info ------------------------------------------------------------------------

    def model(self, repo_id: str, revision: str | None = None) -> HubModel | None:
        """The revision's facts, or None when the Hub says the repo does not exist for us."""
        revision = revision or "main"
        key = (repo_id.lower(), revision)
        with self._lock:
            if key in self._failed:
                raise self._failed[key]
            if key in self._memo:
                return self._memo[key]
        cached = self.cache.get(repo_id, revision)
        if cached is not None:
            model = HubModel.from_json(cached["model"]) if cached.get("model") else None
        elif self.offline:
            raise HubUnavailable(
                f"HF_HUB_OFFLINE is set and aiscan has no cached Hub answer for "
                f"{repo_id}@{revision}"
            )
        else:
            try:
                model = self._fetch(repo_id, revision)
            except HubUnavailable as exc:
                with self._lock:
                    self._failed[key] = exc
                raise
            self.cache.put(repo_id, revision, {"model": model.to_json() if model else None})
            if model is not None and model.sha != revision:
                self.cache.put(repo_id, model.sha, {"model": model.to_json()})
        with self._lock:
            self._memo[key] = model
        return model

    def prefetch(self, requests: Sequence[tuple[str, str | None]]) -> None:
        """Ask for many repos at once; answers land in the memo, errors surface on `model`."""
        if len(requests) < 2 or self.offline:
            return
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            futures = [pool.submit(self.model, r, v) for r, v in requests]
        for future in futures:
            with contextlib.suppress(HubUnavailable):
                future.result()  # the failure is raised again when the walk asks for it

    def _fetch(self, repo_id: str, revision: str) -> HubModel | None:
        from huggingface_hub import HfApi
        from huggingface_hub.errors import RepositoryNotFoundError, RevisionNotFoundError

        api = HfApi(endpoint=self.endpoint)
        try:
            info = self._retrying(
                f"{repo_id}@{revision}",
                lambda: api.model_info(repo_id, revision=revision, files_metadata=True),
            )
        except (RepositoryNotFoundError, RevisionNotFoundError):
            return None
        return _to_model(info)

    # -- files -----------------------------------------------------------------------------

    def file_text(self, model: HubModel, path: str, limit: int) -> str | None:
        """A small text file of a pinned revision (card, LICENSE), cached; None if unavailable."""
        cached = self.cache.get(model.repo_id, model.sha, kind=f"file-{path}")
        if cached is not None:
            return cached.get("text")
        if self.offline:
            return None
        from huggingface_hub.errors import EntryNotFoundError, HfHubHTTPError
        from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status

        # Built here rather than with hf_hub_url, whose template is fixed at import time.
        url = f"{self.endpoint}/{model.repo_id}/resolve/{model.sha}/{quote(path)}"

        def get() -> bytes:
            with get_session().stream(
                "GET", url, headers=build_hf_headers(), follow_redirects=True, timeout=30
            ) as response:
                hf_raise_for_status(response)
                data = b""
                for chunk in response.iter_bytes():
                    data += chunk
                    if len(data) >= limit:
                        break
                return data[:limit]

        try:
            data = self._retrying(f"{model.repo_id}/{path}", get)
        except (EntryNotFoundError, HfHubHTTPError):
            return None
        text = data.decode("utf-8", "replace")
        self.cache.put(model.repo_id, model.sha, {"text": text}, kind=f"file-{path}")
        return text

    # -- retries ---------------------------------------------------------------------------

    def _retrying(self, what: str, call: Callable[[], Any]) -> Any:
        """Run `call`, retrying rate limits, server errors and timeouts with backoff."""
        try:
            import httpx2 as httpx
        except ImportError:  # huggingface_hub releases before httpx2
            import httpx  # type: ignore[no-redef]
        from huggingface_hub.errors import HfHubHTTPError

        last = ""
        for attempt in range(self.attempts):
            delay = self.backoff * 2**attempt
            try:
                return call()
            except HfHubHTTPError as exc:
                response = exc.response
                status = response.status_code if response is not None else None
                if status is None or (status != 429 and status < 500):
                    raise
                last = f"HTTP {status}"
                retry_after = response.headers.get("Retry-After", "")
                if retry_after.strip().isdigit():
                    delay = min(float(retry_after), 60.0)
            except httpx.TransportError as exc:
                last = type(exc).__name__
            if attempt + 1 < self.attempts:
                self._sleep(delay)
        raise HubUnavailable(
            f"the Hub at {self.shown_endpoint} did not answer for {what} after {self.attempts} "
            f"attempts ({last}); try again later"
        )


class HubFileDigests:
    """The Hub's LFS sha256 of each file of a revision: `aiscan verify --hub`'s reference."""

    def __init__(self, client: HubClient) -> None:
        self.client = client

    def lfs_sha256(self, repo_id: str, revision: str, path: str) -> str | None:
        model = self.client.model(repo_id, revision)
        if model is None:
            return None
        return next((f.lfs_sha256 for f in model.files if f.path == path), None)
