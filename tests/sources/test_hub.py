"""The Hub source against a local fake Hub, through the real huggingface_hub client."""

from __future__ import annotations

import json

import pytest

from tests import fakehub
from tests.conftest import (
    component,
    findings,
    make_hf_cache,
    model_repo_files,
    run_cli,
    scan_json,
)
from tests.fakehub import FAKE_TOKEN

fake_hub = fakehub.fake_hub
"""The local fake Hub fixture (tests/fakehub.py)."""


def test_hf_target_reads_card_files_and_commit(fake_hub):
    sha = fake_hub.card_repo("acme/model", {"license": "mit", "datasets": ["acme/data"]})
    _, report = scan_json("hf://acme/model")
    c = component(report)
    assert c["ref"] == f"model:hf/acme/model@{sha}"
    assert c["source"] == "hub" and c["version"] == sha
    assert c["license"]["effective"] == "mit"
    weights = next(f for f in c["files"] if f["path"] == "model.safetensors")
    assert weights["expected"].startswith("sha256:") and weights["reference"] == "hub"
    assert c["revision_pinned"] is False
    assert findings(report, "provenance.unpinned-revision")[0]["evidence"]["revision"] == "main"


def test_weights_are_never_downloaded(fake_hub):
    fake_hub.card_repo("acme/model", {"license": "mit"})
    scan_json("hf://acme/model")
    downloaded = [p for _, p, _ in fake_hub.requests if "/resolve/" in p]
    assert downloaded and all(p.endswith("README.md") for p in downloaded)


def test_pinned_revision_is_not_flagged(fake_hub):
    sha = fake_hub.card_repo("acme/model", {"license": "mit"})
    _, report = scan_json(f"hf://acme/model@{sha}")
    assert component(report)["revision_pinned"] is True
    assert findings(report, "provenance.unpinned-revision") == []


def test_missing_target_is_a_finding(fake_hub):
    result, report = scan_json("hf://acme/nothing")
    (hit,) = findings(report, "scan.unreadable")
    assert "not found on the Hub" in hit["message"]
    assert result.exit_code == 1


def test_gated_repo_is_noted_and_token_never_leaks(fake_hub):
    fake_hub.card_repo("meta-llama/Llama-3.2-1B", {"license": "llama3.2"}, gated="manual")
    result, report = scan_json("hf://meta-llama/Llama-3.2-1B")
    (hit,) = findings(report, "provenance.gated")
    assert hit["severity"] == "note" and component(report)["gated"] == "manual"
    # the token from HF_TOKEN was sent (the gated card was readable) but never written
    assert any(auth == f"Bearer {FAKE_TOKEN}" for _, _, auth in fake_hub.requests)
    assert FAKE_TOKEN not in result.stdout + result.stderr
    cache = fake_hub_cache_text()
    assert FAKE_TOKEN not in cache


def fake_hub_cache_text() -> str:
    import os
    from pathlib import Path

    root = Path(os.environ["AISCAN_CACHE_DIR"])
    return "".join(p.read_text(errors="replace") for p in root.rglob("*") if p.is_file())


def test_license_file_is_read_when_the_card_declares_none(fake_hub):
    license_text = (__import__("tests.conftest").conftest.LICENSE_TEXTS / "llama2.txt").read_text(
        encoding="utf-8"
    )
    fake_hub.card_repo(
        "acme/model", {"pipeline_tag": "text-generation"}, files={"LICENSE": license_text}
    )
    _, report = scan_json("hf://acme/model")
    assert component(report)["license"]["detected"] == ["llama2"]


def test_rate_limit_and_server_errors_are_retried(fake_hub):
    fake_hub.card_repo("acme/model", {"license": "mit"})
    fake_hub.fail("/api/models/acme/model", 429, 500)
    _, report = scan_json("hf://acme/model")
    assert component(report)["license"]["effective"] == "mit"
    assert len(fake_hub.api_calls("acme/model")) == 3


def test_hub_down_after_retries_exits_3(fake_hub):
    fake_hub.card_repo("acme/model", {"license": "mit"})
    fake_hub.fail("/api/models/acme/model", *[500] * 10)
    result = run_cli("scan", "hf://acme/model")
    assert result.exit_code == 3
    assert "did not answer" in result.stderr and "HTTP 500" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_answers_are_cached_per_commit_and_per_branch(fake_hub):
    sha = fake_hub.card_repo("acme/model", {"license": "mit"})
    scan_json("hf://acme/model")
    calls = len(fake_hub.api_calls("acme/model"))
    scan_json("hf://acme/model")  # branch answer still within its TTL
    scan_json(f"hf://acme/model@{sha}")  # the commit answer is immutable
    assert len(fake_hub.api_calls("acme/model")) == calls


def test_offline_uses_cached_answers_and_fails_cleanly_without(fake_hub, monkeypatch):
    sha = fake_hub.card_repo("acme/model", {"license": "mit"})
    scan_json(f"hf://acme/model@{sha}")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    before = len(fake_hub.requests)
    _, report = scan_json(f"hf://acme/model@{sha}")
    assert component(report)["license"]["effective"] == "mit"
    assert len(fake_hub.requests) == before
    result = run_cli("scan", "hf://acme/other")
    assert result.exit_code == 3 and "HF_HUB_OFFLINE" in result.stderr


def test_hub_flag_enriches_cached_repos_and_follows_bases(fake_hub, tmp_path):
    fake_hub.card_repo("acme/secret-base", {"license": "cc-by-nc-4.0"})
    files = model_repo_files("apache-2.0", {"base_model": "acme/secret-base"})
    commit = fake_hub.add_repo(
        "acme/tune",
        {**files, "config.json": json.dumps({"model_type": "x", "auto_map": {"AutoModel": "m.M"}})},
        gated="auto",
    )
    cache = tmp_path / "store"
    make_hf_cache(cache, "acme/tune", files, commit=commit)
    _, offline = scan_json(cache)
    assert findings(offline, "provenance.base-unresolved")[0]["severity"] == "warning"
    assert component(offline, "acme/tune")["license"]["category"] == "unknown"
    _, report = scan_json(cache, args=["--hub"])
    tune = component(report, "acme/tune")
    assert tune["license"]["inherited"] == ["cc-by-nc-4.0"]
    assert tune["lineage"][0]["found_in"] == "hub"
    assert findings(report, "license.conflict-with-base")
    assert tune["version"] == commit and tune["gated"] == "auto"
    assert findings(report, "provenance.gated")
    assert tune["remote_code"] == ["AutoModel=m.M"]  # from the Hub's config of that commit


def test_missing_base_on_the_hub_is_a_warning(fake_hub):
    fake_hub.card_repo("acme/tune", {"license": "mit", "base_model": "acme/deleted"})
    _, report = scan_json("hf://acme/tune")
    (hit,) = findings(report, "provenance.base-unresolved")
    assert hit["severity"] == "warning" and hit["evidence"]["reason"] == "missing"
    assert "not found on the Hub" in hit["message"]


def test_malformed_hub_target_is_a_usage_error(fake_hub):
    result = run_cli("scan", "hf://just-a-name")
    assert result.exit_code == 2


@pytest.mark.parametrize(
    "target",
    [
        "hf://org/a--b",
        "hf://org/-name",
        "hf://org/name-",
        "hf://org/.name",
        "hf://org/name.",
        "hf://org/a..b",
        "hf://org/name.git",
        "hf://org/" + "a" * 97,
        "hf://org/na me",
        "hf://org/caf\u00e9",
        "hf://org/name\n",
        "hf://a/b/c",
        "hf://org/name@",
        "hf://org/name@ma in",
        "hf://org/name@main\nx",
        "hf://org/name@\udcff",
    ],
)
def test_id_the_hub_would_reject_is_a_one_line_usage_error(fake_hub, target):
    result = run_cli("scan", target)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("aiscan: error: ")
    assert fake_hub.requests == []


def test_longest_names_the_hub_accepts_are_asked_for(fake_hub):
    name = "a" * 96
    fake_hub.card_repo(f"org/{name}", {"license": "mit"})
    _, report = scan_json(f"hf://org/{name}")
    assert component(report)["name"] == f"org/{name}"


def test_base_model_id_the_hub_would_reject_is_never_asked_for(fake_hub):
    fake_hub.card_repo("acme/tune", {"license": "mit", "base_model": "acme/a--b"})
    _, report = scan_json("hf://acme/tune")
    assert [p for _, p, _ in fake_hub.requests if "a--b" in p] == []
    assert findings(report, "provenance.base-unresolved")


def test_cached_repo_without_a_hub_id_is_not_asked_about(fake_hub, tmp_path):
    cache = tmp_path / "store"
    make_hf_cache(cache, "acme/a--b", model_repo_files("mit"))
    _, report = scan_json(cache, args=["--hub"])
    assert component(report)["license"]["effective"] == "mit"
    assert [p for _, p, _ in fake_hub.requests if p.startswith("/api/models/")] == []


@pytest.mark.parametrize("endpoint", ["huggingface.co", "ftp://hub.example", "http://[::1"])
def test_hf_endpoint_that_is_no_http_url_is_a_usage_error(fake_hub, monkeypatch, endpoint):
    monkeypatch.setenv("HF_ENDPOINT", endpoint)
    result = run_cli("scan", "hf://acme/model")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"aiscan: error: HF_ENDPOINT {endpoint!r} is not an http(s) URL"
    ]


def test_hf_endpoint_credentials_stay_hidden_in_its_usage_error(fake_hub, monkeypatch):
    monkeypatch.setenv("HF_ENDPOINT", "ftp://user:hunter2@hub.example")
    result = run_cli("scan", "hf://acme/model")
    assert result.exit_code == 2 and "hunter2" not in result.stderr
    assert "***@hub.example" in result.stderr


def test_dataset_targets_parse_with_their_prefix():
    from scanner.remote.hub import is_dataset_target, parse_target

    assert parse_target("hf://datasets/tatsu-lab/alpaca") == ("tatsu-lab/alpaca", None)
    assert parse_target("hf://datasets/tatsu-lab/alpaca@v1") == ("tatsu-lab/alpaca", "v1")
    assert is_dataset_target("hf://datasets/tatsu-lab/alpaca")
    # a model of an organisation called `datasets` stays a model target
    assert not is_dataset_target("hf://datasets/alpaca")
    assert parse_target("hf://datasets/alpaca") == ("datasets/alpaca", None)


def test_malformed_dataset_target_is_a_usage_error():
    result = run_cli("scan", "hf://datasets/a/b/c")
    assert result.exit_code == 2
    assert "hf://datasets/org/name[@revision] (a dataset)" in result.stderr
