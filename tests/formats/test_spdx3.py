"""SPDX 3.0.1 JSON-LD: read back with spdx-python-model, references resolved, AI and Dataset
profiles from facts only, lineage as relationships, SHA-256 per file, reproducible output."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from scanner.formats import spdx3
from scanner.formats.cyclonedx import BomValidationError
from scanner.formats.decoded import BomDecodeError, DecodedComponent, DecodedFile, DecodedFinding
from scanner.formats.spdx3 import decode_spdx3, render_spdx3
from scanner.inventory import Component, LicenseFacts, ScanResult
from tests.conftest import make_hf_cache, make_model_dir, run_cli
from tests.formats.test_cyclonedx import SNAPSHOT, _library, _scan, _unordered, llama_chain
from tests.formats.test_decoded import decodable_result
from tests.formats.test_spdx import spdx_decoded


class Read:
    """A document parsed back by the bindings' JSON-LD deserializer."""

    def __init__(self, text: str) -> None:
        from spdx_python_model import load_data

        self.data = json.loads(text)
        self.model, self.objects = load_data(self.data)
        self.m = self.model

    def of_type(self, name: str) -> list[Any]:
        return list(self.objects.foreach_type(name, match_subclass=False))

    def named(self, name: str, type_name: str | None = None) -> Any:
        found = [
            o
            for o in self.objects.foreach_type("Element")
            if getattr(o, "name", None) == name and type_name in (None, type(o).__name__)
        ]
        assert len(found) == 1, (name, found)
        return found[0]

    def relations(self) -> set[tuple[str, str, str]]:
        """(from, type, to) with local ids (after `#`) and the type's short name."""
        return {
            (_local(r.from_._id), r.relationshipType.rsplit("/", 1)[-1], _local(t._id))
            for r in self.of_type("Relationship")
            for t in r.to
        }

    def targets(self, element: Any, kind: str) -> list[Any]:
        return [
            t
            for r in self.of_type("Relationship")
            if r.from_ is element and r.relationshipType.endswith("/" + kind)
            for t in r.to
        ]


def _local(iri: str) -> str:
    return iri.split("#", 1)[1]


def read_back(text: str) -> Read:
    """Parse, check every reference resolves to an element of the document, re-serialize."""
    document = Read(text)
    objects, m = document.objects, document.m
    assert objects.missing_ids == set()
    ids = {o._id for o in objects.foreach_type("Element")}
    (spdx_document,) = document.of_type("SpdxDocument")
    assert {e._id for e in spdx_document.element} == ids - {spdx_document._id}
    assert all(isinstance(r, m.Element) for r in spdx_document.rootElement)
    for relationship in document.of_type("Relationship"):
        assert isinstance(relationship.from_, m.Element), relationship._id
        assert relationship.from_._id in ids
        # A target is an element of the document or SPDX's NoAssertionLicense individual.
        assert relationship.to and all(
            (isinstance(t, m.Element) and t._id in ids) or t == spdx3.NO_ASSERTION_LICENSE
            for t in relationship.to
        )
    for expression in document.of_type("simplelicensing_LicenseExpression"):
        for entry in expression.simplelicensing_customIdToUri:
            custom = objects.find_by_id(entry.value)
            assert isinstance(custom, m.expandedlicensing_CustomLicense)
            assert entry.key in expression.simplelicensing_licenseExpression
    again = m.JSONLDSerializer().serialize_data(objects)
    assert again == document.data
    return document


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _hashes(document: Read, package: Any) -> dict[str, str]:
    files = document.targets(package, "contains")
    return {
        f.name: h.hashValue
        for f in files
        for h in f.verifiedUsing
        if h.algorithm == document.m.HashAlgorithm.sha256
    }


def test_small_model_folder(tmp_path, kb, default_policy):
    folder = make_model_dir(tmp_path, "m", files={"config.json": "{}"})
    document = read_back(render_spdx3(_scan(kb, default_policy, folder), kb))
    m = document.m

    model = document.named("m", "ai_AIPackage")
    assert model.software_primaryPurpose == m.software_SoftwarePurpose.model
    (root,) = document.of_type("SpdxDocument")[0].rootElement
    assert root is model
    assert _hashes(document, model) == {
        name: _sha256(folder / name) for name in ("README.md", "config.json", "model.safetensors")
    }
    (concluded,) = document.targets(model, "hasConcludedLicense")
    assert concluded.simplelicensing_licenseExpression == "Apache-2.0"
    (declared,) = document.targets(model, "hasDeclaredLicense")
    assert declared is concluded
    # No facts about type, domain, limitations or compliance: nothing is written.
    for field in ("ai_typeOfModel", "ai_domain", "ai_standardCompliance", "ai_metric"):
        assert not getattr(model, field), field
    assert model.ai_limitation is None and model.ai_informationAboutTraining is None

    (creation,) = document.of_type("CreationInfo")
    assert creation.specVersion == "3.0.1"
    assert [a.name for a in creation.createdBy] == ["aiscan"]
    assert isinstance(creation.createdBy[0], m.SoftwareAgent)
    assert creation.createdUsing[0].name.startswith("aiscan-")


def test_llama_chain_lineage_datasets_and_custom_license(tmp_path, kb, default_policy):
    result = _scan(kb, default_policy, *llama_chain(tmp_path))
    document = read_back(render_spdx3(result, kb))
    m = document.m

    tune = document.named("tune", "ai_AIPackage")
    base = document.named("meta-llama/Llama-2-7b-hf", "ai_AIPackage")
    assert document.targets(tune, "descendantOf") == [base]
    assert base.software_packageUrl.startswith("pkg:huggingface/meta-llama/Llama-2-7b-hf@")
    trained_on = {d.name: d for d in document.targets(tune, "trainedOn")}
    assert set(trained_on) == {"acme/chat-data", "other/web-text"}
    for dataset in trained_on.values():
        assert isinstance(dataset, m.dataset_DatasetPackage)
        assert dataset.dataset_datasetType == [m.dataset_DatasetType.noAssertion]
    assert trained_on["other/web-text"].comment == "named by a model card; not found by the scan"
    assert _hashes(document, trained_on["acme/chat-data"])  # the cached dataset's files

    assert tune.ai_informationAboutApplication == "task (model card pipeline_tag): text-generation"
    assert "fine-tuned from meta-llama/Llama-2-7b-hf" in tune.ai_informationAboutTraining
    weights = tmp_path / "models" / "tune" / "model.safetensors"
    assert _hashes(document, tune)["model.safetensors"] == _sha256(weights)

    (concluded,) = document.targets(tune, "hasConcludedLicense")
    assert concluded.simplelicensing_licenseExpression == kb["llama2"].spdx_ref
    (entry,) = concluded.simplelicensing_customIdToUri
    custom = document.objects.find_by_id(entry.value)
    assert custom.simplelicensing_licenseText == kb["llama2"].text
    assert custom.name == kb["llama2"].name
    (spdx_document,) = document.of_type("SpdxDocument")
    assert m.ProfileIdentifierType.expandedLicensing in spdx_document.profileConformance


def test_quantized_base_has_variant_and_adapter_depends_on_base(tmp_path, kb, default_policy):
    from scanner.pipeline.scan import run_scan

    make_model_dir(tmp_path, "base", card={"license": "mit"})
    for name, relation in (("q", "quantized"), ("lora", "adapter")):
        card = {"license": "mit", "base_model": "base", "base_model_relation": relation}
        make_model_dir(tmp_path, name, card=card)
    relations = read_back(render_spdx3(run_scan([tmp_path], default_policy, kb), kb)).relations()
    assert ("SPDXRef-model-local-base", "hasVariant", "SPDXRef-model-local-q") in relations
    assert ("SPDXRef-model-local-lora", "descendantOf", "SPDXRef-model-local-base") in relations
    assert ("SPDXRef-model-local-lora", "dependsOn", "SPDXRef-model-local-base") in relations
    assert not any(r[0] == "SPDXRef-model-local-q" and r[1] == "descendantOf" for r in relations)


def test_named_base_model_not_scanned(tmp_path, kb, default_policy):
    from scanner.pipeline.scan import run_scan

    folder = make_model_dir(tmp_path, "tune", card={"license": "mit", "base_model": "org/absent"})
    document = read_back(render_spdx3(run_scan([folder], default_policy, kb), kb))
    (base,) = document.targets(document.named("tune"), "descendantOf")
    assert base.name == "org/absent" and isinstance(base, document.m.ai_AIPackage)
    assert base.comment == "named by a model card; not found by the scan"


def test_dataset_component(tmp_path, kb, default_policy):
    hub = tmp_path / "hub"
    files = {"README.md": "---\nlicense: mit\n---\n", "data/train.csv": "a,b\n1,2\n"}
    _, commit = make_hf_cache(hub, "acme/table", files, repo_type="dataset")
    document = read_back(render_spdx3(_scan(kb, default_policy, hub), kb))
    m = document.m

    dataset = document.named("acme/table", "dataset_DatasetPackage")
    assert dataset.software_primaryPurpose == m.software_SoftwarePurpose.data
    assert dataset.dataset_datasetType == [m.dataset_DatasetType.noAssertion]
    assert dataset.software_packageVersion == commit
    (concluded,) = document.targets(dataset, "hasConcludedLicense")
    assert concluded.simplelicensing_licenseExpression == "MIT"
    expected = {
        name: hashlib.sha256(content.encode()).hexdigest() for name, content in files.items()
    }
    assert _hashes(document, dataset) == expected


def test_library_package_with_purl_and_dependency(tmp_path, kb, default_policy):
    from scanner.pipeline.scan import run_scan

    make_model_dir(tmp_path, "embedder", card={"license": "mit", "library_name": "torch"})
    scanned = run_scan([tmp_path / "embedder"], default_policy, kb)
    torch = _library("torch", "2.4.0", "bsd-3-clause", "BSD-3-Clause")
    result = ScanResult("0", scanned.targets, (*scanned.components, torch), ())
    document = read_back(render_spdx3(result, kb))
    m = document.m

    library = document.named("torch")
    assert type(library) is m.software_Package
    assert library.software_packageUrl == "pkg:pypi/torch@2.4.0"
    assert library.software_packageVersion == "2.4.0"
    assert library.software_primaryPurpose == m.software_SoftwarePurpose.library
    assert document.targets(document.named("embedder"), "dependsOn") == [library]
    (declared,) = document.targets(library, "hasDeclaredLicense")
    assert declared.simplelicensing_licenseExpression == "BSD-3-Clause"


def test_unmapped_declared_license_is_no_assertion(kb):
    """A model's license values that map to nothing are NoAssertionLicense (the AI profile wants
    exactly one of each relationship) and are quoted in the comment."""
    component = Component(
        ref="model:local/x",
        type="model",
        name="x",
        source="modeldir",
        location="x",
        license=LicenseFacts(declared=("my-own-terms",)),
    )
    document = read_back(render_spdx3(ScanResult("0", ("x",), (component,), ()), kb))
    package = document.named("x")
    for kind in ("hasDeclaredLicense", "hasConcludedLicense"):
        assert document.targets(package, kind) == [spdx3.NO_ASSERTION_LICENSE]
    assert "declared values not mapped to SPDX: my-own-terms" in package.comment


def test_missing_required_property_is_a_validation_error(monkeypatch, kb):
    component = Component("model:local/x", "model", "x", "modeldir", "x")
    monkeypatch.setattr(spdx3.aibom, "declared_expression", lambda c, kb: ("", []))
    with pytest.raises(BomValidationError, match="licenseExpression"):
        render_spdx3(ScanResult("0", ("x",), (component,), ()), kb)


def test_byte_identical_with_source_date_epoch(tmp_path, kb, default_policy, monkeypatch):
    result = _scan(kb, default_policy, *llama_chain(tmp_path))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    first = render_spdx3(result, kb)
    assert first == render_spdx3(result, kb)
    (creation,) = read_back(first).of_type("CreationInfo")
    assert creation.created.isoformat() == "2023-11-14T22:13:20+00:00"


def test_bom_command_writes_spdx3(tmp_path):
    folder = make_model_dir(tmp_path, "m")
    env = {"SOURCE_DATE_EPOCH": "1700000000"}
    out = tmp_path / "bom.spdx3.json"
    result = run_cli("bom", folder, "--format", "spdx3-jsonld", "-o", out, env=env)
    assert result.exit_code == 0, result.stderr
    document = read_back(out.read_text())
    digest = _sha256(folder / "model.safetensors")
    assert _hashes(document, document.named("m"))["model.safetensors"] == digest
    assert out.read_text() == run_cli("bom", folder, "-f", "spdx3-jsonld", env=env).stdout


@pytest.mark.skipif(
    not (SNAPSHOT / "model.safetensors").is_file(),
    reason="real all-MiniLM-L6-v2 snapshot absent; run .ci/fetch-snapshot",
)
def test_real_minilm_snapshot(kb, default_policy):
    document = read_back(render_spdx3(_scan(kb, default_policy, SNAPSHOT), kb))
    (model,) = document.of_type("ai_AIPackage")
    hashes = _hashes(document, model)
    assert hashes["model.safetensors"] == _sha256(SNAPSHOT / "model.safetensors")
    assert len(hashes) == len(document.targets(model, "contains"))


# --- decoding -------------------------------------------------------------------------------

CONTEXT = "https://spdx.org/rdf/3.0.1/spdx-context.jsonld"


def test_decode_round_trips_what_the_writer_wrote(kb):
    result = decodable_result()
    bom = decode_spdx3(json.loads(render_spdx3(result, kb)))
    assert bom is not None and bom.license_notation == "spdx"
    assert _unordered(bom.components) == spdx_decoded(result)
    assert bom.findings == (DecodedFinding("scan.nothing-found", "note", message="nothing else"),)


def test_decode_reads_another_tools_document():
    graph = [
        {
            "type": "software_Package",
            "spdxId": "urn:p",
            "name": "p",
            "software_primaryPurpose": "library",
        },
        {
            "type": "software_File",
            "spdxId": "urn:f",
            "name": "p/__init__.py",
            "verifiedUsing": [{"type": "Hash", "algorithm": "sha256", "hashValue": "b" * 64}],
        },
        {"type": "Relationship", "from": "urn:p", "relationshipType": "contains", "to": ["urn:f"]},
        {
            "type": "Relationship",
            "from": "urn:p",
            "relationshipType": "hasConcludedLicense",
            "to": ["https://spdx.org/licenses/MIT", "https://spdx.org/licenses/NOASSERTION"],
        },
        {
            "type": "Relationship",
            "from": "urn:p",
            "relationshipType": "hasConcludedLicense",
            "to": ["urn:gpl-or-bsd"],
        },
        {
            "type": "simplelicensing_LicenseExpression",
            "spdxId": "urn:gpl-or-bsd",
            "simplelicensing_licenseExpression": "GPL-2.0-only OR BSD-3-Clause",
        },
    ]
    bom = decode_spdx3({"@context": CONTEXT, "@graph": graph})
    assert bom is not None
    assert bom.components == (
        DecodedComponent(
            "library",
            "p",
            effective="MIT AND (GPL-2.0-only OR BSD-3-Clause)",
            files=(DecodedFile("p/__init__.py", "b" * 64),),
        ),
    )
    assert decode_spdx3({"@context": "https://example.org/other.jsonld"}) is None


@pytest.mark.parametrize(
    "graph,message",
    [
        ({}, "@graph must be a list"),
        (["x"], r"@graph\[0\] must be an object"),
        ([{"type": 5}], r"@graph\[0\].type must be a string"),
        ([{"type": "ai_AIPackage", "spdxId": "urn:a", "name": 10**4000}], "name must be a string"),
        (
            [{"type": "Relationship", "from": "a", "relationshipType": "contains", "to": "b"}],
            "to must be a list",
        ),
        ([{"type": "Relationship", "relationshipType": "contains", "to": []}], "from is missing"),
        (
            [
                {
                    "type": "software_File",
                    "name": "f",
                    "verifiedUsing": [{"algorithm": "sha256", "hashValue": "zz"}],
                }
            ],
            "hashValue is not a SHA-256 digest",
        ),
    ],
)
def test_decode_refuses_wrong_types_in_one_line(graph, message):
    with pytest.raises(BomDecodeError, match=message) as info:
        decode_spdx3({"@context": [CONTEXT], "@graph": graph})
    assert str(info.value).startswith("malformed SPDX 3.0.1 document: ")
    assert "\n" not in str(info.value)
