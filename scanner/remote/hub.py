"""The Hugging Face Hub client: model_info with retries, an answer cache and a thread pool.

One `model_info` call per repo revision carries everything license and provenance questions
need: card data, commit sha, gating, and every file with its size and LFS sha256. The card
README and a LICENSE file are fetched only when asked for, bounded, and kept in aiscan's cache,
never in the user's HF cache. Answers for a commit sha are immutable and kept for good; branch
names, and every "not found", are asked again after a TTL. The token comes from
huggingface_hub's usual places (HF_TOKEN, `hf auth login`) and is never printed or stored;
credentials written into HF_ENDPOINT are never shown. HF_ENDPOINT and HF_HUB_OFFLINE are read
when the client is created, so tests can point it at a local fake Hub. HF_ENDPOINT may name a
stranger's server, so every answer is checked field by field, never trusted to have the Hub's
shape, and every request is bounded: CONNECT_TIMEOUT to connect, READ_TIMEOUT between bytes and
REQUEST_DEADLINE in all, so a server that trickles bytes cannot hold a scan. Rate limits, server
errors and timeouts are retried with backoff (honouring Retry-After); when the Hub still does
not answer, HubUnavailable ends the run with exit code 3.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar
from urllib.parse import quote, urlparse

from scanner.errors import ScanIncomplete, UsageError, redact_credentials
from scanner.inventory import Problem
from scanner.readers.card import CARD_FIELDS, DATASET_CARD_FIELDS

HUB_SCHEME = "hf://"
DATASETS_PREFIX = "datasets/"
"""What follows the scheme in a dataset target: `hf://datasets/org/name[@revision]`."""
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
MAX_RETRY_AFTER = 60.0
"""The longest wait a `Retry-After` header can ask for between two attempts."""
COMMIT = re.compile(r"^[0-9a-f]{40}$")
_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")
_GATING = re.compile(r"^[a-z][a-z_-]{0,31}$")
_SECONDS = re.compile(r"^[0-9]{1,9}$")
"""ASCII digits only: `str.isdigit()` also accepts "²", which `float()` refuses."""
_PLAIN_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")
"""A revision used as it is in a cache file name (`main`, a sha); any other is digested."""
_ANSWER_FIELDS = ("id", "sha", "gated", "private", "cardData", "siblings", "config")
"""The part of a `model_info` answer `_to_model` reads: all the answer cache keeps."""
_TRUE = frozenset({"1", "on", "yes", "true"})
CARD_DATA = "model_info.cardData"
GATED = "model_info.gated"
SIBLINGS = "model_info.siblings"
"""Locations of the problems a `model_info` answer can have: the field that could not be used."""


T = TypeVar("T")


class HubUnavailable(ScanIncomplete):
    """The Hub did not answer after retries, or offline mode left nothing to read (exit 3)."""


class HubAuthError(ScanIncomplete):
    """The Hub refused the token, or wants one (HTTP 401/403).

    Exit 3, not 2: the command line was fine and the same run succeeds once the token is; the
    token is judged by the server (expiry, revocation, a fine-grained token's scope), which may
    be a stranger's at HF_ENDPOINT. Retrying does not help, so it is not retried.
    """


class HubBadAnswer(ScanIncomplete):
    """The Hub answered with something aiscan cannot use: an unexpected status, redirects in a
    loop, a body that is not the JSON asked for, or JSON without a repo id and commit (exit 3)."""


class _DeadlineExceeded(Exception):
    """A request ran past REQUEST_DEADLINE: retried like a timeout."""


class _Unusable(Exception):
    """What the Hub sent cannot be used at all; the message says why (becomes HubBadAnswer)."""


@dataclass(frozen=True)
class Bounds:
    """How long one request may wait to connect, for the next bytes, and in all (seconds)."""

    connect: float = CONNECT_TIMEOUT
    read: float = READ_TIMEOUT
    total: float = REQUEST_DEADLINE


DEFAULT_BOUNDS = Bounds()


_REPO_ID = re.compile(
    r"""
    (\b[\w\-.]{1,96}\b/)?  # the namespace (user or organisation)
    \b[\w\-.]{1,96}\b      # the name
    """,
    re.VERBOSE | re.ASCII,
)
"""huggingface_hub's REPO_ID_REGEX (utils/_validators.py), restated: importing huggingface_hub
costs ~30 ms (httpx) that a scan of a local folder does not otherwise pay. A test holds the two
validators to the same answers."""


def is_repo_id(text: str) -> bool:
    """Whether `text` is an `org/name` id the Hub accepts, by huggingface_hub's own rules (ASCII
    letters, digits, `-`, `_`, `.`; each part at most 96 characters, not starting or ending with
    `-` or `.`; no `--` or `..`; not ending in `.git`), as `validate_repo_id` states them. Only
    such ids are asked for, and they name the answer cache's folders (`org--name` is then one
    folder per repo)."""
    return (
        text.count("/") == 1
        and _REPO_ID.fullmatch(text) is not None
        and "--" not in text
        and ".." not in text
        and not text.endswith(".git")
    )


def _is_revision(text: str) -> bool:
    """A branch, tag or commit name can hold neither control characters nor spaces."""
    return 0 < len(text) <= 255 and text.isprintable() and not any(c.isspace() for c in text)


def parse_target(target: str) -> tuple[str, str | None]:
    """Split `hf://org/name[@revision]` into repo id and revision; a malformed one is exit 2.

    The message never quotes huggingface_hub's (it repeats the id unescaped, newlines too).
    """
    spec = target[len(HUB_SCHEME) :]
    if is_dataset_target(target):
        spec = spec[len(DATASETS_PREFIX) :]
    repo_id, at, revision = spec.partition("@")
    if repo_id.count("/") != 1 or (at and not revision):
        raise UsageError(
            f"{target!r} is not hf://org/name[@revision] (a model) or "
            "hf://datasets/org/name[@revision] (a dataset)"
        )
    if not is_repo_id(repo_id):
        raise UsageError(
            f"{target!r}: {repo_id!r} is not a repo id the Hub accepts (ASCII letters, digits, "
            "'-', '_' and '.'; at most 96 characters a part; no leading or trailing '-' or '.'; "
            "no '--' or '..'; not ending in '.git')"
        )
    if at and not _is_revision(revision):
        raise UsageError(f"{target!r}: {revision!r} is not a branch, tag or commit name")
    return repo_id, revision or None


def is_hub_target(target: object) -> bool:
    return isinstance(target, str) and target.startswith(HUB_SCHEME)


def is_dataset_target(target: object) -> bool:
    """`hf://datasets/org/name[@revision]`: a dataset repo, not a model named `datasets/…`
    (a model id has one slash, so `hf://datasets/name` stays a model target)."""
    return (
        isinstance(target, str)
        and target.startswith(HUB_SCHEME + DATASETS_PREFIX)
        and target[len(HUB_SCHEME + DATASETS_PREFIX) :].partition("@")[0].count("/") >= 1
    )


@dataclass(frozen=True)
class HubFile:
    """One file of a Hub revision as `model_info` lists it."""

    path: str
    size: int | None
    lfs_sha256: str | None


@dataclass(frozen=True)
class HubModel:
    """The facts of one repo revision from one `model_info` answer, and what in the answer could
    not be used (`problems`, reported as `scan.unreadable` so nothing unknown passes as clean)."""

    repo_id: str
    sha: str
    gated: str | None
    private: bool
    card_data: dict[str, Any]
    files: tuple[HubFile, ...]
    auto_map: tuple[str, ...]
    problems: tuple[Problem, ...] = ()
    repo_type: str = "model"
    """`model` or `dataset`: which of the Hub's repo kinds the answer is about."""

    @property
    def path_prefix(self) -> str:
        """What precedes the repo id in the Hub's file URLs (`datasets/` for a dataset)."""
        return DATASETS_PREFIX if self.repo_type == "dataset" else ""


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


def _to_model(data: Any, repo_type: str = "model") -> HubModel:
    """The facts of a `model_info` answer (the JSON as sent), every field checked.

    Without a valid repo id and commit sha nothing can be pinned, fetched or cached: _Unusable
    says why. A wrong-typed file list, card data or gating is a recorded problem (its location
    names the field) and the rest of the answer is still used; fields aiscan does not need (an
    LFS entry's size) are not read.
    """
    if not isinstance(data, dict):
        raise _Unusable("JSON that is not an object")
    sha = data.get("sha")
    if not isinstance(sha, str) or not COMMIT.match(sha):
        raise _Unusable("no 40-hex commit sha")
    repo_id = data.get("id")
    if not isinstance(repo_id, str) or not is_repo_id(repo_id):
        raise _Unusable("no valid repo id")
    problems: list[Problem] = []
    card = data.get("cardData")
    if card is not None and not isinstance(card, dict):
        problems.append(Problem(CARD_DATA, "not a mapping; the card data is unknown"))
    card = card if isinstance(card, dict) else {}
    gated = data.get("gated")
    gating = gated if isinstance(gated, str) and _GATING.match(gated) else None
    if gating is None and gated is not None and gated is not False:
        problems.append(Problem(GATED, "neither false nor a gating mode; gating is unknown"))
    files, file_problems = _files(data.get("siblings"))
    fields = DATASET_CARD_FIELDS if repo_type == "dataset" else CARD_FIELDS
    return HubModel(
        repo_id=repo_id,
        sha=sha,
        gated=gating,
        private=data.get("private") is True,
        card_data={k: card[k] for k in fields if card.get(k) is not None},
        files=files,
        auto_map=_auto_map(data.get("config")) if repo_type == "model" else (),
        problems=(*problems, *file_problems),
        repo_type=repo_type,
    )


def _size(value: Any) -> int | None:
    """A file size as the Hub lists it, or None when it is not a byte count."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _files(siblings: Any) -> tuple[tuple[HubFile, ...], list[Problem]]:
    """The files `siblings` lists, and what about them could not be used."""
    if not isinstance(siblings, list):
        return (), [Problem(SIBLINGS, "not a list; the repo's files are unknown")]
    files: list[HubFile] = []
    nameless = 0
    bad_digests: list[str] = []
    for sibling in siblings:
        name = sibling.get("rfilename") if isinstance(sibling, dict) else None
        if not isinstance(name, str) or not name.isprintable():
            nameless += 1  # empty, or a control character or lone surrogate no Hub file has
            continue
        lfs = sibling.get("lfs")
        digest = lfs.get("sha256") if isinstance(lfs, dict) else None
        if not (isinstance(digest, str) and _SHA256.match(digest)):
            if lfs is not None:
                bad_digests.append(name)
            digest = None
        files.append(HubFile(name, _size(sibling.get("size")), digest.lower() if digest else None))
    problems = []
    if nameless:
        problems.append(
            Problem(SIBLINGS, f"{nameless} entries without a usable file name; skipped")
        )
    if bad_digests:
        shown = ", ".join(bad_digests[:3]) + (" …" if len(bad_digests) > 3 else "")
        problems.append(
            Problem(SIBLINGS, f"malformed LFS sha256 of {shown}; no Hub reference for them")
        )
    return tuple(files), problems


def _is_http_url(text: str) -> bool:
    try:
        parsed = urlparse(text)
        return parsed.scheme in ("http", "https") and bool(parsed.hostname)
    except ValueError:  # e.g. an unclosed [IPv6 address
        return False


def _cacheable(answer: dict[str, Any]) -> dict[str, Any]:
    """What the answer cache keeps of a `model_info` answer: the fields `_to_model` reads, so
    reading it back gives the same facts and problems (a popular repo's answer also lists
    thousands of Spaces)."""
    return {key: answer[key] for key in _ANSWER_FIELDS if key in answer}


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class HubAnswerCache:
    """Hub answers on disk, one JSON file each, written whole or not at all.

    An answer that can never change (found, for a commit sha) is kept for good; anything else, a
    branch's answer or a "not found" (the repo may be created, made public, or the token given
    access), is trusted for `ttl` seconds. A file that is not what `put` wrote is a miss, and is
    overwritten by the next answer. File names come from validated repo ids, plain revisions and
    digests, never from raw input: a repo file named `../../x` cannot pick where one is written.
    A cache folder that cannot be written (read-only, below a regular file) costs one warning
    and the run goes on without caching.
    """

    def __init__(
        self,
        root: Path,
        endpoint: str,
        ttl: float,
        warn: Callable[[str], None],
    ) -> None:
        host = urlparse(endpoint).netloc.rpartition("@")[2] or "hub"  # never credentials
        self.root = root / "hub" / re.sub(r"[^\w.-]", "_", host)
        self.ttl = ttl
        self._warn = warn
        self._unwritable = False
        self._lock = threading.Lock()

    def _path(self, repo_id: str, revision: str, kind: str) -> Path:
        """The file of one answer; `repo_id` is a validated id (one folder, no `--` in it)."""
        name = revision if _PLAIN_NAME.match(revision) else f"~{_digest(revision)}"
        return self.root / repo_id.replace("/", "--") / f"{kind}-{name}.json"

    def get(self, repo_id: str, revision: str, kind: str = "info") -> dict[str, Any] | None:
        """The entry `put` wrote, while it is trusted; None for none, a stale or a damaged one."""
        path = self._path(repo_id, revision, kind)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            return None
        if not isinstance(data, dict):
            return None
        fetched = data.get("fetched")
        if isinstance(fetched, bool) or not isinstance(fetched, (int, float)):
            return None
        if data.get("immutable") is True:
            return data
        return data if 0 <= time.time() - fetched <= self.ttl else None

    def put(
        self,
        repo_id: str,
        revision: str,
        data: dict[str, Any],
        *,
        immutable: bool,
        kind: str = "info",
    ) -> None:
        """Record an entry; `immutable` ones never expire."""
        if self._unwritable:
            return
        path = self._path(repo_id, revision, kind)
        entry = {**data, "fetched": time.time(), "immutable": immutable}
        temporary = path.with_suffix(f".{os.getpid()}-{threading.get_ident()}.tmp")
        try:
            text = json.dumps(entry)
        except RecursionError:  # JSON nested as deep as it could be loaded: only not cached
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary.write_text(text, encoding="utf-8")
            temporary.replace(path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                temporary.unlink(missing_ok=True)
            with self._lock:
                if self._unwritable:
                    return
                self._unwritable = True
            self._warn(
                f"Hub answers are not cached: cannot write in {self.root}: {exc.strerror or exc}"
            )


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
        warn: Callable[[str], None] | None = None,
    ) -> None:
        """`warn` is told, once, what keeps the answer cache from working; by default it is
        printed on stderr in the CLI's `aiscan: warning:` form."""
        self.endpoint = (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")
        self.shown_endpoint = redact_credentials(self.endpoint)
        """The endpoint as messages and reports show it: credentials in HF_ENDPOINT stay secret."""
        if not _is_http_url(self.endpoint):
            raise UsageError(f"HF_ENDPOINT {self.shown_endpoint!r} is not an http(s) URL")
        self.offline = _truthy("HF_HUB_OFFLINE")
        self.cache = HubAnswerCache(cache_dir, self.endpoint, ttl, warn or _warn_on_stderr)
        self.attempts = attempts
        self.backoff = backoff
        self.workers = workers
        self.bounds = bounds
        self._sleep = sleep
        self._memo: dict[tuple[str, str], HubModel | None] = {}
        self._failed: dict[tuple[str, str], ScanIncomplete] = {}
        self._lock = threading.Lock()

    # -- model_info ------------------------------------------------------------------------

    def model(self, repo_id: str, revision: str | None = None) -> HubModel | None:
        """The revision's facts, or None when the Hub says the repo does not exist for us, or
        cannot have it (an HF-cache folder named `models--a--b--c` is no Hub id)."""
        return self._repo(repo_id, revision, "model")

    def dataset(self, repo_id: str, revision: str | None = None) -> HubModel | None:
        """A dataset repo's facts from one `dataset_info` answer (card data, commit, gating,
        files), cached like a model's; None when the Hub says it does not exist for us."""
        return self._repo(repo_id, revision, "dataset")

    def _repo(self, repo_id: str, revision: str | None, repo_type: str) -> HubModel | None:
        if not is_repo_id(repo_id):
            return None
        revision = revision or "main"
        kind = _INFO_KINDS[repo_type]
        key = (f"{kind}:{repo_id.lower()}" if repo_type != "model" else repo_id.lower(), revision)
        with self._lock:
            if key in self._failed:
                raise self._failed[key]
            if key in self._memo:
                return self._memo[key]
        found, model = self._cached(repo_id, revision, repo_type)
        if not found:
            if self.offline:
                raise HubUnavailable(
                    f"HF_HUB_OFFLINE is set and aiscan has no cached Hub answer for "
                    f"{_shown(repo_id, repo_type)}@{revision}"
                )
            try:
                model, answer = self._fetch(repo_id, revision, repo_type)
            except ScanIncomplete as exc:
                with self._lock:
                    self._failed[key] = exc
                raise
            pinned = model is not None and COMMIT.match(revision) is not None
            entry = {"answer": answer}
            self.cache.put(repo_id, revision, entry, immutable=pinned, kind=kind)
            if model is not None and model.sha != revision:
                self.cache.put(repo_id, model.sha, entry, immutable=True, kind=kind)
        with self._lock:
            self._memo[key] = model
        return model

    def has_cached_answer(
        self, repo_id: str, revision: str = "main", repo_type: str = "model"
    ) -> bool:
        """Whether a trusted answer for the revision is cached (all offline mode can read)."""
        return self._cached(repo_id, revision, repo_type)[0]

    def _cached(
        self, repo_id: str, revision: str, repo_type: str = "model"
    ) -> tuple[bool, HubModel | None]:
        """(found, model) from the answer cache. The answer is read by `_to_model` again, so a
        cache file is trusted no more than the Hub; a damaged one is not found (asked again)."""
        entry = self.cache.get(repo_id, revision, kind=_INFO_KINDS[repo_type])
        if entry is None or "answer" not in entry:
            return False, None
        if entry["answer"] is None:
            return True, None  # "not found", for as long as it is trusted
        try:
            return True, _to_model(entry["answer"], repo_type)
        except _Unusable:
            return False, None

    def prefetch(self, requests: Sequence[tuple[str, str | None]]) -> None:
        """Ask for many repos at once; answers land in the memo, errors surface on `model`."""
        if len(requests) < 2 or self.offline:
            return
        from concurrent.futures import ThreadPoolExecutor  # here: most runs never ask the Hub

        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            futures = [pool.submit(self.model, r, v) for r, v in requests]
        for future in futures:
            with contextlib.suppress(ScanIncomplete):
                future.result()  # the failure is raised again when the walk asks for it

    def prefetch_datasets(self, repo_ids: Sequence[str]) -> None:
        """Ask for many datasets at once, like `prefetch` for models."""
        if len(repo_ids) < 2 or self.offline:
            return
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            futures = [pool.submit(self.dataset, r) for r in repo_ids]
        for future in futures:
            with contextlib.suppress(ScanIncomplete):
                future.result()

    def _fetch(
        self, repo_id: str, revision: str, repo_type: str = "model"
    ) -> tuple[HubModel | None, dict[str, Any] | None]:
        """`model_info` (or `dataset_info`) with files metadata and the part of the answer to
        cache, or (None, None) for "not found". Asked through `_get` (HfApi.model_info cannot
        bound a whole answer) and read by `_to_model` (huggingface_hub's ModelInfo fails on
        wrong-typed fields with whatever error the field causes)."""
        what = f"{_shown(repo_id, repo_type)}@{revision}"
        api = "datasets" if repo_type == "dataset" else "models"
        url = f"{self.endpoint}/api/{api}/{repo_id}/revision/{quote(revision, safe='')}"
        try:
            body = self._retrying(what, lambda: self._get(url, MAX_INFO_BYTES, {"blobs": "true"}))
        except _NotFound:
            return None, None
        if len(body) > MAX_INFO_BYTES:
            raise self._bad_answer(what, f"more than {MAX_INFO_BYTES // 2**20} MiB")
        try:
            answer = json.loads(body)
            return _to_model(answer, repo_type), _cacheable(answer)
        except _Unusable as exc:
            raise self._bad_answer(what, str(exc)) from None
        except RecursionError:
            raise self._bad_answer(what, "JSON nested too deeply") from None
        except ValueError:  # not JSON, not UTF-8, an integer of a million digits
            raise self._bad_answer(what, _not_json(body)) from None

    # -- files -----------------------------------------------------------------------------

    def file_text(self, model: HubModel, path: str, limit: int) -> str | None:
        """A small text file of a pinned revision (card, LICENSE), cached; None if unavailable.

        The cache file is named by a digest of `path`: repo file names are the publisher's.
        """
        kind = f"{'dataset-' if model.repo_type == 'dataset' else ''}file-{_digest(path)}"
        cached = self.cache.get(model.repo_id, model.sha, kind=kind)
        if cached is not None and isinstance(cached.get("text"), str):
            return cached["text"]
        if self.offline:
            return None
        # Built here rather than with hf_hub_url, whose template is fixed at import time.
        url = (
            f"{self.endpoint}/{model.path_prefix}{model.repo_id}/resolve/{model.sha}/{quote(path)}"
        )
        try:
            data = self._retrying(f"{model.repo_id}/{path}", lambda: self._get(url, limit))
        except (_NotFound, HubBadAnswer):
            return None  # the caller records the file as not fetched
        text = data[:limit].decode("utf-8", "replace")
        self.cache.put(model.repo_id, model.sha, {"text": text}, immutable=True, kind=kind)
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
                if response.status_code != 200:  # e.g. a redirect without a Location
                    raise _Unusable(f"HTTP {response.status_code}")
                return _read_body(response, limit + 1, abandoned)

        return _within(self.bounds.total, transfer, abandoned)

    def _retrying(self, what: str, call: Callable[[], T]) -> T:
        """Run `call`, retrying rate limits, server errors and timeouts with backoff.

        Raises _NotFound for an answer that says the repo, revision or file is not there for
        us, HubAuthError for 401/403, HubBadAnswer for anything else unusable, HubUnavailable
        when the attempts are used up.
        """
        httpx = _httpx()
        from huggingface_hub.errors import HfHubHTTPError

        not_found = _not_found_errors()
        last = ""
        for attempt in range(self.attempts):
            delay = self.backoff * 2**attempt
            try:
                return call()
            except not_found as exc:
                raise _NotFound from exc
            except HfHubHTTPError as exc:
                response = exc.response
                status = response.status_code if response is not None else None
                if status in (401, 403):
                    raise self._auth_error(what, response) from None
                if status is None or (status != 429 and status < 500):
                    raise self._bad_answer(what, f"HTTP {status}") from None
                last = f"HTTP {status}"
                delay = _retry_delay(response.headers.get("Retry-After"), delay)
            except httpx.TooManyRedirects:
                raise self._bad_answer(what, "redirects in a loop") from None
            except httpx.DecodingError:
                raise self._bad_answer(what, "a body that cannot be decoded") from None
            except _Unusable as exc:
                raise self._bad_answer(what, str(exc)) from None
            except httpx.TimeoutException as exc:
                last = _timeout_reason(exc, self.bounds)
            except httpx.TransportError as exc:
                detail = redact_credentials(str(exc)).strip()
                last = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
            except _DeadlineExceeded:
                last = f"no complete answer within {self.bounds.total:g} s"
            if attempt + 1 < self.attempts:
                self._sleep(delay)
        raise HubUnavailable(
            f"the Hub at {self.shown_endpoint} did not answer for {what} after {self.attempts} "
            f"attempts ({last}); try again later, or run offline with HF_HUB_OFFLINE=1 (the HF "
            "cache and aiscan's catalogue only) or point HF_ENDPOINT at a mirror"
        )

    def _bad_answer(self, what: str, reason: str) -> HubBadAnswer:
        return HubBadAnswer(f"the Hub at {self.shown_endpoint} answered {what} with {reason}")

    def _auth_error(self, what: str, response: Any) -> HubAuthError:
        """The likely cause of a 401 or 403, named without ever showing the token."""
        request = response.request
        sent = request is not None and "authorization" in request.headers
        where = f"the Hub at {self.shown_endpoint}"
        status = response.status_code
        if not sent:
            return HubAuthError(
                f"{where} wants a token for {what} (HTTP {status}); set HF_TOKEN or run "
                "`hf auth login`"
            )
        if status == 401:
            return HubAuthError(
                f"{where} rejected the token for {what} (HTTP 401): it is invalid, expired or "
                "revoked; check HF_TOKEN or `hf auth login`"
            )
        return HubAuthError(
            f"{where} refused {what} to this token (HTTP 403): it may lack the permission (a "
            "fine-grained token needs read access to the repo); check HF_TOKEN or `hf auth login`"
        )


def _warn_on_stderr(message: str) -> None:
    print(f"aiscan: warning: {message}", file=sys.stderr)


def _httpx() -> ModuleType:
    """The HTTP library huggingface_hub talks through (its errors and types)."""
    try:
        import httpx2
    except ImportError:  # huggingface_hub releases before httpx2
        import httpx

        return httpx
    return httpx2


_INFO_KINDS = {"model": "info", "dataset": "dataset-info"}
"""The answer cache's name for each repo kind's info answer (model answers keep their old name)."""


def _shown(repo_id: str, repo_type: str) -> str:
    """A repo as messages name it: `org/name` for a model, `datasets/org/name` for a dataset."""
    return f"{DATASETS_PREFIX}{repo_id}" if repo_type == "dataset" else repo_id


class _NotFound(Exception):
    """The Hub says the repo, revision or file is not there for us (missing, private, gated
    without access, disabled): `model` answers None, `file_text` None."""


def _not_found_errors() -> tuple[type[Exception], ...]:
    from huggingface_hub.errors import (
        DisabledRepoError,
        EntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    return (RepositoryNotFoundError, RevisionNotFoundError, EntryNotFoundError, DisabledRepoError)


def _retry_delay(header: str | None, backoff: float) -> float:
    """The wait a `Retry-After: <seconds>` asks for (at most MAX_RETRY_AFTER), else `backoff`."""
    value = (header or "").strip()
    return min(float(value), MAX_RETRY_AFTER) if _SECONDS.match(value) else backoff


def _not_json(body: bytes) -> str:
    """Why a body that should be JSON is not, in words (never quoting the stranger's bytes)."""
    if body.lstrip()[:1] == b"<":
        return "an HTML page instead of JSON (a proxy or login page?)"
    return "a body that is not JSON" if body.strip() else "an empty body"


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
    import concurrent.futures

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
