"""Reading the Hugging Face hub cache, laid out by hand as huggingface_hub writes it."""

from __future__ import annotations

from tests.conftest import (
    card_text,
    component,
    fake_commit,
    findings,
    make_hf_cache,
    model_repo_files,
    scan_json,
    tree_state,
)


def _by_ref(report):
    return {c["ref"]: c for c in report["components"]}


def test_repo_id_and_commit_come_from_the_layout(tmp_path):
    hub = tmp_path / "hub"
    _, commit = make_hf_cache(hub, "meta-llama/Llama-2-7b-hf", model_repo_files("llama2"))
    _result, report = scan_json(hub)
    c = component(report)
    assert c["name"] == "meta-llama/Llama-2-7b-hf"
    assert c["ref"] == f"model:hf/meta-llama/Llama-2-7b-hf@{commit}"
    assert c["purl"] == f"pkg:huggingface/meta-llama/Llama-2-7b-hf@{commit}"
    assert c["version"] == commit
    assert c["source"] == "hfcache"
    assert c["type"] == "model"
    assert c["location"].endswith(f"snapshots/{commit}")
    assert c["license"]["effective"] == "llama2"
    assert c["license"]["category"] == "restricted"


def test_files_are_read_through_the_blob_links(tmp_path):
    hub = tmp_path / "hub"
    files = model_repo_files("apache-2.0")
    make_hf_cache(hub, "acme/tiny", files)
    _, report = scan_json(hub)
    by_path = {f["path"]: f for f in component(report)["files"]}
    assert set(by_path) == {"README.md", "config.json", "model.safetensors"}
    assert by_path["model.safetensors"]["size"] == len(files["model.safetensors"])
    assert by_path["model.safetensors"]["format"] == "safetensors"
    assert by_path["model.safetensors"]["safetensors"]["tensors"] == 2
    assert by_path["model.safetensors"]["safetensors"]["parameters"] == 16


def test_refs_are_recorded(tmp_path):
    hub = tmp_path / "hub"
    _, commit = make_hf_cache(hub, "acme/tiny", model_repo_files(), refs=("main", "v1.0"))
    _, report = scan_json(hub)
    assert sorted(component(report)["refs"]) == ["main", "v1.0"]
    assert component(report)["version"] == commit


def test_multiple_revisions_are_separate_components(tmp_path):
    hub = tmp_path / "hub"
    _, old = make_hf_cache(
        hub, "acme/tiny", model_repo_files("mit"), commit=fake_commit("old"), refs=()
    )
    _, new = make_hf_cache(
        hub, "acme/tiny", model_repo_files("apache-2.0"), commit=fake_commit("new")
    )
    _, report = scan_json(hub)
    refs = _by_ref(report)
    assert set(refs) == {f"model:hf/acme/tiny@{old}", f"model:hf/acme/tiny@{new}"}
    assert refs[f"model:hf/acme/tiny@{old}"]["license"]["effective"] == "mit"
    assert refs[f"model:hf/acme/tiny@{new}"]["license"]["effective"] == "apache-2.0"
    assert refs[f"model:hf/acme/tiny@{new}"].get("refs") == ["main"]
    assert not refs[f"model:hf/acme/tiny@{old}"].get("refs")


def test_dataset_repo(tmp_path):
    hub = tmp_path / "hub"
    _, commit = make_hf_cache(
        hub,
        "acme/corpus",
        {"README.md": card_text({"license": "cc-by-4.0"}), "data/train.csv": "a,b\n1,2\n"},
        repo_type="dataset",
    )
    _, report = scan_json(hub)
    c = component(report)
    assert c["type"] == "dataset"
    assert c["name"] == "acme/corpus"
    assert c["ref"] == f"dataset:hf/acme/corpus@{commit}"
    assert c["version"] == commit
    assert c["license"]["declared"] == ["cc-by-4.0"]
    assert {f["path"] for f in c["files"]} == {"README.md", "data/train.csv"}


def test_several_repos_in_one_cache(tmp_path):
    hub = tmp_path / "hub"
    make_hf_cache(hub, "org-a/one", model_repo_files("mit"))
    make_hf_cache(hub, "org-b/two", model_repo_files("apache-2.0"))
    make_hf_cache(
        hub, "org-c/data", {"README.md": card_text({"license": "mit"})}, repo_type="dataset"
    )
    _, report = scan_json(hub)
    assert {c["name"] for c in report["components"]} == {"org-a/one", "org-b/two", "org-c/data"}


def test_snapshot_link_to_missing_blob_is_reported_not_skipped(tmp_path):
    hub = tmp_path / "hub"
    files = model_repo_files("apache-2.0")
    repo, commit = make_hf_cache(hub, "acme/broken", files)
    make_hf_cache(hub, "acme/fine", model_repo_files("apache-2.0"))
    import hashlib

    (repo / "blobs" / hashlib.sha256(files["model.safetensors"]).hexdigest()).unlink()
    result, report = scan_json(hub)
    refs = _by_ref(report)
    broken_ref = f"model:hf/acme/broken@{commit}"
    assert broken_ref in refs, "a corrupted cached repo must still be reported"
    assert refs[broken_ref]["version"] == commit
    unreadable = findings(report, "scan.unreadable", component=broken_ref)
    assert unreadable
    assert all(f["severity"] == "error" for f in unreadable)
    assert any("model.safetensors" in f["message"] for f in unreadable)
    assert result.exit_code == 1
    assert any(c["name"] == "acme/fine" for c in report["components"])


def test_single_repo_folder_as_target(tmp_path):
    hub = tmp_path / "hub"
    repo, commit = make_hf_cache(hub, "acme/one", model_repo_files("mit"))
    make_hf_cache(hub, "acme/other", model_repo_files("apache-2.0"))
    _, report = scan_json(repo)
    c = component(report)
    assert c["ref"] == f"model:hf/acme/one@{commit}"
    assert c["source"] == "hfcache"


def test_cache_below_a_scanned_folder(tmp_path):
    home = tmp_path / "home"
    _, _commit = make_hf_cache(
        home / ".cache" / "huggingface" / "hub", "acme/x", model_repo_files("mit")
    )
    make_hf_cache(home / "caches" / "hub", "acme/y", model_repo_files("mit"))
    _, report = scan_json(home / "caches")
    assert {c["name"] for c in report["components"]} == {"acme/y"}
    assert component(report)["source"] == "hfcache"


def test_fine_tune_in_cache_inherits_from_base_in_cache(tmp_path):
    hub = tmp_path / "hub"
    make_hf_cache(hub, "meta-llama/Meta-Llama-3-8B", model_repo_files("llama3"))
    make_hf_cache(
        hub,
        "acme/llama3-tune",
        model_repo_files("llama3", {"base_model": "meta-llama/Meta-Llama-3-8B"}),
    )
    _, report = scan_json(hub)
    tune = component(report, "acme/llama3-tune")
    assert tune["license"]["effective"] == "llama3"
    assert tune["base_models"] == ["meta-llama/Meta-Llama-3-8B"]


def test_scan_of_hf_cache_writes_nothing(tmp_path):
    hub = tmp_path / "hub"
    make_hf_cache(hub, "acme/tiny", model_repo_files("apache-2.0"))
    make_hf_cache(
        hub, "acme/tiny", model_repo_files("mit"), commit=fake_commit("second"), refs=("dev",)
    )
    make_hf_cache(
        hub, "acme/corpus", {"README.md": card_text({"license": "mit"})}, repo_type="dataset"
    )
    before = tree_state(hub)
    scan_json(hub)
    assert tree_state(hub) == before
    assert not (hub / ".locks").exists()


def test_a_snapshot_folder_as_target_is_its_repo_revision(tmp_path):
    """`models--org--name/snapshots/<commit>` named alone is that revision of that repo, not a
    folder named after a commit; the other revisions are not read."""
    import json

    from tests.conftest import make_hf_cache, model_repo_files, run_cli, scan_json

    repo, commit = make_hf_cache(tmp_path / "hub", "acme/tiny", model_repo_files("mit"))
    make_hf_cache(tmp_path / "hub", "acme/tiny", model_repo_files("apache-2.0"), commit="b" * 40)
    _, report = scan_json(repo / "snapshots" / commit)
    (only,) = report["components"]
    assert only["ref"] == f"model:hf/acme/tiny@{commit}" and only["source"] == "hfcache"
    assert only["license"]["effective"] == "mit"
    verified = run_cli("verify", repo / "snapshots" / commit, "--format", "json")
    files = json.loads(verified.stdout)["components"][0]["files"]
    assert all(f["verified"] is True for f in files)  # checked against their blob names
