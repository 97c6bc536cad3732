"""A local S3 endpoint for tests: moto's server mode on 127.0.0.1, reached through
`AWS_ENDPOINT_URL` exactly as a user's MinIO or S3-compatible store would be."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class LocalS3:
    """A running moto server and a boto3 client for putting fixtures into it."""

    endpoint: str
    client: Any

    def bucket(self, name: str) -> str:
        self.client.create_bucket(Bucket=name)
        return name

    def put(self, bucket: str, key: str, data: bytes, *, sha256: bool = False) -> None:
        """Upload one object, with the SHA-256 checksum S3 keeps when `sha256` (single part)."""
        extra = {"ChecksumAlgorithm": "SHA256"} if sha256 else {}
        self.client.put_object(Bucket=bucket, Key=key, Body=data, **extra)

    def upload_tree(self, folder: Path, bucket: str, prefix: str, *, sha256: bool = False) -> None:
        """Every file below `folder` as `prefix/<relative path>`."""
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                key = f"{prefix}/{path.relative_to(folder).as_posix()}".lstrip("/")
                self.put(bucket, key, path.read_bytes(), sha256=sha256)


def start() -> Iterator[tuple[Any, str]]:
    """Start moto's threaded server on a free port of 127.0.0.1; yields it and its URL."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield server, f"http://{host}:{port}"
    finally:
        server.stop()
