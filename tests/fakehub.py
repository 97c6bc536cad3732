"""A local fake of the Hugging Face Hub, served over real HTTP to the real huggingface_hub client.

Serves what huggingface_hub 2.x asks of a Hub (see /work/shared/notes/hub-api-for-tests.md):
`GET /api/models/{repo}[/revision/{rev}]` (model_info with card data, siblings, LFS sha256,
gating) and `HEAD`/`GET /{repo}/resolve/{rev}/{path}` (file bytes with X-Repo-Commit and ETag),
and the same for dataset repos under `/api/datasets/{repo}` and `/datasets/{repo}/resolve/`.
Missing repos and files answer 404 with `X-Error-Code`; gated files need a token; failures can
be queued per path (429, 500) to exercise retries, and so can any other misbehaviour (`stall`,
`trickle`, `raw` answers) to exercise the client's bounds. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlparse

import pytest
import yaml

from scanner.remote import hub
from scanner.remote.hub import Bounds

_FRONT = re.compile(r"\A---\r?\n(.*?)\r?\n---", re.DOTALL)
_LFS_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".gguf", ".onnx", ".pkl")
FAKE_TOKEN = "hf_fakeTOKENforTESTSonly0123456789"

Respond = Callable[[BaseHTTPRequestHandler], None]
"""A misbehaviour: writes whatever it likes (or nothing) to the client's connection."""


def raw(status: int, body: bytes = b"", headers: Mapping[str, str] = {}) -> Respond:
    """An answer with exactly this status, body and headers (Content-Length from the body)."""

    def respond(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        for key, value in headers.items():
            handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return respond


def redirect_to_itself() -> Respond:
    """A redirect to the very path asked for: a loop, when queued often enough."""

    def respond(handler: BaseHTTPRequestHandler) -> None:
        raw(302, headers={"Location": handler.path})(handler)

    return respond


def stall(seconds: float) -> Respond:
    """Accept the request, then say nothing for `seconds` and hang up."""

    def respond(handler: BaseHTTPRequestHandler) -> None:
        time.sleep(seconds)
        handler.close_connection = True

    return respond


def trickle(data: bytes, interval: float, *, headers_too: bool = False) -> Respond:
    """A 200 answer with `data` sent one byte every `interval` seconds: the body only, or
    (`headers_too`) the status line and headers as well. Stops when the client hangs up."""

    def respond(handler: BaseHTTPRequestHandler) -> None:
        head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(data)}\r\n\r\n".encode()
        if not headers_too:
            handler.wfile.write(head)
            handler.wfile.flush()
        try:
            for byte in (head if headers_too else b"") + data:
                handler.wfile.write(bytes([byte]))
                handler.wfile.flush()
                time.sleep(interval)
        except OSError:
            pass  # the client gave up, as it should
        handler.close_connection = True

    return respond


def _git_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class FakeRepo:
    repo_id: str
    revisions: dict[str, dict[str, bytes]] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)
    gated: str | bool = False
    card_data: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    config: dict[str, dict[str, Any] | None] = field(default_factory=dict)


class FakeHub:
    """Repos built by tests, and a log of every request the client made."""

    def __init__(self) -> None:
        self.repos: dict[str, FakeRepo] = {}
        self.datasets: dict[str, FakeRepo] = {}
        self.failures: list[tuple[str, Respond]] = []
        self.requests: list[tuple[str, str, str | None]] = []
        self.info_changes: dict[str, Callable[[dict[str, Any]], Any]] = {}
        self.lock = threading.Lock()
        self.endpoint = ""

    def add_repo(
        self,
        repo_id: str,
        files: Mapping[str, bytes | str],
        *,
        gated: str | bool = False,
        ref: str = "main",
        kind: str = "model",
    ) -> str:
        """Add a revision (its commit sha is derived from the content) and point `ref` at it;
        `kind="dataset"` adds it as a dataset repo."""
        data = {p: c.encode("utf-8") if isinstance(c, str) else c for p, c in files.items()}
        items = sorted(data.items())
        seed = (repo_id, items) if kind == "model" else (kind, repo_id, items)
        sha = hashlib.sha1(repr(seed).encode()).hexdigest()
        repos = self.datasets if kind == "dataset" else self.repos
        repo = repos.setdefault(repo_id.lower(), FakeRepo(repo_id))
        repo.revisions[sha] = data
        repo.refs[ref] = sha
        repo.gated = gated
        readme = data.get("README.md", b"").decode("utf-8", "replace")
        match = _FRONT.match(readme)
        repo.card_data[sha] = yaml.safe_load(match.group(1)) if match else None
        config = data.get("config.json")
        repo.config[sha] = json.loads(config) if config else None
        return sha

    def card_repo(self, repo_id: str, front: Mapping[str, Any], body: str = "# Model\n", **kw):
        """A repo with a card, a config and tiny safetensors weights."""
        card = f"---\n{yaml.safe_dump(dict(front), sort_keys=False)}---\n\n{body}"
        files = {
            "README.md": card,
            "config.json": json.dumps({"model_type": "llama"}),
            "model.safetensors": b"\x08\x00\x00\x00\x00\x00\x00\x00{}      ",
        }
        files.update(kw.pop("files", {}))
        return self.add_repo(repo_id, files, **kw)

    def dataset_repo(
        self, repo_id: str, front: Mapping[str, Any], body: str = "# Dataset\n", **kw: Any
    ) -> str:
        """A dataset repo with a card and one data file."""
        card = f"---\n{yaml.safe_dump(dict(front), sort_keys=False)}---\n\n{body}"
        files = {"README.md": card, "data/train.jsonl": '{"text": "hello"}\n'}
        files.update(kw.pop("files", {}))
        return self.add_repo(repo_id, files, kind="dataset", **kw)

    def fail(self, path_fragment: str, *statuses: int) -> None:
        """Answer the next requests whose path contains `path_fragment` with these statuses.

        `Retry-After: 0` keeps the client's backoff from sleeping in tests.
        """
        for status in statuses:
            body = json.dumps({"error": f"fake failure {status}"}).encode()
            self.misbehave(path_fragment, raw(status, body, {"Retry-After": "0"}))

    def misbehave(self, path_fragment: str, respond: Respond, times: int = 1) -> None:
        """Answer the next `times` requests whose path contains `path_fragment` with `respond`."""
        with self.lock:
            self.failures.extend((path_fragment, respond) for _ in range(times))

    def change_info(self, repo_id: str, change: Callable[[dict[str, Any]], Any]) -> None:
        """Send `change(answer)` instead of the repo's `model_info` answer: any JSON at all."""
        self.info_changes[repo_id.lower()] = change

    def api_calls(self, repo_id: str, kind: str = "models") -> list[str]:
        return [p for _, p, _ in self.requests if p.startswith(f"/api/{kind}/{repo_id}")]

    # -- answers ---------------------------------------------------------------------------

    def _pending_failure(self, path: str) -> Respond | None:
        with self.lock:
            for index, (fragment, respond) in enumerate(self.failures):
                if fragment in path:
                    del self.failures[index]
                    return respond
        return None

    def _resolve(
        self, repo_id: str, revision: str | None, kind: str = "model"
    ) -> tuple[FakeRepo, str] | None:
        repo = (self.datasets if kind == "dataset" else self.repos).get(repo_id.lower())
        if repo is None:
            return None
        sha = repo.refs.get(revision or "main", revision)
        return (repo, sha) if sha in repo.revisions else None

    def info(
        self, repo_id: str, revision: str | None, kind: str = "model"
    ) -> dict[str, Any] | None:
        found = self._resolve(repo_id, revision, kind)
        if found is None:
            return None
        repo, sha = found
        siblings = []
        for path, data in sorted(repo.revisions[sha].items()):
            sibling: dict[str, Any] = {
                "rfilename": path,
                "size": len(data),
                "blobId": _git_sha1(data),
            }
            if path.endswith(_LFS_SUFFIXES):
                sibling["lfs"] = {
                    "sha256": hashlib.sha256(data).hexdigest(),
                    "size": len(data),
                    "pointerSize": 134,
                }
            siblings.append(sibling)
        return {
            "_id": sha[:24],
            "id": repo.repo_id,
            "modelId": repo.repo_id,
            "author": repo.repo_id.split("/")[0],
            "sha": sha,
            "private": False,
            "gated": repo.gated,
            "disabled": False,
            "downloads": 0,
            "likes": 0,
            "tags": [],
            "cardData": repo.card_data[sha],
            "config": repo.config[sha],
            "siblings": siblings,
            "lastModified": "2024-01-01T00:00:00.000Z",
            "createdAt": "2024-01-01T00:00:00.000Z",
        }


def _handler(hub: FakeHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, status: int, body: bytes = b"", headers: Mapping[str, str] = {}) -> None:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _error(self, status: int, code: str | None, message: str) -> None:
            headers = {"Content-Type": "application/json"}
            if code:
                headers["X-Error-Code"] = code
                headers["X-Error-Message"] = message
            self._send(status, json.dumps({"error": message}).encode(), headers)

        def do_HEAD(self) -> None:
            self.do_GET()

        def do_GET(self) -> None:
            path = unquote(urlparse(self.path).path)
            hub.requests.append((self.command, path, self.headers.get("Authorization")))
            misbehaviour = hub._pending_failure(path)
            if misbehaviour is not None:
                misbehaviour(self)
                return
            api = re.match(r"^/api/(models|datasets)/([^/]+/[^/]+)(?:/revision/(.+))?$", path)
            if api:
                kind = "dataset" if api.group(1) == "datasets" else "model"
                info = hub.info(api.group(2), api.group(3), kind)
                if info is None:
                    self._error(404, "RepoNotFound", "Repository not found")
                    return
                change = hub.info_changes.get(api.group(2).lower())
                body = json.dumps(change(info) if change else info).encode()
                self._send(200, body, {"Content-Type": "application/json"})
                return
            resolve = re.match(r"^/(datasets/)?([^/]+/[^/]+)/resolve/([^/]+)/(.+)$", path)
            if resolve:
                prefix, repo_id, revision, file_path = resolve.groups()
                self._file(repo_id, revision, file_path, "dataset" if prefix else "model")
                return
            self._error(404, None, "not served by the fake Hub")

        def _file(self, repo_id: str, revision: str, file_path: str, kind: str) -> None:
            found = hub._resolve(repo_id, revision, kind)
            if found is None:
                self._error(404, "RepoNotFound", "Repository not found")
                return
            repo, sha = found
            auth = self.headers.get("Authorization") or ""
            if repo.gated and auth != f"Bearer {FAKE_TOKEN}":
                self._error(401, "GatedRepo", "Access to this model is restricted")
                return
            data = repo.revisions[sha].get(file_path)
            if data is None:
                self._error(404, "EntryNotFound", "Entry not found")
                return
            lfs = file_path.endswith(_LFS_SUFFIXES)
            etag = hashlib.sha256(data).hexdigest() if lfs else _git_sha1(data)
            self._send(200, data, {"X-Repo-Commit": sha, "ETag": f'"{etag}"'})

    return Handler


@pytest.fixture
def fake_hub(monkeypatch: pytest.MonkeyPatch, tmp_path) -> Iterator[FakeHub]:
    """A fake Hub on 127.0.0.1 with HF_ENDPOINT, HF_HOME, token and aiscan's cache pointing at it.

    huggingface_hub reads HF_HUB_OFFLINE at import time (the suite's autouse fixture sets it),
    so its module constant is switched off here too; aiscan itself reads the environment.
    """
    hub = FakeHub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(hub))
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    hub.endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf-home" / "hub"))
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    monkeypatch.setenv("HF_TOKEN", FAKE_TOKEN)
    monkeypatch.setenv("AISCAN_CACHE_DIR", str(tmp_path / "aiscan-cache"))
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "ENDPOINT", hub.endpoint)
    try:
        yield hub
    finally:
        server.shutdown()
        server.server_close()


QUICK = Bounds(connect=0.5, read=0.3, total=0.8)
"""Bounds small enough for tests: a trickle of one byte per 0.1 s never trips the read timeout
but runs past the deadline."""


@pytest.fixture
def impatient(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every Hub client the CLI makes uses QUICK bounds, 2 attempts and no backoff."""

    class Impatient(hub.HubClient):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("bounds", QUICK)
            kwargs.setdefault("attempts", 2)
            kwargs.setdefault("backoff", 0.0)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(hub, "HubClient", Impatient)
