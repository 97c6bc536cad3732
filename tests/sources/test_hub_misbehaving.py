"""The Hub client against a fake Hub that misbehaves: every failure a stranger's server can
cause ends as one line on stderr with the contract's exit code, or as a recorded problem.

The client's bounds and backoff are made small (`impatient`), so no test waits for long.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from scanner.remote import hub
from scanner.remote.hub import Bounds, HubClient, HubUnavailable
from tests import fakehub
from tests.conftest import component, run_cli, scan_json
from tests.fakehub import stall, trickle

fake_hub = fakehub.fake_hub
"""The local fake Hub fixture (tests/fakehub.py)."""

QUICK = Bounds(connect=0.5, read=0.3, total=0.8)
"""Bounds small enough for tests: a trickle of one byte per 0.1 s never trips the read timeout
but runs past the deadline."""


@pytest.fixture
def impatient(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every Hub client the CLI makes uses QUICK bounds, 2 attempts and no backoff."""

    class Impatient(HubClient):
        def __init__(self, *args, **kwargs) -> None:
            kwargs.setdefault("bounds", QUICK)
            kwargs.setdefault("attempts", 2)
            kwargs.setdefault("backoff", 0.0)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(hub, "HubClient", Impatient)


def one_line_error(result, exit_code: int = 3) -> str:
    """The one `aiscan: error:` line of a run that failed with `exit_code`."""
    assert result.exit_code == exit_code, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("aiscan: error: "), result.stderr
    return lines[0]


# -- bounds ---------------------------------------------------------------------------------


def test_silent_hub_is_retried_then_exit_3(fake_hub, impatient):
    fake_hub.card_repo("acme/model", {"license": "mit"})
    fake_hub.misbehave("/api/models/acme/model", stall(1.5), times=2)
    started = time.monotonic()
    line = one_line_error(run_cli("scan", "hf://acme/model"))
    assert "did not answer for acme/model@main after 2 attempts" in line
    assert "no bytes for 0.3 s" in line
    assert time.monotonic() - started < 2.5
    assert len(fake_hub.api_calls("acme/model")) == 2


def test_one_stall_is_only_a_retry(fake_hub, impatient):
    fake_hub.card_repo("acme/model", {"license": "mit"})
    fake_hub.misbehave("/api/models/acme/model", stall(1.0))
    _, report = scan_json("hf://acme/model")
    assert component(report)["license"]["effective"] == "mit"


def test_readme_trickled_byte_by_byte_hits_the_deadline(fake_hub, impatient):
    fake_hub.card_repo("acme/model", {"license": "mit"})
    fake_hub.misbehave("/resolve/", trickle(b"---\nlicense: mit\n---\n" * 10, 0.1), times=2)
    started = time.monotonic()
    line = one_line_error(run_cli("scan", "hf://acme/model"))
    assert "acme/model/README.md" in line and "no complete answer within 0.8 s" in line
    assert time.monotonic() - started < 3.0


def test_headers_trickled_byte_by_byte_hit_the_deadline(fake_hub, impatient):
    fake_hub.card_repo("acme/model", {"license": "mit"})
    fake_hub.misbehave("/api/models/", trickle(b"{}", 0.1, headers_too=True), times=2)
    line = one_line_error(run_cli("scan", "hf://acme/model"))
    assert "no complete answer within 0.8 s" in line


def test_one_request_never_outlives_its_deadline(fake_hub, tmp_path):
    fake_hub.card_repo("acme/model", {"license": "mit"})
    fake_hub.misbehave("/api/models/", trickle(b"{}" * 100, 0.05))
    client = HubClient(tmp_path, attempts=1, bounds=Bounds(connect=1, read=1, total=0.4))
    started = time.monotonic()
    with pytest.raises(HubUnavailable, match=r"no complete answer within 0\.4 s"):
        client.model("acme/model")
    assert time.monotonic() - started < 0.4 + 0.3


@pytest.fixture
def unaccepting_port() -> Iterator[int]:
    """A loopback port whose accept queue is full: connecting to it hangs until a timeout."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    queued = []
    try:
        while True:
            try:
                queued.append(socket.create_connection(("127.0.0.1", port), timeout=0.2))
            except OSError:
                break
        yield port
    finally:
        for connection in queued:
            connection.close()
        server.close()


def test_hub_that_never_accepts_hits_the_connect_timeout(
    fake_hub, impatient, unaccepting_port, monkeypatch
):
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{unaccepting_port}")
    line = one_line_error(run_cli("scan", "hf://acme/model"))
    assert "no connection within 0.5 s" in line
