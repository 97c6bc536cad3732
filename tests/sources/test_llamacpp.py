"""The llama.cpp download cache: models named as `-hf` names them, their Hub repo as the base
lineage follows, GGUF declarations read, and what the cache cannot explain reported."""

from __future__ import annotations

import json
import os
import time

import pytest

from scanner.sources.llamacpp import default_llama_cache, is_llama_cache
from tests.conftest import (
    component,
    effective_keys,
    findings,
    make_hf_cache,
    model_repo_files,
    rules_of,
    run_cli,
    scan_json,
    tree_state,
    write_gguf,
)

REPO_ID = "bartowski/Llama-3.2-1B-Instruct-GGUF"
QUANT_FILE = "Llama-3.2-1B-Instruct-Q4_K_M.gguf"
LOCAL_NAME = "bartowski_Llama-3.2-1B-Instruct-GGUF_Llama-3.2-1B-Instruct-Q4_K_M.gguf"
"""How llama.cpp names `QUANT_FILE` of `REPO_ID` in its cache: `<repo>_<file>`, `/` made `_`."""
MODEL = f"{REPO_ID}:Q4_K_M"


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("AISCAN_CACHE_DIR", str(tmp_path / "aiscan-cache"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-hf-cache"))
    monkeypatch.setenv("LLAMA_CACHE", str(tmp_path / "no-llama-cache"))


def write_manifest(cache, repo_id, tag, gguf, mmproj=None):
    """The cached Hub answer `llama-cli -hf repo:tag` leaves: `manifest=<owner>=<repo>=<tag>.json`."""
    owner, name = repo_id.split("/")
    document = {"ggufFile": {"rfilename": gguf}}
    if mmproj is not None:
        document["mmprojFile"] = {"rfilename": mmproj}
    path = cache / f"manifest={owner}={name}={tag}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document))
    return path


def pulled(cache, metadata=None, *, etag=True):
    """A cache after `llama-cli -hf bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M`."""
    write_manifest(cache, REPO_ID, "Q4_K_M", QUANT_FILE)
    write_gguf(cache / LOCAL_NAME, metadata)
    if etag:
        (cache / f"{LOCAL_NAME}.etag").write_text('"0123abcd"')
    return cache


def test_a_pulled_model_is_named_as_llama_cpp_names_it_with_its_repo_as_base(tmp_path):
    cache = pulled(
        tmp_path / "llama.cpp",
        {
            "general.license": "llama3.2",
            "general.base_model.count": 1,
            "general.base_model.0.repo_url": "https://huggingface.co/meta-llama/Llama-3.2-1B-Instruct",
        },
    )
    before = tree_state(cache)
    _, report = scan_json(cache)
    model = component(report, MODEL)
    assert model["source"] == "llamacpp"
    assert model["base_models"] == [REPO_ID, "meta-llama/Llama-3.2-1B-Instruct"]
    assert [f["path"] for f in model["files"]] == [LOCAL_NAME]
    assert model["files"][0]["format"] == "gguf"
    assert effective_keys(model["license"]["effective"]) == {"llama3.2"}
    # llama.cpp downloads the GGUF alone: no card is no finding, the license is what counts
    assert "provenance.card-missing" not in rules_of(report)
    assert "license.missing" not in rules_of(report)
    assert len(report["components"]) == 1  # the .etag sidecar is the cache's bookkeeping
    assert tree_state(cache) == before


def test_the_repo_pulled_resolves_the_license_through_lineage(tmp_path, monkeypatch):
    """A GGUF that declares nothing takes its license from the Hub repo it was pulled from,
    here found in the local HF cache as lineage finds any base."""
    hf_cache = tmp_path / "hf-cache"
    make_hf_cache(hf_cache, REPO_ID, model_repo_files(license="llama3.2"))
    monkeypatch.setenv("HF_HUB_CACHE", str(hf_cache))
    _, report = scan_json(pulled(tmp_path / "llama.cpp"))
    model = component(report, MODEL)
    assert effective_keys(model["license"]["effective"]) == {"llama3.2"}
    assert [a["name"] for a in model["lineage"]] == [REPO_ID]


def test_a_model_whose_license_nobody_knows_is_license_missing(tmp_path):
    _, report = scan_json(pulled(tmp_path / "llama.cpp"))
    assert findings(report, "license.missing", component=f"model:llamacpp/{MODEL}")
    assert "provenance.card-missing" not in rules_of(report)


def test_split_parts_and_the_projector_belong_to_the_model(tmp_path):
    cache = tmp_path / "llama.cpp"
    write_manifest(
        cache, "ggml-org/gemma-3-4b-it-GGUF", "Q8_0", "q8/gemma-00001-of-00002.gguf", "mmproj.gguf"
    )
    prefix = "ggml-org_gemma-3-4b-it-GGUF_q8_gemma"
    for part in (1, 2):
        write_gguf(cache / f"{prefix}-{part:05d}-of-00002.gguf")
    write_gguf(cache / "ggml-org_gemma-3-4b-it-GGUF_mmproj.gguf")
    _, report = scan_json(cache)
    model = component(report, "ggml-org/gemma-3-4b-it-GGUF:Q8_0")
    assert [f["path"] for f in model["files"]] == [
        f"{prefix}-00001-of-00002.gguf",
        f"{prefix}-00002-of-00002.gguf",
        "ggml-org_gemma-3-4b-it-GGUF_mmproj.gguf",
    ]


def test_a_part_the_manifest_implies_but_the_cache_lacks_is_an_error(tmp_path):
    cache = tmp_path / "llama.cpp"
    write_manifest(cache, REPO_ID, "Q8_0", "big-00001-of-00002.gguf")
    write_gguf(cache / f"{REPO_ID.replace('/', '_')}_big-00001-of-00002.gguf")
    result, report = scan_json(cache)
    model = component(report, f"{REPO_ID}:Q8_0")
    absent = [f for f in model["files"] if f.get("error")]
    assert [f["path"] for f in absent] == [f"{REPO_ID.replace('/', '_')}_big-00002-of-00002.gguf"]
    assert any(
        "00002-of-00002" in f["message"] for f in report["findings"] if f["severity"] == "error"
    )
    assert result.exit_code == 1


def test_a_gguf_no_manifest_claims_takes_its_repo_from_the_old_json_sidecar(tmp_path):
    cache = tmp_path / "llama.cpp"
    write_gguf(cache / "ggml-org_tiny_tiny.gguf", {"general.license": "apache-2.0"})
    (cache / "ggml-org_tiny_tiny.gguf.json").write_text(
        json.dumps(
            {
                "url": "https://huggingface.co/ggml-org/tiny-GGUF/resolve/main/tiny.gguf",
                "etag": '"abc"',
                "lastModified": "Mon, 01 Jan 2024 00:00:00 GMT",
            }
        )
    )
    write_gguf(cache / "from-a-url.gguf")
    (cache / "from-a-url.gguf.json").write_text(json.dumps({"url": "https://example.com/a/b.gguf"}))
    _, report = scan_json(cache)
    tiny = component(report, "ggml-org_tiny_tiny.gguf")
    assert tiny["base_models"] == ["ggml-org/tiny-GGUF"]
    assert effective_keys(tiny["license"]["effective"]) == {"apache-2.0"}
    # a download from elsewhere names no Hub repo, and the flat name is never split by guess
    assert component(report, "from-a-url.gguf")["base_models"] == []


def test_an_unfinished_download_and_a_stray_file_are_reported(tmp_path):
    cache = pulled(tmp_path / "llama.cpp")
    (cache / f"{LOCAL_NAME}.downloadInProgress").write_bytes(b"GGUF\x03")
    (cache / "notes.txt").write_text("hello")
    (cache / "gone.gguf.etag").write_text('"x"')
    _, report = scan_json(cache)
    unexpected = dict(
        f["message"].split(": ", 1)
        for f in findings(report, "integrity.unexpected-file", component="file:llamacpp/cache")
    )
    assert set(unexpected) == {f"{LOCAL_NAME}.downloadInProgress", "notes.txt", "gone.gguf.etag"}
    assert "unfinished download" in unexpected[f"{LOCAL_NAME}.downloadInProgress"]


def test_a_manifest_naming_a_path_out_of_the_cache_stays_a_flat_name(tmp_path):
    cache = tmp_path / "llama.cpp"
    (tmp_path / "secret.gguf").write_bytes(b"not for aiscan")
    write_manifest(cache, REPO_ID, "evil", "../../secret.gguf")
    _, report = scan_json(cache)
    (entry,) = component(report, f"{REPO_ID}:evil")["files"]
    assert "/" not in entry["path"] and "absent" in entry["error"]


def test_bad_manifests_links_out_and_fifos_are_problems_never_a_hang(tmp_path):
    cache = pulled(tmp_path / "llama.cpp")
    (cache / "manifest=acme=broken=latest.json").write_text("{not json")
    (cache / "manifest=acme=list=latest.json").write_text("[1, 2]")
    outside = tmp_path / "outside.gguf"
    write_gguf(outside)
    (cache / "linked.gguf").symlink_to(outside)
    os.mkfifo(cache / "blocked.gguf")
    start = time.monotonic()
    result, report = scan_json(cache)
    assert time.monotonic() - start < 30
    messages = " ".join(f["message"] for f in report["findings"])
    assert "not a Hub manifest" in messages
    assert "ggufFile.rfilename is not a file name" in messages
    assert "FIFO" in messages
    assert findings(report, "scan.link-outside-target", component="file:llamacpp/cache")
    assert result.exit_code == 1


def test_verify_and_lock_read_the_cache(tmp_path):
    cache = pulled(tmp_path / "llama.cpp", {"general.license": "mit"})
    result = run_cli("verify", cache, "--format", "json")
    report = json.loads(result.stdout)
    (entry,) = component(report, MODEL)["files"]
    assert entry["sha256"] and result.exit_code == 0
    lock = tmp_path / "llama.lock"
    assert run_cli("lock", cache, "-o", lock).exit_code == 0
    (cache / LOCAL_NAME).write_bytes((cache / LOCAL_NAME).read_bytes()[:-4] + b"\0\0\0\1")
    changed = run_cli("verify", cache, "--lock", lock, "--format", "json")
    assert changed.exit_code == 1
    assert findings(json.loads(changed.stdout), "integrity.hash-mismatch")


def test_a_cache_inside_a_scanned_folder_is_read_as_a_cache(tmp_path):
    pulled(tmp_path / "home" / "llama-models", {"general.license": "mit"})
    _, report = scan_json(tmp_path / "home")
    assert component(report, MODEL)["source"] == "llamacpp"


def test_where_llama_cpp_keeps_its_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LLAMA_CACHE", str(tmp_path / "mine"))
    assert default_llama_cache() == tmp_path / "mine"
    monkeypatch.delenv("LLAMA_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    if os.name == "posix" and os.uname().sysname == "Linux":
        assert default_llama_cache() == tmp_path / "xdg" / "llama.cpp"
    # the platform's cache folder is llama.cpp's even before a file with a sidecar is in it
    (tmp_path / "xdg" / "llama.cpp").mkdir(parents=True)
    write_gguf(tmp_path / "xdg" / "llama.cpp" / "model.gguf")
    assert is_llama_cache(default_llama_cache())
    plain = tmp_path / "plain"
    write_gguf(plain / "model.gguf")
    assert not is_llama_cache(plain)
