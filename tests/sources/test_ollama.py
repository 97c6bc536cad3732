"""The Ollama store source: models named as Ollama names them, layers read by media type,
licenses from license layers, weights metadata or the catalogue, and a hostile store reported,
never trusted."""

from __future__ import annotations

import hashlib
import json
import os
import time

import pytest

from tests.conftest import (
    OLLAMA_IMAGE,
    REPO,
    component,
    effective_keys,
    findings,
    gguf_bytes,
    make_model_dir,
    make_ollama_store,
    ollama_blob,
    ollama_blob_path,
    rules_of,
    run_cli,
    safetensors_bytes,
    scan_json,
    write_ollama_manifest,
)

LLAMA31 = "registry.ollama.ai/library/llama3.1/8b"
LLAMA31_LICENSE = (REPO / "licenses" / "texts" / "llama3.1.txt").read_text(encoding="utf-8")
TEMPLATE = "{{ .System }}{{ .Prompt }}"
PARAMS = json.dumps({"stop": ["<|eot_id|>"]})


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("AISCAN_CACHE_DIR", str(tmp_path / "aiscan-cache"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-hf-cache"))


def llama31_store(tmp_path, *, license: bool = True):
    layers = [
        ("model", gguf_bytes({"general.file_type": 15, "general.name": "Meta Llama 3.1 8B"})),
        ("template", TEMPLATE),
        ("params", PARAMS),
    ]
    if license:
        layers.append(("license", LLAMA31_LICENSE))
    return make_ollama_store(tmp_path / "models", {LLAMA31: layers})


def layer_of(store_or_manifest, kind):
    """The manifest layer of one media type (of the llama3.1:8b manifest of a store)."""
    manifest = store_or_manifest
    if not isinstance(manifest, dict):
        manifest = json.loads((store_or_manifest / "manifests" / LLAMA31).read_text())
    (layer,) = [layer for layer in manifest["layers"] if layer["mediaType"] == OLLAMA_IMAGE + kind]
    return layer


def by_media(model, kind):
    (entry,) = [f for f in model["files"] if f.get("media_type") == OLLAMA_IMAGE + kind]
    return entry


def test_a_library_model_with_its_license_layer(tmp_path):
    store = llama31_store(tmp_path)
    _, report = scan_json(store)
    model = component(report, "llama3.1:8b")
    assert model["ref"] == "model:ollama/llama3.1:8b"
    assert (model["type"], model["source"], model["location"]) == ("model", "ollama", str(store))
    manifest = store / "manifests" / LLAMA31
    assert model["version"] == hashlib.sha256(manifest.read_bytes()).hexdigest()
    assert model["ollama"] == {
        "host": "registry.ollama.ai",
        "namespace": "library",
        "model": "llama3.1",
        "tag": "8b",
        "manifest": f"manifests/{LLAMA31}",
        "config": {
            "model_format": "gguf",
            "model_family": "llama",
            "model_families": ["llama"],
            "model_type": "8.0B",
            "file_type": "Q4_K_M",
        },
    }
    assert model["model_type"] == "llama"
    weights = by_media(model, "model")
    assert weights["format"] == "gguf"
    assert weights["path"].startswith("blobs/sha256-")
    assert weights["gguf"]["quantization"] == "Q4_K_M"
    assert by_media(model, "template")["format"] == "other"
    assert by_media(model, "params")["format"] == "other"
    assert by_media(model, "license")["license_detected"] == ["llama3.1"]
    assert model["license"]["detected"] == ["llama3.1"]
    assert model["license"]["effective"] == "llama3.1"
    configs = [
        f for f in model["files"] if f.get("media_type", "").startswith("application/vnd.docker")
    ]
    assert len(configs) == 1
    assert not findings(report, "license.missing")
    assert not rules_of(report) & {"scan.unreadable", "integrity.unexpected-file"}
    table = run_cli("scan", store)
    assert "llama3.1:8b" in table.stdout and "Q4_K_M" in table.stdout


@pytest.mark.parametrize(
    ("manifest", "name"),
    [
        ("registry.ollama.ai/library/llama3.1/8b", "llama3.1:8b"),
        ("registry.ollama.ai/acme/tuned/v2", "acme/tuned:v2"),
        (
            "hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF/Q4_K_M",
            "hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M",
        ),
        ("example.com/library/m/latest", "example.com/library/m:latest"),
    ],
)
def test_models_are_named_as_ollama_names_them(tmp_path, manifest, name):
    store = make_ollama_store(tmp_path / "models", {manifest: [("model", gguf_bytes())]})
    _, report = scan_json(store)
    assert component(report, name)["ref"] == f"model:ollama/{name}"


def test_a_model_pulled_from_the_hub_names_its_repo_as_base(tmp_path):
    gguf = gguf_bytes(
        {"general.base_model.0.repo_url": "https://huggingface.co/meta-llama/Llama-3.2-1B-Instruct"}
    )
    name = "hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF/Q4_K_M"
    store = make_ollama_store(tmp_path / "models", {name: [("model", gguf)]})
    _, report = scan_json(store)
    model = component(report)
    assert model["base_models"] == [
        "bartowski/Llama-3.2-1B-Instruct-GGUF",
        "meta-llama/Llama-3.2-1B-Instruct",
    ]
    found = {a["name"]: a["found_in"] for a in model["lineage"]}
    assert found["meta-llama/Llama-3.2-1B-Instruct"] == "catalogue"
    assert "llama3.2" in model["license"]["inherited"]
    assert findings(report, "provenance.base-unresolved")  # bartowski's repo: offline, unknown


@pytest.mark.parametrize(
    ("manifest", "license"),
    [
        ("registry.ollama.ai/library/gemma2/9b", "gemma"),
        ("registry.ollama.ai/library/qwen2.5/7b", "apache-2.0"),
        ("registry.ollama.ai/library/qwen2.5/72b-instruct-q4_K_M", "qwen"),
        ("registry.ollama.ai/library/qwen2.5/3b", "qwen-research"),
        ("registry.ollama.ai/library/mistral/latest", "apache-2.0"),
        ("registry.ollama.ai/library/phi3/mini", "mit"),
        ("registry.ollama.ai/library/llama3.1/70b", "llama3.1"),
    ],
)
def test_a_library_family_without_license_layer_is_known_from_the_catalogue(
    tmp_path, manifest, license
):
    store = make_ollama_store(tmp_path / "models", {manifest: [("model", gguf_bytes())]})
    _, report = scan_json(store)
    model = component(report)
    assert model["license"]["detected"] == [license]
    assert effective_keys(model["license"]["effective"]) == {license}
    assert any(
        e["source"] == "catalogue" and "Ollama library model" in e["value"]
        for e in model["license"]["evidence"]
    )
    assert not findings(report, "license.missing")


def test_the_catalogue_follows_a_library_familys_base(tmp_path):
    manifest = "registry.ollama.ai/library/deepseek-r1/70b"
    store = make_ollama_store(tmp_path / "models", {manifest: [("model", gguf_bytes())]})
    _, report = scan_json(store)
    model = component(report)
    assert model["base_models"] == ["meta-llama/Llama-3.3-70B-Instruct"]
    assert effective_keys(model["license"]["effective"]) == {"mit", "llama3.3"}


def test_an_unknown_name_without_license_is_missing(tmp_path):
    for manifest in (
        "registry.ollama.ai/library/mystery/7b",
        "registry.ollama.ai/acme/llama3.1/8b",
    ):
        store = make_ollama_store(tmp_path / manifest, {manifest: [("model", gguf_bytes())]})
        _, report = scan_json(store)
        assert findings(report, "license.missing"), manifest


def test_weights_metadata_declares_for_an_ollama_model(tmp_path):
    gguf = gguf_bytes({"general.license": "cc-by-nc-4.0"})
    store = make_ollama_store(
        tmp_path / "models", {"registry.ollama.ai/acme/m/1": [("model", gguf)]}
    )
    result, report = scan_json(store)
    model = component(report)
    assert model["license"]["declared"] == ["cc-by-nc-4.0"]
    assert findings(report, "license.noncommercial")
    assert result.exit_code == 1


def test_a_license_layer_that_disagrees_with_the_weights_metadata(tmp_path):
    gguf = gguf_bytes({"general.license": "apache-2.0"})
    store = make_ollama_store(
        tmp_path / "models", {LLAMA31: [("model", gguf), ("license", LLAMA31_LICENSE)]}
    )
    _, report = scan_json(store)
    (mismatch,) = findings(report, "license.mismatch")
    assert "weights metadata declares apache-2.0" in mismatch["message"]


def test_tensor_layers_are_read_as_safetensors(tmp_path):
    layers = [("tensor; name=model.embed_tokens.weight; dtype=F32; shape=3,4", safetensors_bytes())]
    store = make_ollama_store(tmp_path / "models", {"registry.ollama.ai/acme/st/1": layers})
    _, report = scan_json(store)
    (tensor,) = [f for f in component(report)["files"] if f["format"] == "safetensors"]
    assert tensor["safetensors"]["tensors"] == 2


def test_older_colon_blob_names_are_read(tmp_path):
    store = llama31_store(tmp_path)
    for blob in (store / "blobs").iterdir():
        blob.rename(blob.with_name(blob.name.replace("sha256-", "sha256:")))
    _, report = scan_json(store)
    model = component(report, "llama3.1:8b")
    assert all(f["path"].startswith("blobs/sha256:") for f in model["files"])
    assert model["license"]["effective"] == "llama3.1"
    verify = run_cli("verify", store, "--format", "json")
    assert verify.exit_code == 0, verify.stdout
    files = json.loads(verify.stdout)["components"][0]["files"]
    assert {f["reference"] for f in files} == {"ollama-blob"}
    assert all(f["verified"] for f in files)


def test_two_tags_of_one_model_are_two_components(tmp_path):
    store = llama31_store(tmp_path)
    (store / "manifests/registry.ollama.ai/library/llama3.1/latest").write_bytes(
        (store / "manifests" / LLAMA31).read_bytes()
    )
    _, report = scan_json(store)
    assert sorted(c["name"] for c in report["components"]) == ["llama3.1:8b", "llama3.1:latest"]


def test_a_store_inside_a_larger_target_is_read_once(tmp_path):
    store = llama31_store(tmp_path / "home" / "ollama")
    make_model_dir(tmp_path / "home", "other", card={"license": "mit"})
    _, report = scan_json(tmp_path / "home")
    names = sorted(c["name"] for c in report["components"])
    assert names == ["llama3.1:8b", "other"]
    assert component(report, "llama3.1:8b")["location"] == str(store)


# --- aiscan verify on a store -----------------------------------------------------------------


def test_verify_checks_every_blob_against_its_name(tmp_path):
    store = llama31_store(tmp_path)
    result = run_cli("verify", store, "--format", "json")
    assert result.exit_code == 0, result.stdout
    files = json.loads(result.stdout)["components"][0]["files"]
    assert len(files) == 5
    for entry in files:
        assert entry["reference"] == "ollama-blob"
        assert entry["expected"] == "sha256:" + entry["path"].removeprefix("blobs/sha256-")
        assert entry["verified"] is True


def test_a_tampered_blob_is_a_hash_mismatch(tmp_path):
    store = llama31_store(tmp_path)
    template = layer_of(store, "template")
    ollama_blob_path(store, template["digest"]).write_text(TEMPLATE.replace("System", "Sistem"))
    result = run_cli("verify", store, "--format", "json")
    assert result.exit_code == 1
    (mismatch,) = findings(json.loads(result.stdout), "integrity.hash-mismatch")
    assert mismatch["evidence"]["reference"] == "ollama-blob"


def test_a_missing_blob_is_a_finding(tmp_path):
    store = llama31_store(tmp_path)
    manifest = json.loads((store / "manifests" / LLAMA31).read_text())
    ollama_blob_path(store, manifest["layers"][0]["digest"]).unlink()
    for command in ("scan", "verify"):
        result = run_cli(command, store, "--format", "json")
        assert result.exit_code == 1
        (missing,) = findings(json.loads(result.stdout), "scan.unreadable")
        assert "absent: the manifest names this blob" in missing["message"]


@pytest.mark.parametrize(
    ("delta", "rule"), [(-5, "integrity.truncated"), (7, "integrity.malformed")]
)
def test_a_blob_whose_size_differs_from_the_manifest(tmp_path, delta, rule):
    store = llama31_store(tmp_path)
    path = store / "manifests" / LLAMA31
    manifest = json.loads(path.read_text())
    params = layer_of(manifest, "params")
    params["size"] -= delta
    path.write_text(json.dumps(manifest))
    _, report = scan_json(store)
    (finding,) = findings(report, rule)
    assert (
        "the manifest says" in finding["message"] or "than the manifest says" in finding["message"]
    )


def test_unreferenced_blobs_and_partial_downloads_are_findings(tmp_path):
    store = llama31_store(tmp_path)
    leftover = ollama_blob(store, b"an old model nobody names")
    (store / "blobs" / f"sha256-{'a' * 64}-partial").write_bytes(b"half a download")
    for command in ("scan", "verify"):
        result = run_cli(command, store, "--format", "json")
        report = json.loads(result.stdout)
        assert result.exit_code == 1
        unexpected = findings(report, "integrity.unexpected-file")
        messages = " ".join(f["message"] for f in unexpected)
        assert leftover.replace(":", "-") in messages
        assert "no manifest names this blob" in messages
        assert "an unfinished download" in messages
        assert component(report, "blobs")["type"] == "file"


# --- hostile stores -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("manifest", "wording"),
    [
        ("{not json", "not valid JSON"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ("[]", "not a JSON object"),
        (json.dumps({"layers": {"a": 1}}), "layers must be a list"),
        (
            json.dumps(
                {"layers": [{"mediaType": "x", "digest": "sha256:../../../etc/passwd", "size": 1}]}
            ),
            "layers[0].digest must be 'sha256:' and 64 hex digits",
        ),
        (
            json.dumps(
                {"layers": [{"mediaType": "x", "digest": "sha256:" + "a" * 64 + "\n", "size": 1}]}
            ),
            "64 hex digits",
        ),
        (
            json.dumps({"layers": [{"mediaType": 3, "digest": "sha256:" + "a" * 64, "size": 1}]}),
            "mediaType must be a string",
        ),
        (
            json.dumps(
                {"layers": [{"mediaType": "x", "digest": "sha256:" + "a" * 64, "size": "1"}]}
            ),
            "size must be a whole number",
        ),
        (
            json.dumps(
                {"layers": [{"mediaType": "x", "digest": "sha256:" + "a" * 64, "size": True}]}
            ),
            "size must be a whole number",
        ),
        (json.dumps({"config": "x", "layers": ["y"]}), "config is not an object"),
    ],
    ids=[
        "not-json",
        "deep",
        "list",
        "layers-object",
        "traversal",
        "newline",
        "media-type",
        "size-string",
        "size-bool",
        "wrong-objects",
    ],
)
def test_hostile_manifests_are_problems_never_tracebacks(tmp_path, manifest, wording):
    store = tmp_path / "models"
    (store / "blobs").mkdir(parents=True)
    (tmp_path / "etc").mkdir()
    write_ollama_manifest(store, "registry.ollama.ai/library/evil/latest", manifest)
    _, report = scan_json(store)
    model = component(report, "evil:latest")
    assert any(wording in p["message"] for p in model["problems"]), model["problems"]
    assert findings(report, "scan.unreadable")
    assert all(f["path"].startswith("blobs/sha256-") for f in model["files"])


def test_an_oversized_manifest_is_not_read(tmp_path):
    store = tmp_path / "models"
    (store / "blobs").mkdir(parents=True)
    path = write_ollama_manifest(store, "registry.ollama.ai/library/big/latest", "")
    with path.open("wb") as handle:
        handle.truncate(17 * 1024 * 1024)
    _, report = scan_json(store)
    (problem,) = component(report, "big:latest")["problems"]
    assert "limit" in problem["message"]


def test_a_blob_linked_out_of_the_store_is_not_followed(tmp_path):
    store = llama31_store(tmp_path)
    secret = tmp_path / "secret.txt"
    secret.write_text("TOKEN=hunter2")
    license_layer = layer_of(store, "license")
    blob = ollama_blob_path(store, license_layer["digest"])
    blob.unlink()
    blob.symlink_to(secret)
    _, report = scan_json(store)
    assert "hunter2" not in json.dumps(report)
    (outside,) = findings(report, "scan.link-outside-target")
    assert outside["component"] == "model:ollama/llama3.1:8b"


def test_a_fifo_blob_is_skipped_with_a_finding(tmp_path):
    store = llama31_store(tmp_path)
    manifest = json.loads((store / "manifests" / LLAMA31).read_text())
    model_blob = ollama_blob_path(store, manifest["layers"][0]["digest"])
    model_blob.unlink()
    os.mkfifo(model_blob)
    started = time.monotonic()
    _, report = scan_json(store)
    assert time.monotonic() - started < 30
    assert any("FIFO" in f["message"] for f in findings(report, "scan.unreadable"))


def test_a_manifest_with_an_invalid_name_is_reported(tmp_path):
    store = llama31_store(tmp_path)
    write_ollama_manifest(store, "registry.ollama.ai/library/bad name/latest", "{}")
    _, report = scan_json(store)
    (problem,) = component(report, "blobs")["problems"]
    assert "not a valid Ollama model name" in problem["message"]
    assert [c["name"] for c in report["components"] if c["type"] == "model"] == ["llama3.1:8b"]


def test_ollama_facts_survive_a_saved_report(tmp_path, kb, default_policy):
    from scanner.formats.json import JsonFormat, read_report, report_document
    from scanner.pipeline.scan import run_scan

    result = run_scan([llama31_store(tmp_path)], default_policy, kb)
    saved = tmp_path / "report.json"
    saved.write_text(JsonFormat().render(result, kb), encoding="utf-8")
    again = read_report(saved)
    assert report_document(again) == report_document(result)
    (model,) = again.components
    assert model.model.ollama is not None and model.model.ollama.library
    assert {f.media_type for f in model.files} >= {OLLAMA_IMAGE + "license"}


@pytest.mark.parametrize(
    ("manifest", "name", "license"),
    [
        ("registry.ollama.ai/library/llama3.1/8b", "llama3.1:8b", "llama3.1"),
        ("registry.ollama.ai/library/qwen2.5/72b", "qwen2.5:72b", "qwen"),
        ("registry.ollama.ai/library/qwen2.5/7b", "qwen2.5:7b", "apache-2.0"),
        ("registry.ollama.ai/library/gemma2/latest", "gemma2:latest", "gemma"),
        ("registry.ollama.ai/library/mistral/latest", "mistral:latest", "apache-2.0"),
        ("registry.ollama.ai/library/phi3/latest", "phi3:latest", "mit"),
        ("registry.ollama.ai/library/deepseek-r1/70b", "deepseek-r1:70b", "llama3.3"),
    ],
)
def test_library_names_resolve_to_their_family_and_no_card_is_expected(
    tmp_path, manifest, name, license
):
    store = make_ollama_store(tmp_path / "models", {manifest: [("model", gguf_bytes())]})
    _, report = scan_json(store)
    model = component(report, name)
    assert license in effective_keys(model["license"]["effective"])
    assert "provenance.card-missing" not in rules_of(report)
    assert not findings(report, "license.missing")


def test_a_library_name_the_catalogue_cannot_vouch_for_is_license_missing(tmp_path):
    """deepseek-r1:8b has been a Llama and a Qwen distillation: no family is guessed, and
    without a license layer the model's license is missing (the only finding about terms)."""
    store = make_ollama_store(
        tmp_path / "models",
        {"registry.ollama.ai/library/deepseek-r1/8b": [("model", gguf_bytes())]},
    )
    _, report = scan_json(store)
    assert findings(report, "license.missing", component="model:ollama/deepseek-r1:8b")
    assert "provenance.card-missing" not in rules_of(report)
