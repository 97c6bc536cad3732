"""What consumers get out of every BOM aiscan writes: lib4sbom reads each one (CycloneDX JSON and
XML, SPDX 2.3 JSON and tag-value, SPDX 3.0.1 JSON-LD) and finds every component, license, hash
and dependency edge; ntia-conformance-checker finds the NTIA minimum elements in SPDX 2.3; the
JavaScript @cyclonedx/cyclonedx-library, a validator independent of the Python library aiscan
validates with, accepts every CycloneDX BOM (JSON and XML, 1.6 and 1.7).

The scan is an HF-cache model (a fine-tune of a cached base, naming a cached and an uncached
dataset) plus a project whose `.venv` holds three packages with a dependency chain, read as files.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest

from scanner.formats import aibom
from scanner.formats.registry import CYCLONEDX_SPEC_VERSIONS, get_format
from scanner.inventory import ScanResult
from scanner.sources.interface import ProjectOptions
from tests.conftest import make_hf_cache, model_repo_files

BOM_FORMATS = {
    "cyclonedx-json": "bom.cdx.json",
    "cyclonedx-xml": "bom.cdx.xml",
    "spdx-json": "bom.spdx.json",
    "spdx-tv": "bom.spdx",
    "spdx3-jsonld": "bom.spdx3.json",
}
"""Every BOM format aiscan writes, with a file name lib4sbom recognises it by."""


def _write_dist(site: Path, name: str, version: str, *headers: str) -> None:
    folder = site / f"{name}-{version}.dist-info"
    folder.mkdir(parents=True)
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}", *headers]
    (folder / "METADATA").write_text("\n".join(lines) + "\n\n", encoding="utf-8")


def make_project(root: Path) -> Path:
    """A project requiring `alpha`, whose `.venv` has alpha → beta → gamma: one package
    licensed by expression, one by License field, one only by a Trove classifier."""
    project = root / "project"
    site = project / ".venv" / "lib" / "python3.11" / "site-packages"
    site.mkdir(parents=True)
    (project / ".venv" / "pyvenv.cfg").write_text("version = 3.11.7\n", encoding="utf-8")
    (project / "requirements.txt").write_text("alpha==1.0\n", encoding="utf-8")
    _write_dist(
        site,
        "alpha",
        "1.0",
        "Author: Alpha Makers",
        "License-Expression: MIT",
        "Requires-Dist: beta>=1",
    )
    _write_dist(
        site,
        "beta",
        "2.0",
        "Author-email: Beta Person <beta@example.org>",
        "License: Apache 2.0",
        "Requires-Dist: gamma",
    )
    _write_dist(
        site,
        "gamma",
        "3.0",
        "Maintainer: Gamma Org",
        "Classifier: License :: OSI Approved :: MIT License",
    )
    return project


def make_hub_models(root: Path) -> Path:
    hub = root / "hub"
    make_hf_cache(hub, "acme/base-model", model_repo_files("apache-2.0"))
    make_hf_cache(
        hub, "acme/chat-data", {"README.md": "---\nlicense: mit\n---\n"}, repo_type="dataset"
    )
    make_hf_cache(
        hub,
        "acme/tuned",
        model_repo_files(
            "apache-2.0",
            {
                "base_model": "acme/base-model",
                "base_model_relation": "finetune",
                "datasets": ["acme/chat-data", "other/web-text"],
                "pipeline_tag": "text-generation",
            },
        ),
    )
    return hub


@pytest.fixture(scope="module")
def scanned(tmp_path_factory, kb, default_policy) -> ScanResult:
    from scanner.pipeline.hashes import with_file_hashes
    from scanner.pipeline.scan import run_scan

    root = tmp_path_factory.mktemp("consumers")
    targets = [make_hub_models(root), make_project(root)]
    return with_file_hashes(
        run_scan(targets, default_policy, kb, project=ProjectOptions()), workers=2
    )


@pytest.fixture(scope="module")
def written(scanned, kb, tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("boms")
    paths = {}
    for name, file_name in BOM_FORMATS.items():
        paths[name] = folder / file_name
        paths[name].write_text(get_format(name).render(scanned, kb), encoding="utf-8")
    return paths


def _lib4sbom(path: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    from lib4sbom.parser import SBOMParser

    parser = SBOMParser()
    parser.parse_file(str(path))
    return parser.get_packages(), parser.get_relationships()


def _expected_components(result: ScanResult) -> set[str]:
    """Names every BOM must carry: each component and every one of its files."""
    names = {c.name for c in result.components}
    names |= set(aibom.named_datasets(result))
    return names


def _expected_edges(result: ScanResult) -> set[tuple[str, str]]:
    """(needs, needed) name pairs of the package graph and a model's datasets."""
    by_ref = {c.ref: c.name for c in result.components}
    edges = set()
    for ref, needs in aibom.dependencies(result).items():
        for need in needs:
            edges.add((by_ref[ref], by_ref.get(need) or need.removeprefix("dataset:named/")))
    return edges


def test_the_scan_holds_what_the_matrix_checks(scanned):
    """The fixture has a package chain, a classifier-only license and a hashed weights file:
    without them the matrix below would prove nothing."""
    names = {c.name for c in scanned.components}
    assert {"alpha", "beta", "gamma", "acme/tuned", "acme/base-model"} <= names
    edges = _expected_edges(scanned)
    assert {("alpha", "beta"), ("beta", "gamma"), ("acme/tuned", "other/web-text")} <= edges
    gamma = next(c for c in scanned.components if c.name == "gamma")
    assert gamma.license.declared == ("License :: OSI Approved :: MIT License",)
    assert all(aibom.model_weights(c) for c in scanned.components if c.type == "model")


@pytest.mark.parametrize("name", ["cyclonedx-json", "cyclonedx-xml"])
def test_lib4sbom_reads_every_cyclonedx_component_license_hash_and_edge(scanned, written, name):
    packages, relationships = _lib4sbom(written[name])
    found = {p["name"] for p in packages}
    assert _expected_components(scanned) <= found
    # Every file is a package of its own, however many models share a file name.
    files = [f for c in scanned.components for f in c.files]
    assert len([p for p in packages if p.get("type", "").lower() == "file"]) == len(files)
    # The model-level hash (its one weights file) and every file's hash. lib4sbom's XML reader
    # keeps only algorithms spelled `SHA256` and drops the schema's `SHA-256` (its JSON reader
    # respells it), so for XML the hashes are read from the document itself.
    if name == "cyclonedx-json":
        digests = {value for p in packages for _, value in p.get("checksum", [])}
    else:
        root = ElementTree.fromstring(written[name].read_text(encoding="utf-8"))
        digests = {h.text for h in root.iter() if h.tag.endswith("}hash")}
    assert {f.sha256 for f in files} <= digests
    models = [c for c in scanned.components if c.type == "model"]
    model_digests = {p["name"]: [v for _, v in p.get("checksum", [])] for p in packages}
    if name == "cyclonedx-json":
        assert all(model_digests[m.name] == [aibom.model_weights(m).sha256] for m in models)
    licensed = {p["name"] for p in packages if p.get("licenseconcluded")}
    assert {c.name for c in scanned.components if c.license.effective} <= licensed
    edges = {(r["source"], r["target"]) for r in relationships if r["type"] == "DEPENDS_ON"}
    assert _expected_edges(scanned) <= edges
    suppliers = {p["name"]: p.get("supplier") for p in packages}
    assert suppliers["alpha"] == "Alpha Makers" and suppliers["acme/tuned"] == "acme"


@pytest.mark.parametrize("name", ["spdx-json", "spdx-tv"])
def test_lib4sbom_reads_every_spdx23_package_license_hash_and_edge(scanned, written, name):
    packages, relationships = _lib4sbom(written[name])
    found = {p["name"] for p in packages}
    assert _expected_components(scanned) <= found
    by_name = {p["name"]: p for p in packages}
    assert by_name["gamma"]["licensedeclared"] == "MIT"  # from its Trove classifier alone
    assert by_name["beta"]["licensedeclared"] == "Apache-2.0"
    digests = {value.lower() for p in packages for _, value in p.get("checksum", [])}
    assert {f.sha256 for c in scanned.components for f in c.files} <= digests
    edges = {(r["source"], r["target"]) for r in relationships if r["type"] == "DEPENDS_ON"}
    assert {("alpha", "beta"), ("beta", "gamma")} <= edges
    trained = {(r["source"], r["target"]) for r in relationships if r["type"] == "GENERATED_FROM"}
    assert ("acme/tuned", "other/web-text") in trained


def test_lib4sbom_reads_the_spdx3_packages(scanned, written):
    """lib4sbom 0.10's SPDX 3 reader keeps `software_Package` elements only: it sees the
    libraries, their licenses and graph, and none of the `ai_AIPackage` / `dataset_`
    elements (its limit, not the document's: see the SPDX 3 graph test below)."""
    packages, relationships = _lib4sbom(written["spdx3-jsonld"])
    libraries = {c.name for c in scanned.components if c.type == "library"}
    by_name = {p["name"]: p for p in packages}
    assert set(by_name) == libraries
    assert by_name["gamma"]["licensedeclared"] == "MIT"
    edges = {(r["source"], r["target"]) for r in relationships if r["type"] == "DEPENDS_ON"}
    assert {("alpha", "beta"), ("beta", "gamma")} <= edges


def test_spdx3_has_the_dependency_graph_and_suppliers(scanned, written):
    graph = json.loads(written["spdx3-jsonld"].read_text(encoding="utf-8"))["@graph"]
    names = {n["spdxId"]: n.get("name") for n in graph if "spdxId" in n}
    depends = {
        (names[n["from"]], names[to])
        for n in graph
        if n.get("type") == "Relationship" and n["relationshipType"] == "dependsOn"
        for to in n["to"]
    }
    assert {("alpha", "beta"), ("beta", "gamma")} <= depends
    supplied = {n["name"]: names[n["suppliedBy"]] for n in graph if "suppliedBy" in n}
    assert supplied["acme/tuned"] == "acme" and supplied["gamma"] == "Gamma Org"
    (document,) = [n for n in graph if n.get("type") == "SpdxDocument"]
    assert "ai" not in document["profileConformance"]  # declared only where every element meets it


def test_ntia_minimum_elements_in_spdx23(written):
    """Every element NTIA asks for is there: names, versions, ids, suppliers (Hub org, package
    author), author, time and relationships. The one dataset no scan found (`other/web-text`)
    has no version aiscan could know; the checker follows DESCRIBES, CONTAINS and DEPENDS_ON,
    not GENERATED_FROM, so it names that dataset as the one element it does not judge."""
    from ntia_conformance_checker.sbom_checker import SbomChecker

    checker = SbomChecker(str(written["spdx-json"]))
    assert checker.compliant, checker.output_json()
    assert checker.doc_author and checker.doc_timestamp and checker.dependency_relationships
    assert checker.floating_component_ids == {"SPDXRef-dataset-named-other-web-text"}


def test_ntia_conformant_without_unknown_datasets(tmp_path, kb, default_policy):
    """An HF-cache model whose facts are all known plus an installed environment: conformant."""
    from ntia_conformance_checker.sbom_checker import SbomChecker

    from scanner.pipeline.hashes import with_file_hashes
    from scanner.pipeline.scan import run_scan

    hub = tmp_path / "hub"
    make_hf_cache(hub, "acme/plain", model_repo_files("apache-2.0"))
    targets = [hub, make_project(tmp_path)]
    result = with_file_hashes(
        run_scan(targets, default_policy, kb, project=ProjectOptions()), workers=2
    )
    path = tmp_path / "bom.spdx.json"
    path.write_text(get_format("spdx-json").render(result, kb), encoding="utf-8")
    checker = SbomChecker(str(path))
    assert checker.compliant, checker.output_json()
    assert not checker.floating_component_ids


@pytest.mark.parametrize(
    ("name", "namespace"),
    [
        ("acme/tuned", "acme"),
        ("sentence-transformers/all-MiniLM-L6-v2", "sentence-transformers"),
        ("snli", None),
        ("a/b/c", None),
        ("evil\nPackageSupplier: Organization: x/name", None),
        ("/name", None),
    ],
)
def test_only_a_hub_repo_id_names_a_supplier(name, namespace):
    assert aibom.hub_namespace(name) == namespace


REPO = Path(__file__).resolve().parent.parent.parent
JS_VALIDATOR = REPO / "tests" / "js" / "validate-cyclonedx.cjs"


def _cyclonedx_js_modules() -> Path:
    """Where `.ci/install-cyclonedx-js` put the JavaScript library (or
    `$AISCAN_CYCLONEDX_JS_MODULES`). Skips only without node; with node, a missing install is
    a failure that says how to install it."""
    if shutil.which("node") is None:
        pytest.skip("node is not installed: the JavaScript CycloneDX validator cannot run")
    default = REPO / ".ci" / "cache" / "cyclonedx-js" / "node_modules"
    modules = Path(os.environ.get("AISCAN_CYCLONEDX_JS_MODULES") or default)
    if not (modules / "@cyclonedx" / "cyclonedx-library").is_dir():
        pytest.fail(
            f"@cyclonedx/cyclonedx-library is not in {modules}: run bash .ci/install-cyclonedx-js"
        )
    return modules


def _hostile_scan(root: Path, kb, default_policy) -> ScanResult:
    """A model folder whose card gives a license link no URI can hold and names a base model
    and datasets by ids no Hub accepts."""
    from scanner.pipeline.scan import run_scan
    from tests.conftest import make_model_dir

    card = {
        "license": "other",
        "license_link": 'https://evil.example/a b<>{}|\\^`"x%zz#y#z',
        "base_model": "acme/x y",
        "datasets": ["a/b c", "x/%%"],
    }
    make_model_dir(root / "hostile", "m", card=card)
    return run_scan([root / "hostile"], default_policy, kb)


def test_the_javascript_cyclonedx_library_accepts_every_cyclonedx_bom(
    scanned, kb, default_policy, tmp_path
):
    """Every CycloneDX form aiscan writes (of the matrix's scan and of a hostile card),
    checked by @cyclonedx/cyclonedx-library's strict JSON validator and its XML (XSD)
    validator; a document with a component type the schema does not know is in the same run,
    so the validator is seen to refuse what it should."""
    modules = _cyclonedx_js_modules()
    paths = []
    scans = {"matrix": scanned, "hostile": _hostile_scan(tmp_path, kb, default_policy)}
    for label, result in scans.items():
        for version in CYCLONEDX_SPEC_VERSIONS:
            for name, suffix in (("cyclonedx-json", "json"), ("cyclonedx-xml", "xml")):
                path = tmp_path / f"{label}-{version}.cdx.{suffix}"
                path.write_text(
                    get_format(name, spec_version=version).render(result, kb), encoding="utf-8"
                )
                paths.append(path)
    broken = json.loads(paths[0].read_text(encoding="utf-8"))
    broken["components"][0]["type"] = "not-a-component-type"
    broken_path = tmp_path / "broken.cdx.json"
    broken_path.write_text(json.dumps(broken), encoding="utf-8")
    run = subprocess.run(
        ["node", str(JS_VALIDATOR), *map(str, [*paths, broken_path])],
        capture_output=True,
        text=True,
        env={**os.environ, "NODE_PATH": str(modules)},
        timeout=300,
        check=False,
    )
    verdicts = {Path(r["file"]).name: r for r in map(json.loads, run.stdout.splitlines())}
    assert run.returncode == 1, run.stderr
    assert set(verdicts) == {p.name for p in [*paths, broken_path]}, run.stderr
    for path in paths:
        verdict = verdicts[path.name]
        assert verdict["error"] is None, verdict
        assert verdict["version"] in CYCLONEDX_SPEC_VERSIONS
    assert "/components/0/type" in json.dumps(verdicts["broken.cdx.json"]["error"])


def test_spdx23_download_locations_are_the_hub_repositories(scanned, written):
    """A Hub model or dataset is downloaded from its Hub git repository at its commit (a file:
    that repository with the file as sub-path); a dataset only named has no commit; an
    installed package records no origin, so NOASSERTION."""
    document = json.loads(written["spdx-json"].read_text(encoding="utf-8"))
    where = {p["name"]: p["downloadLocation"] for p in document["packages"]}
    tuned = next(c for c in scanned.components if c.name == "acme/tuned")
    assert where["acme/tuned"] == f"git+https://huggingface.co/acme/tuned@{tuned.version}"
    weights = f"git+https://huggingface.co/acme/tuned@{tuned.version}#model.safetensors"
    assert where["acme/tuned/model.safetensors"] == weights
    chat = next(c for c in scanned.components if c.name == "acme/chat-data")
    assert where["acme/chat-data"] == (
        f"git+https://huggingface.co/datasets/acme/chat-data@{chat.version}"
    )
    assert where["other/web-text"] == "https://huggingface.co/datasets/other/web-text"
    assert where["alpha"] == "NOASSERTION"


@pytest.mark.parametrize(
    ("name", "kind", "revision", "location"),
    [
        ("acme/m", "model", None, "https://huggingface.co/acme/m"),
        ("acme/m", "model", "a" * 40, f"git+https://huggingface.co/acme/m@{'a' * 40}"),
        ("acme/m", "model", "main", "https://huggingface.co/acme/m"),  # a branch is no version
        ("acme/d", "dataset", None, "https://huggingface.co/datasets/acme/d"),
        ("snli", "dataset", None, None),
        ("acme/web text", "dataset", None, None),
        ("acme/x\nPackageSupplier: Organization: evil", "dataset", None, None),
    ],
)
def test_only_a_hub_repo_id_has_a_download_location(name, kind, revision, location):
    assert aibom.hub_download_location(name, kind, revision) == location
