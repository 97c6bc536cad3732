"""The Hub client against a fake Hub that misbehaves: every failure a stranger's server can
cause ends as one line on stderr with the contract's exit code, or as a recorded problem.

The client's bounds and backoff are made small (`impatient`), so no test waits for long.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import pytest

from scanner.remote import hub
from scanner.remote.hub import Bounds, HubClient, HubUnavailable
from tests import fakehub
from tests.conftest import component, findings, run_cli, scan_json
from tests.fakehub import FAKE_TOKEN, raw, redirect_to_itself, stall, trickle

fake_hub = fakehub.fake_hub
impatient = fakehub.impatient
"""The local fake Hub fixture and small client bounds (tests/fakehub.py)."""


def one_line_error(result, exit_code: int = 3) -> str:
    """The one `aiscan: error:` line of a run that failed with `exit_code`."""
    assert result.exit_code == exit_code, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("aiscan: error: "), result.stderr
    return lines[0]


# -- bounds ---------------------------------------------------------------------------------


def test_silent_hub_is_retried_then_exit_3(fake_hub, impatient):
    fake_hub.card_repo("acme/model", {"license": "mit"})
    fake_hub.misbehave("/api/models/acme/model", stall(6), times=2)
    started = time.monotonic()
    line = one_line_error(run_cli("scan", "hf://acme/model"))
    assert "did not answer for acme/model@main after 2 attempts" in line
    assert "no bytes for 0.3 s" in line
    # Unbounded, the two stalls alone take 12 s; bounded, well under 6 even on a busy machine.
    assert time.monotonic() - started < 6
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
    assert "HF_HUB_OFFLINE=1" in line and "HF_ENDPOINT" in line  # what to do about it


def test_hub_refusing_connections_says_why_and_what_to_do(fake_hub, impatient, monkeypatch):
    import socket

    with socket.socket() as probe:  # a port nothing listens on: connections are refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    line = one_line_error(run_cli("scan", "hf://acme/model"))
    assert "ConnectError: " in line and "refused" in line.lower()
    assert "HF_HUB_OFFLINE=1" in line


# -- bad answers ----------------------------------------------------------------------------

INVALID_TOKEN = {"X-Error-Message": "Invalid credentials in Authorization header"}


def test_bad_token_is_one_line_naming_the_token_and_never_retried(fake_hub, impatient):
    fake_hub.card_repo("acme/model", {"license": "mit"})
    fake_hub.misbehave("/api/models/", raw(401, b'{"error": "Invalid credentials"}', INVALID_TOKEN))
    result = run_cli("scan", "hf://acme/model")
    line = one_line_error(result)
    assert "rejected the token for acme/model@main (HTTP 401)" in line and "HF_TOKEN" in line
    assert FAKE_TOKEN not in result.stdout + result.stderr
    assert len(fake_hub.api_calls("acme/model")) == 1


def test_token_without_permission_is_one_line(fake_hub, impatient):
    fake_hub.card_repo("acme/model", {"license": "mit"})
    fake_hub.misbehave("/api/models/", raw(403, b"{}"))
    line = one_line_error(run_cli("scan", "hf://acme/model"))
    assert "refused acme/model@main to this token (HTTP 403)" in line and "permission" in line


def test_bad_token_on_a_file_of_a_cached_answer_is_the_same_error(fake_hub, impatient):
    sha = fake_hub.card_repo("acme/model", {"license": "mit"})
    scan_json(f"hf://acme/model@{sha}")  # the commit's answer is cached; its README too
    fake_hub.card_repo("acme/other", {"license": "mit"})
    fake_hub.misbehave("/resolve/", raw(401, b"{}", INVALID_TOKEN))
    line = one_line_error(run_cli("scan", "hf://acme/other"))
    assert "rejected the token for acme/other/README.md" in line


def test_missing_token_is_named_as_such(fake_hub, impatient, monkeypatch):
    monkeypatch.delenv("HF_TOKEN")
    fake_hub.card_repo("acme/model", {"license": "mit"})
    fake_hub.misbehave("/resolve/", raw(401, b"{}"))
    line = one_line_error(run_cli("scan", "hf://acme/model"))
    assert "wants a token for acme/model/README.md (HTTP 401)" in line


def test_redirect_loop_is_one_line(fake_hub, impatient):
    fake_hub.card_repo("acme/model", {"license": "mit"})
    fake_hub.misbehave("/api/models/", redirect_to_itself(), times=50)
    line = one_line_error(run_cli("scan", "hf://acme/model"))
    assert "answered acme/model@main with redirects in a loop" in line


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"id": "acme/model", "sha": "0123', "a body that is not JSON"),
        (b"<!DOCTYPE html><html><body>Sign in</body></html>", "an HTML page instead of JSON"),
        (b"", "an empty body"),
        (b"[]", "JSON that is not an object"),
        (b"[" * 100_000 + b"]" * 100_000, "JSON nested too deeply"),
        (b"\xff\xfe{}", "a body that is not JSON"),
    ],
    ids=["truncated", "html", "empty", "array", "deep", "not-utf8"],
)
def test_answer_that_is_not_the_json_asked_for_is_one_line(fake_hub, impatient, body, reason):
    fake_hub.card_repo("acme/model", {"license": "mit"})
    fake_hub.misbehave("/api/models/", raw(200, body, {"Content-Type": "text/html"}))
    line = one_line_error(run_cli("scan", "hf://acme/model"))
    assert f"answered acme/model@main with {reason}" in line


def test_answer_cut_short_by_the_connection_is_retried(fake_hub, impatient):
    def cut(handler) -> None:
        handler.wfile.write(b'HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n{"id": ')
        handler.close_connection = True

    fake_hub.card_repo("acme/model", {"license": "mit"})
    fake_hub.misbehave("/api/models/", cut, times=2)
    line = one_line_error(run_cli("scan", "hf://acme/model"))
    assert "did not answer" in line and "RemoteProtocolError" in line


def test_unexpected_status_is_one_line(fake_hub, impatient):
    fake_hub.card_repo("acme/model", {"license": "mit"})
    fake_hub.misbehave("/api/models/", raw(418, b"teapot"))
    line = one_line_error(run_cli("scan", "hf://acme/model"))
    assert "answered acme/model@main with HTTP 418" in line


def test_answer_over_its_limit_is_one_line(fake_hub, impatient, monkeypatch):
    monkeypatch.setattr(hub, "MAX_INFO_BYTES", 1024 * 1024)
    fake_hub.card_repo("acme/model", {"license": "mit"})
    fake_hub.change_info("acme/model", lambda info: {**info, "padding": "x" * 1024 * 1024})
    line = one_line_error(run_cli("scan", "hf://acme/model"))
    assert "answered acme/model@main with more than 1 MiB" in line


def test_non_ascii_retry_after_is_ignored_for_the_backoff(fake_hub, impatient):
    fake_hub.card_repo("acme/model", {"license": "mit"})
    fake_hub.misbehave("/api/models/", raw(503, b"{}", {"Retry-After": "²"}))
    _, report = scan_json("hf://acme/model")
    assert component(report)["license"]["effective"] == "mit"
    assert len(fake_hub.api_calls("acme/model")) == 2


def test_retry_after_in_ascii_digits_is_honoured_up_to_its_cap(fake_hub, tmp_path):
    fake_hub.card_repo("acme/model", {"license": "mit"})
    for header, wait in [("7", 7.0), (" 3 ", 3.0), ("86400", hub.MAX_RETRY_AFTER), ("²", 1.0)]:
        waits: list[float] = []
        client = HubClient(tmp_path / header.strip(), attempts=2, sleep=waits.append)
        fake_hub.misbehave("/api/models/", raw(429, b"{}", {"Retry-After": header}))
        assert client.model("acme/model") is not None
        assert waits == [wait]


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("sha", 5, "no 40-hex commit sha"),
        ("sha", "main", "no 40-hex commit sha"),
        ("sha", None, "no 40-hex commit sha"),
        ("id", ["acme", "model"], "no valid repo id"),
        ("id", "../../../etc", "no valid repo id"),
    ],
)
def test_answer_without_id_or_commit_is_one_line(fake_hub, impatient, field, value, reason):
    fake_hub.card_repo("acme/model", {"license": "mit"})
    fake_hub.change_info("acme/model", lambda info: {**info, field: value})
    line = one_line_error(run_cli("scan", "hf://acme/model"))
    assert f"answered acme/model@main with {reason}" in line


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("siblings", "README.md", "not a list; the repo's files are unknown"),
        ("siblings", None, "not a list; the repo's files are unknown"),
        (
            "siblings",
            [3, {"size": 1}, {"rfilename": "LICENSE\n"}],
            "3 entries without a usable file name; skipped",
        ),
        ("cardData", ["license", "mit"], "not a mapping; the card data is unknown"),
        ("gated", ["manual"], "neither false nor a gating mode; gating is unknown"),
        ("gated", True, "neither false nor a gating mode; gating is unknown"),
    ],
)
def test_wrong_typed_fields_are_recorded_problems(fake_hub, impatient, field, value, message):
    fake_hub.card_repo("acme/model", {"license": "mit"})
    fake_hub.change_info("acme/model", lambda info: {**info, field: value})
    result, report = scan_json("hf://acme/model")
    assert result.exit_code == 1
    messages = {f["message"] for f in findings(report, "scan.unreadable")}
    assert f"model_info.{field}: {message}" in messages


def test_wrong_typed_fields_of_a_cached_repo_are_recorded_problems(fake_hub, tmp_path):
    from tests.conftest import make_hf_cache, model_repo_files

    files = model_repo_files("mit")
    commit = fake_hub.add_repo("acme/tune", files)
    fake_hub.change_info(
        "acme/tune", lambda info: {**info, "gated": {"mode": "manual"}, "siblings": "?"}
    )
    cache = tmp_path / "store"
    make_hf_cache(cache, "acme/tune", files, commit=commit)
    _, report = scan_json(cache, args=["--hub"])
    (hit,) = findings(report, "scan.unreadable")  # the files are the cache's, not the Hub's
    assert hit["message"].startswith("model_info.gated: ")


def test_lfs_entry_without_size_is_still_a_reference(fake_hub, impatient):
    def drop_lfs_size(info):
        for sibling in info["siblings"]:
            sibling.get("lfs", {}).pop("size", None)
        return info

    fake_hub.card_repo("acme/model", {"license": "mit"})
    fake_hub.change_info("acme/model", drop_lfs_size)
    _, report = scan_json("hf://acme/model")
    weights = next(f for f in component(report)["files"] if f["path"] == "model.safetensors")
    assert weights["expected"].startswith("sha256:")
    assert findings(report, "scan.unreadable") == []


@pytest.mark.parametrize("lfs", [{"sha256": "0" * 63}, {"sha256": 7}, {}, "lfs"])
def test_malformed_lfs_digest_is_a_problem_never_a_reference(fake_hub, impatient, lfs):
    def break_digest(info):
        for sibling in info["siblings"]:
            if sibling["rfilename"] == "model.safetensors":
                sibling["lfs"] = lfs
        return info

    fake_hub.card_repo("acme/model", {"license": "mit"})
    fake_hub.change_info("acme/model", break_digest)
    _, report = scan_json("hf://acme/model")
    weights = next(f for f in component(report)["files"] if f["path"] == "model.safetensors")
    assert "expected" not in weights
    (hit,) = findings(report, "scan.unreadable")
    assert "malformed LFS sha256 of model.safetensors" in hit["message"]


def test_wrong_typed_sizes_are_unknown_sizes(fake_hub, impatient):
    def odd_sizes(info):
        for sibling, size in zip(info["siblings"], ["12", -1, True], strict=True):
            sibling["size"] = size
        return info

    fake_hub.card_repo("acme/model", {"license": "mit"})
    fake_hub.change_info("acme/model", odd_sizes)
    _, report = scan_json("hf://acme/model")
    assert {f["size"] for f in component(report)["files"]} == {None}


def test_readme_answered_badly_is_a_problem(fake_hub, impatient):
    fake_hub.card_repo("acme/model", {"license": "mit"})
    fake_hub.misbehave("/resolve/", raw(400, json.dumps({"error": "bad"}).encode()))
    _, report = scan_json("hf://acme/model")
    (hit,) = findings(report, "scan.unreadable")
    assert "README.md: model card could not be fetched" in hit["message"]


# -- the answer cache -----------------------------------------------------------------------


def answer_files(cache_root) -> list:
    return sorted(cache_root.rglob("info-*.json"))


@pytest.mark.parametrize(
    "damage",
    [
        "not json {",
        "[]",
        '{"fetched": "yesterday", "answer": null}',
        '{"fetched": true, "immutable": true, "answer": null}',
        '{"fetched": 1e300, "answer": null}',
        '{"fetched": 0, "immutable": true, "answer": {"files": 3}}',
        '{"fetched": 0, "immutable": true, "answer": []}',
        '{"fetched": 0, "immutable": true}',
        "\udcff",
    ],
)
def test_damaged_answer_cache_file_is_ignored_refetched_and_replaced(fake_hub, tmp_path, damage):
    sha = fake_hub.card_repo("acme/model", {"license": "mit"})
    scan_json(f"hf://acme/model@{sha}")
    files = answer_files(tmp_path / "aiscan-cache")
    assert files
    for path in files:
        path.write_bytes(damage.encode("utf-8", "surrogateescape"))
    calls = len(fake_hub.api_calls("acme/model"))
    _, report = scan_json(f"hf://acme/model@{sha}")
    assert component(report)["license"]["effective"] == "mit"
    assert len(fake_hub.api_calls("acme/model")) == calls + 1
    scan_json(f"hf://acme/model@{sha}")  # the damaged file was replaced by the answer
    assert len(fake_hub.api_calls("acme/model")) == calls + 1


def age_answers(cache_root, seconds: float) -> None:
    """Make every cached answer `seconds` older."""
    for path in answer_files(cache_root):
        entry = json.loads(path.read_text())
        entry["fetched"] -= seconds
        path.write_text(json.dumps(entry))


def test_not_found_expires_like_a_branch_answer_even_for_a_commit(fake_hub, tmp_path):
    files = {"README.md": "---\nlicense: mit\n---\n", "config.json": "{}"}
    sha = fakehub.FakeHub().add_repo("acme/late", files)  # the sha it will have
    result, _ = scan_json(f"hf://acme/late@{sha}")
    assert result.exit_code == 1  # not found: a scan.unreadable finding
    fake_hub.add_repo("acme/late", files)  # published (or made public) since
    scan_json(f"hf://acme/late@{sha}")  # within the TTL the "not found" is still trusted
    assert len(fake_hub.api_calls("acme/late")) == 1
    age_answers(tmp_path / "aiscan-cache", hub.DEFAULT_TTL_SECONDS + 1)
    _, report = scan_json(f"hf://acme/late@{sha}")
    assert component(report)["version"] == sha
    assert len(fake_hub.api_calls("acme/late")) == 2
    age_answers(tmp_path / "aiscan-cache", 10 * hub.DEFAULT_TTL_SECONDS)
    scan_json(f"hf://acme/late@{sha}")  # a found commit's answer never expires
    assert len(fake_hub.api_calls("acme/late")) == 2


def test_cached_answer_keeps_its_problems(fake_hub, tmp_path):
    sha = fake_hub.card_repo("acme/model", {"license": "mit"})
    fake_hub.change_info("acme/model", lambda info: {**info, "gated": 1, "spaces": ["x"] * 100})
    _, first = scan_json(f"hf://acme/model@{sha}")
    _, again = scan_json(f"hf://acme/model@{sha}")
    assert len(fake_hub.api_calls("acme/model")) == 1
    assert findings(again, "scan.unreadable") == findings(first, "scan.unreadable") != []
    (cached,) = answer_files(tmp_path / "aiscan-cache")
    assert set(json.loads(cached.read_text())["answer"]) <= set(hub._ANSWER_FIELDS)


def test_repo_file_path_never_picks_where_the_cache_writes(fake_hub, tmp_path):
    fake_hub.card_repo("acme/model", {"license": "mit"})
    fake_hub.misbehave("LICENSE", raw(200, b"MIT License"))
    cache_root = tmp_path / "cache"
    client = HubClient(cache_root)
    model = client.model("acme/model")
    assert model is not None
    path = "../../../../../../../../" + str(tmp_path).lstrip("/") + "/ESCAPED/LICENSE"
    assert client.file_text(model, path, 1000) == "MIT License"
    assert not (tmp_path / "ESCAPED").exists()
    written = [p for p in cache_root.rglob("*") if p.is_file()]
    assert {p.parent.name for p in written} == {"acme--model"}
    assert client.file_text(model, path, 1000) == "MIT License"  # from the cache


def test_revision_with_slashes_is_digested_in_the_cache_name(fake_hub, tmp_path):
    sha = fake_hub.card_repo("acme/model", {"license": "mit"}, ref="refs/pr/1")
    _, report = scan_json("hf://acme/model@refs/pr/1")
    assert component(report)["version"] == sha
    names = {p.name for p in answer_files(tmp_path / "aiscan-cache")}
    assert f"info-{sha}.json" in names
    assert any(n.startswith("info-~") for n in names)
    scan_json("hf://acme/model@refs/pr/1")
    assert len(fake_hub.api_calls("acme/model")) == 1


# -- an unusable cache folder ---------------------------------------------------------------


def test_cache_folder_below_a_regular_file_warns_once_and_goes_on(fake_hub, tmp_path, monkeypatch):
    fake_hub.card_repo("acme/base", {"license": "mit"})
    sha = fake_hub.card_repo("acme/tune", {"license": "mit", "base_model": "acme/base"})
    (tmp_path / "file").write_text("x")
    monkeypatch.setenv("AISCAN_CACHE_DIR", str(tmp_path / "file" / "cache"))
    result, report = scan_json(f"hf://acme/tune@{sha}")
    assert result.exit_code == 0
    assert component(report, "acme/tune")["license"]["effective"] == "mit"
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("aiscan: warning: Hub answers are not cached: cannot write in ")
    assert line.endswith(": Not a directory")
    scan_json(f"hf://acme/tune@{sha}")
    assert len(fake_hub.api_calls("acme/tune")) == 2  # asked again: nothing was cached


def test_read_only_cache_folder_warns_once_and_goes_on(fake_hub, run_restricted, world_tmp):
    sha = fake_hub.card_repo("acme/model", {"license": "mit"})
    cache = world_tmp / "cache"
    cache.mkdir(mode=0o555)
    cache.chmod(0o555)
    env = {"AISCAN_CACHE_DIR": str(cache), "HF_HUB_OFFLINE": "0", "HF_ENDPOINT": fake_hub.endpoint}
    done = run_restricted("scan", f"hf://acme/model@{sha}", "--format", "json", env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["components"][0]["license"]["effective"] == "mit"
    assert done.stderr.strip().splitlines() == [
        f"aiscan: warning: Hub answers are not cached: cannot write in {cache / 'hub'}"
        f"/127.0.0.1_{fake_hub.endpoint.rpartition(':')[2]}: Permission denied"
    ]
    assert FAKE_TOKEN not in done.stdout + done.stderr


def test_an_unreachable_hub_does_not_stop_a_scan_of_local_models(
    fake_hub, impatient, monkeypatch, tmp_path
):
    """`scan --hub` of folders whose bases the Hub cannot be asked about: the catalogue still
    resolves a well-known base, an unknown one is unresolved with the Hub's failure as the
    reason."""
    import socket

    from tests.conftest import make_model_dir

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    known = make_model_dir(
        tmp_path, "tune", card={"license": "apache-2.0", "base_model": "meta-llama/Llama-2-7b-hf"}
    )
    unknown = make_model_dir(
        tmp_path, "other", card={"license": "mit", "base_model": "nobody/never-heard-of"}
    )
    result, report = scan_json(known, unknown, args=["--hub"])
    assert result.exit_code == 1  # the laundering error, not exit 3
    assert findings(report, "license.conflict-with-base")
    (unresolved,) = findings(report, "provenance.base-unresolved")
    assert "did not answer" in unresolved["message"]
