"""Finding model folders below a local path."""

from __future__ import annotations

import json

from scanner.sources.interface import SourceContext
from scanner.sources.registry import collect
from tests.conftest import (
    component,
    make_hf_cache,
    make_model_dir,
    model_repo_files,
    scan_json,
    tree_state,
    write_card,
    write_safetensors,
)


def _collect(target, kb):
    return {c.name: c for c in collect(target, SourceContext(kb))}


def test_discovery_is_recursive_and_ignores_folders_without_model_signals(tmp_path, kb):
    store = tmp_path / "store"
    make_model_dir(store, "top")
    make_model_dir(store / "vendor" / "acme", "deep", card={"license": "mit"})
    (store / "docs").mkdir(parents=True)
    (store / "docs" / "notes.txt").write_text("not a model")
    (store / "scripts").mkdir()
    (store / "scripts" / "config.json").write_text(json.dumps({"indent": 2}))
    found = _collect(store, kb)
    assert set(found) == {"top", "vendor/acme/deep"}
    assert found["vendor/acme/deep"].license.declared == ("mit",)
    assert found["top"].ref == "model:local/top"
    assert found["top"].source == "modeldir"
    assert found["top"].type == "model"


def test_git_and_tool_folders_are_skipped(tmp_path, kb):
    store = tmp_path / "store"
    make_model_dir(store, "real")
    make_model_dir(store / ".git", "modules")  # looks like a model, but is git's object store
    make_model_dir(store / "node_modules", "pkg")
    make_model_dir(store / ".venv", "lib")
    make_model_dir(store, ".hidden-model")
    found = _collect(store, kb)
    assert set(found) == {"real"}


def test_target_that_is_a_model_folder(tmp_path, kb):
    folder = make_model_dir(tmp_path, "my-model")
    found = _collect(folder, kb)
    assert set(found) == {"my-model"}
    assert found["my-model"].location == str(folder)


def test_everything_below_a_model_folder_belongs_to_it(tmp_path, kb):
    pipeline = tmp_path / "sd-pipeline"
    pipeline.mkdir()
    (pipeline / "model_index.json").write_text(
        json.dumps({"_class_name": "StableDiffusionPipeline"})
    )
    write_card(pipeline, {"license": "creativeml-openrail-m"})
    write_safetensors(pipeline / "unet" / "diffusion_pytorch_model.safetensors")
    write_safetensors(pipeline / "vae" / "diffusion_pytorch_model.safetensors")
    (pipeline / "unet" / "config.json").write_text(
        json.dumps({"_class_name": "UNet2DConditionModel"})
    )
    found = _collect(tmp_path, kb)
    assert set(found) == {"sd-pipeline"}
    paths = {f.path for f in found["sd-pipeline"].files}
    assert {
        "unet/diffusion_pytorch_model.safetensors",
        "vae/diffusion_pytorch_model.safetensors",
    } <= paths


def test_card_facts_reach_the_component(tmp_path, kb):
    folder = make_model_dir(
        tmp_path,
        "tune",
        card={
            "license": "apache-2.0",
            "base_model": ["org/a", "org/b"],
            "datasets": ["org/data"],
            "pipeline_tag": "text-generation",
        },
    )
    (tune,) = collect(folder, SourceContext(kb))
    assert tune.base_models == ("org/a", "org/b")
    assert tune.datasets == ("org/data",)
    assert tune.card.pipeline_tag == "text-generation"
    assert tune.license.declared == ("apache-2.0",)


def test_single_weights_file_as_target(tmp_path, kb):
    path = write_safetensors(tmp_path / "loose.safetensors")
    (found,) = collect(path, SourceContext(kb))
    assert found.type == "file"
    assert found.files[0].format == "safetensors"
    assert found.files[0].safetensors.tensor_count == 2


def test_folder_containing_an_hf_cache_below_it(tmp_path, kb):
    root = tmp_path / "workspace"
    make_model_dir(root / "models", "local-one")
    make_hf_cache(root / "cache" / "hub", "acme/cached", model_repo_files("mit"))
    found = _collect(root, kb)
    assert set(found) == {"models/local-one", "acme/cached"}
    assert found["acme/cached"].source == "hfcache"
    assert found["models/local-one"].source == "modeldir"


def test_scan_of_model_dir_writes_nothing(tmp_path):
    store = tmp_path / "store"
    make_model_dir(store, "a", license_text="MIT License\n")
    make_model_dir(store / "nested", "b", card={"license": "llama3"})
    (store / "nested" / "b" / "weights-link.safetensors").symlink_to("model.safetensors")
    before = tree_state(store)
    _result, report = scan_json(store)
    assert {c["name"] for c in report["components"]} == {"a", "nested/b"}
    assert tree_state(store) == before


def test_component_file_paths_are_relative_to_the_model_folder(tmp_path):
    folder = make_model_dir(tmp_path, "m", files={"sub/extra.json": "{}"})
    _, report = scan_json(folder)
    paths = {f["path"] for f in component(report)["files"]}
    assert paths == {"README.md", "model.safetensors", "sub/extra.json"}
