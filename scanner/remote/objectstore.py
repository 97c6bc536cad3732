"""Object stores through fsspec (`s3://`, `gs://`, `az://`, any fsspec URL): listing, ranged
reads, streamed hashing and the store's own checksums.

aiscan never handles credentials: each file system finds its own through its provider chain (for
S3, botocore's: the environment, the shared config and credentials files, SSO, container and
instance roles; `AWS_ENDPOINT_URL` names another endpoint). What is shown of a URL anywhere (a
component's location, an error line) has no user, password, query or fragment, and error texts
from the libraries are stripped of query strings, where presigned signatures and SAS tokens live.

Structure checks read 1 MiB ranges as far as a header goes (one GET for a typical safetensors
header, never the tensors); hashing streams each object once in fixed-size ranges. An object whose ETag or size differs from its
listing, or that vanished after it, is reported as such and never hashed as if it were whole.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import hashlib
import re
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any

from scanner.errors import SourceError, UsageError, redact_credentials

READ_BLOCK = 1024 * 1024
"""The range a structure reader fetches at a time: headers are read without the tensors."""
HASH_BLOCK = 8 * 1024 * 1024
"""The range hashing fetches per request: large enough that request overhead is small."""

_PACKAGES = {
    "s3": ("s3fs", 'pip install "aiscan[s3]"'),
    "s3a": ("s3fs", 'pip install "aiscan[s3]"'),
    "gs": ("gcsfs", "pip install gcsfs"),
    "gcs": ("gcsfs", "pip install gcsfs"),
    "az": ("adlfs", "pip install adlfs"),
    "abfs": ("adlfs", "pip install adlfs"),
    "abfss": ("adlfs", "pip install adlfs"),
}
"""The fsspec implementation each common scheme needs, and how to install it."""

_DEFAULT_OPTIONS: Mapping[str, Mapping[str, Any]] = {
    "s3": {
        # botocore waits 60 s to connect and retries on its own; an unreachable endpoint should
        # be one line within seconds, not minutes.
        "config_kwargs": {
            "connect_timeout": 10,
            "read_timeout": 60,
            "retries": {"max_attempts": 3, "mode": "standard"},
        },
    },
}
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_QUERY_IN_TEXT = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^\s\"'?#]*)[?#][^\s\"']*", re.IGNORECASE)


class ObjectStoreError(SourceError):
    """The store could not be listed at all: no such bucket, access denied, no credentials,
    endpoint unreachable (exit 3)."""


class ObjectStoreUnavailable(UsageError):
    """This install cannot read the URL's scheme: the fsspec implementation is not installed,
    or fsspec knows no such scheme (exit 2, with how to install it)."""


def is_object_url(target: str) -> bool:
    """Whether a target is an fsspec URL (`scheme://…`) rather than a local path or an `hf://`
    Hub repository (the Hub source reads those)."""
    found = _SCHEME.match(target)
    return found is not None and found.group(1).lower() not in ("hf", "file")


def shown_url(url: str) -> str:
    """`url` as it may be shown and stored: no user or password, query or fragment, and no
    trailing slash (`s3://bucket/prefix/` and `s3://bucket/prefix` are one target)."""
    parts = urllib.parse.urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", "")).rstrip("/")


def _secrets(url: str) -> list[str]:
    """The parts of a URL that may hold credentials: its user and password, query and
    fragment, and each of their values (a library may quote any of them on its own)."""
    parts = urllib.parse.urlsplit(url)
    found = [parts.netloc.rpartition("@")[0], parts.query, parts.fragment]
    found.extend(value for _, value in urllib.parse.parse_qsl(parts.query + "&" + parts.fragment))
    userinfo = parts.netloc.rpartition("@")[0]
    found.extend(userinfo.split(":"))
    return sorted((s for s in found if len(s) >= 4), key=len, reverse=True)


def describe_failure(exc: BaseException, url: str | None = None) -> str:
    """One line for what a store library raised: its message without credentials in URLs or
    query strings (nor any part of `url`, the target, that may hold them), and without the
    Python class name."""
    text = str(exc) or type(exc).__name__
    if isinstance(exc, OSError) and exc.strerror:
        text = exc.strerror
    for secret in _secrets(url) if url else ():
        text = text.replace(secret, "***")
    text = _QUERY_IN_TEXT.sub(r"\1", redact_credentials(text))
    return " ".join(text.split())


def _reading_error(exc: BaseException, url: str) -> OSError:
    """An `OSError` saying why an object could not be read, for readers that report those."""
    if isinstance(exc, FileNotFoundError):
        return FileNotFoundError(0, "object vanished: deleted after it was listed")
    if isinstance(exc, PermissionError):
        return PermissionError(0, f"access denied: {describe_failure(exc, url)}")
    return OSError(0, describe_failure(exc, url))


@dataclass(frozen=True)
class StoreObject:
    """One object as listed: where it is below the target, its size and version tag."""

    relative: str
    """Its path below the target (`''` when the target is this object)."""
    path: str
    """The file system's own path (`bucket/key`)."""
    size: int
    etag: str | None
    sha256_listed: bool = False
    """The listing says the object carries a SHA-256 checksum (S3 `ChecksumAlgorithm`)."""


def _etag(info: Mapping[str, Any]) -> str | None:
    """The version tag an fsspec listing gives (S3 `ETag`, GCS and Azure `etag`), unquoted."""
    for key in ("ETag", "etag", "e_tag"):
        value = info.get(key)
        if isinstance(value, str) and value:
            return value.strip('"')
    return None


def _storage_options(protocol: str) -> dict[str, Any]:
    return copy.deepcopy(dict(_DEFAULT_OPTIONS.get(protocol, {})))


def _unavailable(url: str, protocol: str, exc: BaseException) -> ObjectStoreUnavailable:
    package, install = _PACKAGES.get(protocol, (None, None))
    if package is not None:
        return ObjectStoreUnavailable(
            f"{shown_url(url)}: reading {protocol}:// needs {package}, which is not installed; "
            f"install it with: {install}"
        )
    return ObjectStoreUnavailable(
        f"{shown_url(url)}: no fsspec file system for {protocol}:// ({describe_failure(exc, url)})"
    )


def _file_system(url: str, storage_options: Mapping[str, Any]) -> tuple[Any, str]:
    """fsspec's file system for `url` and the path in it; `ObjectStoreUnavailable` when this
    install cannot read the scheme."""
    protocol = url.split("://", 1)[0].lower()
    try:
        import fsspec.core
    except ImportError as exc:
        raise _unavailable(url, protocol, exc) from exc
    try:
        return fsspec.core.url_to_fs(url, **storage_options)
    except ImportError as exc:
        raise _unavailable(url, protocol, exc) from exc
    except ValueError as exc:
        if "protocol" in str(exc).lower():
            raise _unavailable(url, protocol, exc) from exc
        raise ObjectStoreUnavailable(f"{shown_url(url)}: {describe_failure(exc, url)}") from exc


BUCKET_SCHEMES = frozenset({"s3", "s3a", "gs", "gcs", "az", "abfs", "abfss"})
"""Schemes whose URL starts with a bucket or container: a URL without one would list a whole
account (s3fs refuses; others may try)."""


class ObjectStore:
    """One object-store target: lists it and opens its objects for ranged reads."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.shown = shown_url(url)
        self.protocol = url.split("://", 1)[0].lower()
        if self.protocol in BUCKET_SCHEMES and not urllib.parse.urlsplit(self.shown).netloc:
            raise UsageError(
                f"a {self.protocol}:// target needs a bucket: {self.protocol}://BUCKET[/PREFIX]"
            )
        self.fs, path = _file_system(url, _storage_options(self.protocol))
        self.root = str(path).rstrip("/")
        self.storage_options: dict[str, Any] = dict(self.fs.storage_options)
        """What a worker needs, with the URL, to open the same file system (no secrets unless
        the URL itself held some; never shown)."""

    def _failed(self, exc: BaseException) -> ObjectStoreError:
        if isinstance(exc, FileNotFoundError):
            why = describe_failure(exc, self.url)
            if why.strip("/ ") == self.root.strip("/ "):
                why = "no such bucket or prefix"
            return ObjectStoreError(f"cannot list {self.shown}: {why}")
        if isinstance(exc, PermissionError):
            return ObjectStoreError(f"cannot list {self.shown}: access denied")
        return ObjectStoreError(f"cannot list {self.shown}: {describe_failure(exc, self.url)}")

    def list(self) -> list[StoreObject]:
        """Every object below the target (or the target itself when it names one object),
        sorted by path; `ObjectStoreError` when the store cannot be listed."""
        try:
            self.fs.invalidate_cache()  # a listing cached earlier in this process is stale
            found = self.fs.find(self.root, detail=True)
        except Exception as exc:  # the store's libraries raise their own types: all are one line
            raise self._failed(exc) from exc
        objects = []
        for path, info in sorted(found.items()):
            if info.get("type", "file") != "file":
                continue
            if path.rstrip("/") == self.root:
                relative = ""
            elif path.startswith(self.root + "/"):
                relative = path[len(self.root) + 1 :]
            else:
                continue  # `prefix2/…` when `prefix` was asked for: another target's objects
            size = info.get("size")
            objects.append(
                StoreObject(
                    relative=relative,
                    path=path,
                    size=size if isinstance(size, int) and size >= 0 else 0,
                    etag=_etag(info),
                    sha256_listed="SHA256" in (info.get("ChecksumAlgorithm") or ()),
                )
            )
        return objects

    def url_of(self, path: str) -> str:
        """The URL of one object of this file system, as `hash_object` takes it."""
        return str(self.fs.unstrip_protocol(path))

    def location(self, relative: str) -> str:
        """Where a folder or object below the target is, as shown in a report."""
        return f"{self.shown}/{relative}" if relative else self.shown

    def read_start(self, path: str, limit: int) -> bytes:
        """At most `limit` bytes from the start of one object (one ranged GET); `OSError`
        saying why when it cannot be read."""
        try:
            return bytes(self.fs.cat_file(path, start=0, end=limit))
        except Exception as exc:
            raise _reading_error(exc, self.url) from exc

    def opener(
        self, path: str, size: int
    ) -> Callable[[], contextlib.AbstractContextManager[IO[bytes]]]:
        """Opens one object of the listed `size` for the structure readers: seekable, reading
        `READ_BLOCK` ranges on demand; whatever the store raises while reading becomes an
        `OSError`. S3 is told the size, which saves a HEAD request per object."""
        known = {"size": size} if self.protocol in ("s3", "s3a") else {}

        @contextlib.contextmanager
        def open_object() -> Iterator[IO[bytes]]:
            try:
                with self.fs.open(
                    path, "rb", block_size=READ_BLOCK, cache_type="readahead", **known
                ) as f:
                    yield f
            except OSError as exc:
                raise _reading_error(exc, self.url) from exc
            except Exception as exc:
                raise _reading_error(exc, self.url) from exc

        return open_object

    def store_sha256(self, item: StoreObject) -> str | None:
        """The SHA-256 the store keeps of the whole object, as hex, when it has one: S3's
        `ChecksumSHA256` of a single-part upload. A multipart upload's checksum is of its
        parts (`…-N`, type COMPOSITE), not of the bytes, and is not used; its ETag (`…-N`) says
        it was one even where a store leaves the checksum's type out."""
        if self.protocol not in ("s3", "s3a") or not item.sha256_listed:
            return None
        if item.etag is not None and "-" in item.etag:
            return None
        bucket, _, key = item.path.partition("/")
        try:
            head = self.fs.call_s3("head_object", Bucket=bucket, Key=key, ChecksumMode="ENABLED")
        except Exception:
            return None  # no reference is no verdict: the object is still hashed
        value = head.get("ChecksumSHA256")
        if not isinstance(value, str) or "-" in value or head.get("ChecksumType") == "COMPOSITE":
            return None
        try:
            digest = base64.b64decode(value, validate=True)
        except ValueError:
            return None
        return digest.hex() if len(digest) == 32 else None


@dataclass(frozen=True)
class ObjectDigest:
    """The outcome of hashing one object: its SHA-256 when every byte was read from the
    version listed, else why not."""

    url: str
    sha256: str | None
    error: str | None = None
    git_sha1: str | None = None
    cached: bool = False


def _current(fs: Any, path: str) -> tuple[int | None, str | None]:
    """The object's size and ETag now, not from the listing cache."""
    with contextlib.suppress(Exception):
        fs.invalidate_cache(path)
    info = fs.info(path)
    size = info.get("size")
    return (size if isinstance(size, int) else None), _etag(info)


def hash_object(
    url: str,
    storage_options: Mapping[str, Any],
    size: int,
    etag: str | None,
    progress: Callable[[int], None] | None = None,
) -> ObjectDigest:
    """Stream one object and return its SHA-256, checking it is the version that was listed
    (same ETag and size) before and after, and that exactly `size` bytes came.

    A plain function of picklable arguments (the URL as `ObjectStore.url_of` gives it and the
    store's `storage_options`), so a Dask worker can run it as a task; credentials come from
    the worker's own provider chain. Never raises for what the store does.
    """
    read = 0
    sha256 = hashlib.sha256()
    try:
        fs, path = _file_system(url, storage_options)
        if _current(fs, path) != (size, etag):
            return ObjectDigest(url, None, "changed between listing and hashing")
        with fs.open(path, "rb", block_size=HASH_BLOCK, cache_type="none") as handle:
            # Never more than one byte past the listed size: enough to know it grew.
            while read <= size:
                chunk = handle.read(min(HASH_BLOCK, size + 1 - read))
                if not chunk:
                    break
                sha256.update(chunk)
                read += len(chunk)
                if progress is not None:
                    progress(len(chunk))
        if _current(fs, path) != (size, etag):
            return ObjectDigest(url, None, "changed or was deleted while being hashed")
    except UsageError as exc:
        return ObjectDigest(url, None, str(exc))
    except Exception as exc:  # a store's libraries raise their own types; each is one line
        return ObjectDigest(url, None, _reading_error(exc, url).strerror)
    if read != size:
        return ObjectDigest(url, None, f"read {read} bytes of {size}: changed while being hashed")
    return ObjectDigest(url, sha256.hexdigest())
