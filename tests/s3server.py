"""A local S3 endpoint for tests: moto's server mode on 127.0.0.1, reached through
`AWS_ENDPOINT_URL` exactly as a user's S3-compatible store would be.

`tests/conftest.py` makes its fixtures (`local_s3`, `moto_endpoint`) available to every test;
moto starts only for a test that asks for one.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

SECRET = "s3cr3t-never-shown-0123456789"
"""The fake secret key: no output may contain it."""
_buckets = itertools.count()


@dataclass
class LocalS3:
    """A running moto server, a boto3 client for putting fixtures into it, and a fresh bucket."""

    endpoint: str
    client: Any
    bucket: str

    def url(self, prefix: str = "") -> str:
        return f"s3://{self.bucket}/{prefix}".rstrip("/")

    def put(self, key: str, data: bytes, *, sha256: bool = False) -> None:
        """Upload one object in one part; with `sha256` S3 keeps its SHA-256 checksum."""
        extra = {"ChecksumAlgorithm": "SHA256"} if sha256 else {}
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data, **extra)

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=key)

    def upload_tree(self, folder: Path, prefix: str, *, sha256: bool = False) -> str:
        """Every file below `folder` as `prefix/<relative path>`; returns the prefix's URL."""
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                key = f"{prefix}/{path.relative_to(folder).as_posix()}".lstrip("/")
                self.put(key, path.read_bytes(), sha256=sha256)
        return self.url(prefix)


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """moto's threaded server on a free port of 127.0.0.1, for the whole session."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def s3_environment(monkeypatch: pytest.MonkeyPatch, endpoint: str) -> None:
    """Only the fake endpoint and keys: no developer's profile, config or instance role."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_S3", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    # fsspec reuses a file system made with the same arguments, and the endpoint is read from
    # the environment when one is made: a test with another endpoint needs a new one.
    import s3fs

    s3fs.S3FileSystem.clear_instance_cache()


@pytest.fixture
def local_s3(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> LocalS3:
    """The local endpoint in the environment, and an empty bucket of its own."""
    import boto3

    s3_environment(monkeypatch, moto_endpoint)
    client = boto3.client("s3", endpoint_url=moto_endpoint)
    bucket = f"models-{next(_buckets)}"
    client.create_bucket(Bucket=bucket)
    return LocalS3(moto_endpoint, client, bucket)
