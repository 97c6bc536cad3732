"""The Hugging Face Hub client: model_info with retries, an answer cache and a thread pool.

One `model_info` call per repo revision carries everything license and provenance questions
need: card data, commit sha, gating, and every file with its size and LFS sha256. The card
README and a LICENSE file are fetched only when asked for, bounded, and kept in aiscan's cache,
never in the user's HF cache. Answers for a commit sha are immutable and kept for good; branch
names are asked again after a TTL. The token comes from huggingface_hub's usual places
(HF_TOKEN, `hf auth login`) and is never printed or stored; credentials written into
HF_ENDPOINT are never shown. HF_ENDPOINT and HF_HUB_OFFLINE are read when the client is created,
so tests can point it at a local fake Hub. Every request is bounded: CONNECT_TIMEOUT to connect,
READ_TIMEOUT between bytes and REQUEST_DEADLINE in all, so a server that trickles bytes cannot
hold a scan. Rate limits, server errors and timeouts are retried with backoff (honouring
Retry-After); when the Hub still does not answer, HubUnavailable ends the run with exit code 3.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import json
import os
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar
from urllib.parse import quote, urlparse

from scanner.errors import ScanIncomplete, UsageError, redact_credentials

HUB_SCHEME = "hf://"
DEFAULT_ENDPOINT = "https://huggingface.co"
DEFAULT_TTL_SECONDS = 3600.0
"""How long an answer for a branch name is trusted before the Hub is asked again."""
ATTEMPTS = 4
CONNECT_TIMEOUT = 10.0
"""Seconds to wait for the connection to the Hub (TCP and TLS)."""
READ_TIMEOUT = 30.0
"""Seconds to wait for the next bytes of an answer."""
REQUEST_DEADLINE = 60.0
"""Seconds one request may take from connecting to its last byte, redirects included, however
steadily bytes trickle in. Past it the request is abandoned and retried like a timeout."""
MAX_INFO_BYTES = 32 * 1024 * 1024
"""The largest `model_info` answer read; a repo with 100,000 files answers about 25 MiB."""
MAX_ERROR_BYTES = 64 * 1024
"""How much of an error answer's body is read (for huggingface_hub's error classification)."""
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


T = TypeVar("T")


class HubUnavailable(ScanIncomplete):
    """The Hub did not answer after retries, or offline mode left nothing to read (exit 3)."""


class _DeadlineExceeded(Exception):
    """A request ran past REQUEST_DEADLINE: retried like a timeout."""


@dataclass(frozen=True)
class Bounds:
    """How long one request may wait to connect, for the next bytes, and in all (seconds)."""

    connect: float = CONNECT_TIMEOUT
    read: float = READ_TIMEOUT
    total: float = REQUEST_DEADLINE


DEFAULT_BOUNDS = Bounds()


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
        bounds: Bounds = DEFAULT_BOUNDS,
    ) -> None:
        self.endpoint = (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")
        self.shown_endpoint = redact_credentials(self.endpoint)
        """The endpoint as messages and reports show it: credentials in HF_ENDPOINT stay secret."""
        self.offline = _truthy("HF_HUB_OFFLINE")
        self.cache = HubAnswerCache(cache_dir, self.endpoint, ttl)
        self.attempts = attempts
        self.backoff = backoff
        self.workers = workers
        self.bounds = bounds
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
        """`model_info` with files metadata, asked through `_get` (HfApi.model_info cannot
        bound a whole answer) and read with huggingface_hub's ModelInfo."""
        from huggingface_hub.errors import RepositoryNotFoundError, RevisionNotFoundError
        from huggingface_hub.hf_api import ModelInfo

        url = f"{self.endpoint}/api/models/{repo_id}/revision/{quote(revision, safe='')}"
        try:
            body = self._retrying(
                f"{repo_id}@{revision}", lambda: self._get(url, MAX_INFO_BYTES, {"blobs": "true"})
            )
        except (RepositoryNotFoundError, RevisionNotFoundError):
            return None
        return _to_model(ModelInfo(**json.loads(body)))

    # -- files -----------------------------------------------------------------------------

    def file_text(self, model: HubModel, path: str, limit: int) -> str | None:
        """A small text file of a pinned revision (card, LICENSE), cached; None if unavailable."""
        cached = self.cache.get(model.repo_id, model.sha, kind=f"file-{path}")
        if cached is not None:
            return cached.get("text")
        if self.offline:
            return None
        from huggingface_hub.errors import EntryNotFoundError, HfHubHTTPError

        # Built here rather than with hf_hub_url, whose template is fixed at import time.
        url = f"{self.endpoint}/{model.repo_id}/resolve/{model.sha}/{quote(path)}"
        try:
            data = self._retrying(f"{model.repo_id}/{path}", lambda: self._get(url, limit))
        except (EntryNotFoundError, HfHubHTTPError):
            return None
        text = data[:limit].decode("utf-8", "replace")
        self.cache.put(model.repo_id, model.sha, {"text": text}, kind=f"file-{path}")
        return text

    # -- requests --------------------------------------------------------------------------

    def _get(self, url: str, limit: int, params: Mapping[str, str] | None = None) -> bytes:
        """The body of a GET of `url`, at most `limit` + 1 bytes (so a caller can tell an answer
        over its limit), within `self.bounds`.

        An error status raises huggingface_hub's error for it (RepositoryNotFoundError, …),
        classified from the first MAX_ERROR_BYTES of the body only. The HTTP library bounds
        connecting and each read, not a whole answer: a server sending a byte every few seconds
        (headers or body) never trips a read timeout, so the request runs in a thread that the
        caller stops waiting for at the deadline (`_within`).
        """
        from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status

        httpx = _httpx()
        timeout = httpx.Timeout(self.bounds.read, connect=self.bounds.connect)
        headers = build_hf_headers()
        abandoned = threading.Event()

        def transfer() -> bytes:
            with get_session().stream(
                "GET", url, params=params, headers=headers, timeout=timeout, follow_redirects=True
            ) as response:
                if response.status_code >= 400:
                    body = _read_body(response, MAX_ERROR_BYTES, abandoned)
                    hf_raise_for_status(
                        httpx.Response(
                            response.status_code,
                            headers=response.headers,
                            content=body,
                            request=response.request,
                        )
                    )
                return _read_body(response, limit + 1, abandoned)

        return _within(self.bounds.total, transfer, abandoned)

    def _retrying(self, what: str, call: Callable[[], T]) -> T:
        """Run `call`, retrying rate limits, server errors and timeouts with backoff."""
        httpx = _httpx()
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
            except httpx.TimeoutException as exc:
                last = _timeout_reason(exc, self.bounds)
            except httpx.TransportError as exc:
                last = type(exc).__name__
            except _DeadlineExceeded:
                last = f"no complete answer within {self.bounds.total:g} s"
            if attempt + 1 < self.attempts:
                self._sleep(delay)
        raise HubUnavailable(
            f"the Hub at {self.shown_endpoint} did not answer for {what} after {self.attempts} "
            f"attempts ({last}); try again later"
        )


def _httpx() -> ModuleType:
    """The HTTP library huggingface_hub talks through (its errors and types)."""
    try:
        import httpx2
    except ImportError:  # huggingface_hub releases before httpx2
        import httpx

        return httpx
    return httpx2


def _timeout_reason(exc: Exception, bounds: Bounds) -> str:
    """Which bound a timeout of the HTTP library hit, in words."""
    httpx = _httpx()
    if isinstance(exc, httpx.ConnectTimeout):
        return f"no connection within {bounds.connect:g} s"
    if isinstance(exc, httpx.ReadTimeout):
        return f"no bytes for {bounds.read:g} s"
    return type(exc).__name__


def _read_body(response: Any, limit: int, abandoned: threading.Event) -> bytes:
    """At most `limit` bytes of a streamed body, stopping as soon as the caller gave up."""
    data = bytearray()
    for chunk in response.iter_bytes():
        if abandoned.is_set():
            raise _DeadlineExceeded
        data += chunk
        if len(data) >= limit:
            break
    return bytes(data[:limit])


def _within(seconds: float, call: Callable[[], T], abandoned: threading.Event) -> T:
    """`call()`, waited for at most `seconds`.

    It runs in a daemon thread: past the deadline the caller raises _DeadlineExceeded and sets
    `abandoned`, and the thread stops at its next chunk (or its read timeout) on its own; being
    a daemon, it never holds up the end of the run.
    """
    future: concurrent.futures.Future[T] = concurrent.futures.Future()

    def run() -> None:
        try:
            future.set_result(call())
        except BaseException as exc:  # handed to the caller, whatever it is
            future.set_exception(exc)

    threading.Thread(target=run, name="aiscan-hub-request", daemon=True).start()
    try:
        return future.result(timeout=seconds)
    except concurrent.futures.TimeoutError:
        if future.done():
            raise  # the call itself raised a TimeoutError
        abandoned.set()
        raise _DeadlineExceeded from None


class HubFileDigests:
    """The Hub's LFS sha256 of each file of a revision: `aiscan verify --hub`'s reference."""

    def __init__(self, client: HubClient) -> None:
        self.client = client

    def lfs_sha256(self, repo_id: str, revision: str, path: str) -> str | None:
        model = self.client.model(repo_id, revision)
        if model is None:
            return None
        return next((f.lfs_sha256 for f in model.files if f.path == path), None)
