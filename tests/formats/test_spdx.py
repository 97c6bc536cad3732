"""SPDX 2.3 JSON and tag-value: validated, lineage, checksums, purls, extracted licenses."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace

import pytest

from scanner.formats.decoded import BomDecodeError, DecodedComponent, DecodedFile, DecodedFinding
from scanner.formats.json import decoded_result
from scanner.formats.spdx import decode_spdx, render_spdx
from scanner.inventory import Component, LicenseFacts, ScanResult
from tests.conftest import make_model_dir
from tests.formats.test_cyclonedx import SNAPSHOT, _library, _scan, _unordered, llama_chain
from tests.formats.test_decoded import decodable_result


@pytest.fixture
def chain_result(tmp_path, kb, default_policy) -> ScanResult:
    return _scan(kb, default_policy, *llama_chain(tmp_path))


def _parse(text: str, suffix: str):
    """Read a document back with spdx-tools' own parser and validate it."""
    from spdx_tools.spdx.parser.jsonlikedict.json_like_dict_parser import JsonLikeDictParser
    from spdx_tools.spdx.parser.tagvalue import tagvalue_parser
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

    if suffix == "json":
        document = JsonLikeDictParser().parse(json.loads(text))
    else:
        document = tagvalue_parser.Parser().parse(text)
    assert validate_full_spdx_document(document) == []
    return document


def test_json_lineage_checksums_and_licenses(chain_result, kb, tmp_path):
    document = json.loads(render_spdx(chain_result, kb, output="json"))
    assert document["spdxVersion"] == "SPDX-2.3"
    packages = {p["SPDXID"]: p for p in document["packages"]}
    tune = packages["SPDXRef-model-local-tune"]
    assert tune["licenseConcluded"] == kb["llama2"].spdx_ref
    relations = {
        (r["spdxElementId"], r["relationshipType"], r["relatedSpdxElement"])
        for r in document["relationships"]
    }
    base_id = next(i for i in packages if i.startswith("SPDXRef-model-hf-meta-llama"))
    assert ("SPDXRef-model-local-tune", "DESCENDANT_OF", base_id) in relations
    assert (
        "SPDXRef-model-local-tune",
        "GENERATED_FROM",
        "SPDXRef-dataset-named-other-web-text",
    ) in relations
    assert packages[base_id]["externalRefs"][0]["referenceType"] == "purl"
    assert packages[base_id]["externalRefs"][0]["referenceCategory"] == "PACKAGE-MANAGER"

    weights = tmp_path / "models" / "tune" / "model.safetensors"
    file_id = "SPDXRef-model-local-tune-file-model.safetensors"
    assert ("SPDXRef-model-local-tune", "CONTAINS", file_id) in relations
    assert packages[file_id]["checksums"] == [
        {"algorithm": "SHA256", "checksumValue": hashlib.sha256(weights.read_bytes()).hexdigest()}
    ]
    (extracted,) = document["hasExtractedLicensingInfos"]
    assert extracted["licenseId"] == kb["llama2"].spdx_ref
    assert extracted["extractedText"] == kb["llama2"].text


@pytest.mark.parametrize("output,suffix", [("json", "json"), ("tag-value", "tv")])
def test_documents_parse_back_and_validate(chain_result, kb, output, suffix):
    document = _parse(render_spdx(chain_result, kb, output=output), suffix)
    names = {p.name for p in document.packages}
    assert {"meta-llama/Llama-2-7b-hf", "tune", "acme/chat-data", "other/web-text"} <= names


def test_quantized_base_is_a_variant_and_adapter_depends_on_base(tmp_path, kb, default_policy):
    from scanner.pipeline.scan import run_scan

    make_model_dir(tmp_path, "base", card={"license": "mit"})
    make_model_dir(
        tmp_path,
        "q",
        card={"license": "mit", "base_model": "base", "base_model_relation": "quantized"},
    )
    make_model_dir(
        tmp_path,
        "lora",
        card={"license": "mit", "base_model": "base", "base_model_relation": "adapter"},
    )
    result = run_scan([tmp_path], default_policy, kb)
    document = json.loads(render_spdx(result, kb, output="json"))
    relations = {
        (r["spdxElementId"], r["relationshipType"], r["relatedSpdxElement"])
        for r in document["relationships"]
    }
    assert ("SPDXRef-model-local-q", "VARIANT_OF", "SPDXRef-model-local-base") in relations
    assert ("SPDXRef-model-local-lora", "DESCENDANT_OF", "SPDXRef-model-local-base") in relations
    assert ("SPDXRef-model-local-lora", "DEPENDS_ON", "SPDXRef-model-local-base") in relations


def test_unmapped_declared_license_is_noassertion_and_kept_verbatim(kb):
    component = Component(
        ref="model:local/x",
        type="model",
        name="x",
        source="modeldir",
        location="x",
        license=LicenseFacts(declared=("my-own-terms",)),
    )
    document = json.loads(render_spdx(ScanResult("0", ("x",), (component,), ()), kb, output="json"))
    (package,) = document["packages"]
    assert package["licenseDeclared"] == "NOASSERTION"
    assert package["licenseConcluded"] == "NOASSERTION"
    assert "my-own-terms" in package["licenseComments"]
    assert "checksums" not in package


def test_library_depends_on_and_purl(tmp_path, kb, default_policy):
    from scanner.pipeline.scan import run_scan

    make_model_dir(tmp_path, "embedder", card={"license": "mit", "library_name": "torch"})
    scanned = run_scan([tmp_path / "embedder"], default_policy, kb)
    torch = _library("torch", "2.4.0", "bsd-3-clause", "BSD-3-Clause")
    result = ScanResult("0", scanned.targets, (*scanned.components, torch), ())
    text = render_spdx(result, kb, output="tag-value")
    _parse(text, "tv")
    assert "ExternalRef: PACKAGE-MANAGER purl pkg:pypi/torch@2.4.0" in text
    assert (
        "Relationship: SPDXRef-model-local-embedder DEPENDS_ON SPDXRef-library-pypi-torch-2.4.0"
        in text
    )
    assert "PrimaryPackagePurpose: LIBRARY" in text


def test_byte_identical_with_source_date_epoch(chain_result, kb, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    for output in ("json", "tag-value"):
        assert render_spdx(chain_result, kb, output=output) == render_spdx(
            chain_result, kb, output=output
        )


@pytest.mark.skipif(
    not (SNAPSHOT / "model.safetensors").is_file(),
    reason="real all-MiniLM-L6-v2 snapshot absent; run .ci/fetch-snapshot",
)
def test_real_minilm_snapshot(kb, default_policy):
    result = _scan(kb, default_policy, SNAPSHOT)
    document = _parse(render_spdx(result, kb, output="json"), "json")
    digest = hashlib.sha256((SNAPSHOT / "model.safetensors").read_bytes()).hexdigest()
    weights = [p for p in document.packages if p.file_name == "model.safetensors"]
    assert weights[0].checksums[0].value == digest
    _parse(render_spdx(result, kb, output="tag-value"), "tv")


# --- decoding -------------------------------------------------------------------------------


def spdx_decoded(result: ScanResult) -> dict[str, DecodedComponent]:
    """What an SPDX writer's document of `result` decodes to: licenses as SPDX expressions, and
    the dataset the card names as a component."""
    expected = decoded_result(result)
    model, library = expected.components
    return _unordered(
        (
            replace(model, declared=("Apache-2.0",), effective="Apache-2.0"),
            replace(library, declared=("BSD-3-Clause",), effective="BSD-3-Clause"),
            DecodedComponent("dataset", "acme/data", named_only=True),
        )
    )


def test_decode_round_trips_what_the_writer_wrote(kb):
    result = decodable_result()
    bom = decode_spdx(json.loads(render_spdx(result, kb, output="json")))
    assert bom is not None and bom.license_notation == "spdx"
    assert _unordered(bom.components) == spdx_decoded(result)
    assert bom.findings == (DecodedFinding("scan.nothing-found", "note", message="nothing else"),)


def test_decode_reads_another_tools_document():
    document = {
        "spdxVersion": "SPDX-2.3",
        "packages": [
            {
                "SPDXID": "SPDXRef-torch",
                "name": "PyTorch",
                "primaryPackagePurpose": "FRAMEWORK",
                "licenseConcluded": "NOASSERTION",
                "licenseDeclared": "BSD-3-Clause",
                "hasFiles": ["SPDXRef-init"],
            }
        ],
        "files": [
            {
                "SPDXID": "SPDXRef-init",
                "fileName": "./torch/__init__.py",
                "checksums": [{"algorithm": "SHA256", "checksumValue": "A" * 64}],
            }
        ],
    }
    bom = decode_spdx(document)
    assert bom is not None
    assert bom.components == (
        DecodedComponent(
            "library",
            "PyTorch",
            declared=("BSD-3-Clause",),
            files=(DecodedFile("torch/__init__.py", "a" * 64),),
        ),
    )
    assert decode_spdx({"spdxVersion": "SPDX-2.2"}) is None


@pytest.mark.parametrize(
    "document,message",
    [
        ({"packages": {}}, "packages must be a list"),
        ({"packages": [{"name": "x"}]}, r"packages\[0\].SPDXID is missing"),
        ({"packages": [{"SPDXID": "a", "name": 10**4000}]}, "name must be a string"),
        (
            {"packages": [{"SPDXID": "a", "name": "x", "licenseConcluded": ["MIT"]}]},
            "licenseConcluded",
        ),
        ({"packages": [{"SPDXID": "a", "name": "x", "hasFiles": [1]}]}, r"hasFiles\[0\]"),
        ({"packages": [{"SPDXID": "a", "name": "x", "externalRefs": "purl"}]}, "externalRefs"),
        (
            {"relationships": [{"spdxElementId": "a", "relationshipType": "CONTAINS"}]},
            "relatedSpdxElement",
        ),
        (
            {
                "packages": [
                    {
                        "SPDXID": "a",
                        "name": "x",
                        "checksums": [{"algorithm": "SHA256", "checksumValue": 12}],
                    }
                ]
            },
            "checksumValue must be a string",
        ),
    ],
)
def test_decode_refuses_wrong_types_in_one_line(document, message):
    with pytest.raises(BomDecodeError, match=message) as info:
        decode_spdx({"spdxVersion": "SPDX-2.3", **document})
    assert str(info.value).startswith("malformed SPDX 2.3 document: ")
    assert "\n" not in str(info.value)
