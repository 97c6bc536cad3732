"""SPDX 3.0.1 documents checked with pySHACL against the SPDX 3.0.1 model's shapes and the rules of
every profile the document declares (vendored: see tests/data/SCHEMAS.md), offline.

aiscan declares the AI and Dataset profiles only where every element meets them; the test of the
profiles it does not declare pins the exact facts still missing, so a fix shows up as a change.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from scanner.formats.spdx3 import render_spdx3
from tests.conftest import make_model_dir
from tests.formats.test_bom_consumers import make_hub_models, make_project

pyshacl = pytest.importorskip("pyshacl")
rdflib = pytest.importorskip("rdflib")

DATA = Path(__file__).resolve().parent.parent / "data" / "spdx3"
TERMS = "https://spdx.org/rdf/3.0.1/terms/"
PROFILE_RULES = {"ai": "profile-ai.ttl", "dataset": "profile-dataset.ttl"}
"""Profiles with conformance rules of their own; core, software, simpleLicensing and
expandedLicensing have none beyond the model's shapes."""


GLOBAL_INDIVIDUALS = {
    "NoAssertionElement": f"{TERMS}Core/NoAssertionElement",
    "NoneElement": f"{TERMS}Core/NoneElement",
    "SpdxOrganization": f"{TERMS}Core/SpdxOrganization",
    "expandedlicensing_NoAssertionLicense": f"{TERMS}ExpandedLicensing/NoAssertionLicense",
    "expandedlicensing_NoneLicense": f"{TERMS}ExpandedLicensing/NoneLicense",
}
"""The global named individuals the published context maps and the vendored copy lacks
(SCHEMAS.md), with the compact names spdx-python-model writes for them."""


@cache
def _context() -> dict[str, Any]:
    """The vendored context with `GLOBAL_INDIVIDUALS` added (none of them overrides a term)."""
    context = json.loads((DATA / "spdx-context-3.0.1.jsonld").read_text(encoding="utf-8"))
    terms = context["@context"]
    assert not set(GLOBAL_INDIVIDUALS) & set(terms)
    return {"@context": {**terms, **GLOBAL_INDIVIDUALS}}


@cache
def _shapes(profiles: frozenset[str]) -> Any:
    graph = rdflib.Graph()
    graph.parse(DATA / "spdx-model-3.0.1.jsonld", format="json-ld")
    for profile in sorted(profiles):
        graph.parse(DATA / PROFILE_RULES[profile], format="turtle")
    return graph


def violations(text: str, profiles: set[str]) -> list[tuple[str, str]]:
    """(element name or id, what is wrong) for every SHACL violation of the document against the
    model and the rules of `profiles`. Results about the model's own individuals (which carry no
    creationInfo in the published model) are not the document's and are left out."""
    document = json.loads(text)
    assert document["@context"] == "https://spdx.org/rdf/3.0.1/spdx-context.jsonld"
    data = rdflib.Graph()
    data.parse(data=json.dumps({**document, **_context()}), format="json-ld")
    shapes = _shapes(frozenset(profiles))
    _, results, _ = pyshacl.validate(data, shacl_graph=shapes, ont_graph=shapes)
    sh = rdflib.Namespace("http://www.w3.org/ns/shacl#")
    names = {n["spdxId"]: n.get("name", n["spdxId"]) for n in document["@graph"] if "spdxId" in n}
    found = []
    for result in results.subjects(rdflib.RDF.type, sh.ValidationResult):
        focus = str(results.value(result, sh.focusNode))
        if focus.startswith(TERMS):
            continue
        shape = results.value(result, sh.sourceShape)
        path = results.value(result, sh.resultPath)
        label = results.value(shape, sh.name) or shapes.value(shape, sh.name)
        what = str(label) if label else str(path).removeprefix(TERMS)
        found.append((names.get(focus, focus), what))
    return sorted(found)


def declared_profiles(text: str) -> set[str]:
    (document,) = [n for n in json.loads(text)["@graph"] if n["type"] == "SpdxDocument"]
    return set(document["profileConformance"])


@pytest.fixture(scope="module")
def hub_and_project(tmp_path_factory, kb, default_policy) -> str:
    """The consumers matrix's scan: HF-cache models and datasets, a base, a project `.venv`."""
    from scanner.pipeline.hashes import with_file_hashes
    from scanner.pipeline.scan import run_scan
    from scanner.sources.interface import ProjectOptions

    root = tmp_path_factory.mktemp("shacl")
    targets = [make_hub_models(root), make_project(root)]
    result = with_file_hashes(
        run_scan(targets, default_policy, kb, project=ProjectOptions()), workers=2
    )
    return render_spdx3(result, kb)


@pytest.fixture(scope="module")
def local_unlicensed(tmp_path_factory, kb, default_policy) -> str:
    """A local model folder whose card states no license: no supplier, version or download
    location exists for it."""
    from scanner.pipeline.scan import run_scan

    folder = make_model_dir(tmp_path_factory.mktemp("local"), "m", card={"tags": ["x"]})
    return render_spdx3(run_scan([folder], default_policy, kb), kb)


@pytest.fixture(scope="module")
def llama(tmp_path_factory, kb, default_policy) -> str:
    """A local fine-tune of a cached Llama 2 base (a custom license) naming two datasets."""
    from tests.formats.test_cyclonedx import _scan, llama_chain

    return render_spdx3(_scan(kb, default_policy, *llama_chain(tmp_path_factory.mktemp("l"))), kb)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory, kb, default_policy) -> str:
    """A card with a license link no URI holds and names no Hub accepts."""
    from tests.formats.test_bom_consumers import _hostile_scan

    return render_spdx3(_hostile_scan(tmp_path_factory.mktemp("h"), kb, default_policy), kb)


@pytest.fixture(scope="module")
def minilm(kb, default_policy) -> str:
    """The real all-MiniLM-L6-v2 snapshot (`bash .ci/fetch-snapshot`), whose card names many
    datasets the scan does not find."""
    from tests.conftest import REAL_SNAPSHOT
    from tests.formats.test_cyclonedx import _scan

    if not REAL_SNAPSHOT.exists():
        pytest.skip(f"real snapshot not fetched ({REAL_SNAPSHOT}); run bash .ci/fetch-snapshot")
    return render_spdx3(_scan(kb, default_policy, REAL_SNAPSHOT), kb)


@pytest.fixture(scope="module")
def trained(tmp_path_factory, kb, default_policy) -> str:
    """A fine-tune whose datasets the dataset catalogue knows: their packages carry a concluded
    license, a dataset type and a collection process (docs/datasets.md)."""
    from scanner.pipeline.scan import run_scan

    card = {"license": "mit", "datasets": ["tatsu-lab/alpaca", "allenai/c4", "acme/unknown"]}
    folder = make_model_dir(tmp_path_factory.mktemp("trained"), "ft", card=card)
    return render_spdx3(run_scan([folder], default_policy, kb), kb)


@pytest.mark.parametrize(
    "scan", ["hub_and_project", "local_unlicensed", "llama", "hostile", "minilm", "trained"]
)
def test_spdx3_conforms_to_the_model_and_every_declared_profile(scan, request):
    text = request.getfixturevalue(scan)
    profiles = declared_profiles(text)
    assert {"core", "software", "simpleLicensing"} <= profiles
    assert violations(text, profiles & set(PROFILE_RULES)) == []


def test_ai_and_dataset_profiles_miss_only_facts_aiscan_does_not_have(hub_and_project):
    """Every model and dataset has exactly one concluded and one declared license (NOASSERTION
    where no fact gives one), a primary purpose, and a supplier, version and download location
    when it is on the Hub; what is left is what no scanned file states: when a model or
    dataset was released or built, and who originated a dataset."""
    assert not {"ai", "dataset"} & declared_profiles(hub_and_project)
    missing = violations(hub_and_project, {"ai", "dataset"})
    expected = {
        ("acme/tuned", "Core/releaseTime"),
        ("acme/base-model", "Core/releaseTime"),
        *(
            (dataset, field)
            for dataset in ("acme/chat-data", "other/web-text")
            for field in ("Core/releaseTime", "Core/builtTime", "Core/originatedBy")
        ),
    }
    assert set(missing) == expected


def test_a_local_model_misses_its_supplier_version_and_download_location(local_unlicensed):
    assert sorted(violations(local_unlicensed, {"ai"})) == [
        ("m", "Core/releaseTime"),
        ("m", "Core/suppliedBy"),
        ("m", "Software/downloadLocation"),
        ("m", "Software/packageVersion"),
    ]


def test_the_profile_rules_catch_a_missing_or_second_license(hub_and_project):
    """The license rules are live: dropping the model's declared license or giving it a second
    concluded one breaks exactly that rule."""
    document = json.loads(hub_and_project)
    graph = document["@graph"]
    (tuned,) = [n["spdxId"] for n in graph if n.get("name") == "acme/tuned"]

    def of(kind: str) -> dict[str, Any]:
        (relationship,) = [
            n
            for n in graph
            if n.get("type") == "Relationship"
            and n["from"] == tuned
            and n["relationshipType"] == kind
        ]
        return relationship

    declared, concluded = of("hasDeclaredLicense"), of("hasConcludedLicense")
    graph.remove(declared)
    graph.append({**concluded, "spdxId": concluded["spdxId"] + "-second"})
    document["@graph"] = graph
    found = {v for v in violations(json.dumps(document), {"ai"}) if v[0] == "acme/tuned"}
    assert found == {
        ("acme/tuned", "Core/releaseTime"),
        ("acme/tuned", "exactly one hasDeclaredLicense"),
        ("acme/tuned", "exactly one hasConcludedLicense"),
    }
