"""CycloneDX ML-BOM: validated JSON and XML, modelCard, pedigree, hashes, licenses, libraries."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path
from xml.etree import ElementTree

import pytest

from scanner.formats.cyclonedx import BomValidationError, decode_cyclonedx, render_cyclonedx
from scanner.formats.decoded import BomDecodeError, DecodedComponent, DecodedFile
from scanner.formats.json import decoded_result
from scanner.inventory import Component, FileEntry, LicenseFacts, ScanResult
from tests.conftest import REAL_SNAPSHOT, make_hf_cache, make_model_dir, model_repo_files
from tests.formats.test_decoded import decodable_result

SNAPSHOT = REAL_SNAPSHOT


def _scan(kb, default_policy, *targets: Path) -> ScanResult:
    from scanner.pipeline.hashes import with_file_hashes
    from scanner.pipeline.scan import run_scan

    return with_file_hashes(run_scan(list(targets), default_policy, kb), workers=2)


def llama_chain(root: Path) -> list[Path]:
    """A Llama 2 base in an HF cache, a fine-tune of it naming two datasets, one cached."""
    hub = root / "hub"
    make_hf_cache(hub, "meta-llama/Llama-2-7b-hf", model_repo_files("llama2"))
    make_hf_cache(
        hub, "acme/chat-data", {"README.md": "---\nlicense: mit\n---\n"}, repo_type="dataset"
    )
    models = root / "models"
    make_model_dir(
        models,
        "tune",
        card={
            "license": "llama2",
            "base_model": "meta-llama/Llama-2-7b-hf",
            "base_model_relation": "finetune",
            "datasets": ["acme/chat-data", "other/web-text"],
            "pipeline_tag": "text-generation",
        },
    )
    return [models, hub]


def _library(name: str, version: str, license_key: str, spdx: str) -> Component:
    return Component(
        ref=f"library:pypi/{name}@{version}",
        type="library",
        name=name,
        source="python-env",
        location=f"/site-packages/{name}",
        version=version,
        purl=f"pkg:pypi/{name}@{version}",
        license=LicenseFacts(declared=(spdx,), effective=license_key, category="permissive"),
    )


def _path(file_component: dict) -> str:
    """Where a file component's file is in its model (what `verify --against` reads)."""
    (path,) = [p["value"] for p in file_component["properties"] if p["name"] == "aiscan:file:path"]
    return path


def _by_ref(document: dict) -> dict[str, dict]:
    return {c["bom-ref"]: c for c in document["components"]}


@pytest.fixture
def chain_result(tmp_path, kb, default_policy) -> ScanResult:
    return _scan(kb, default_policy, *llama_chain(tmp_path))


def test_json_model_card_pedigree_hashes_and_licenses(chain_result, kb, tmp_path):
    document = json.loads(render_cyclonedx(chain_result, kb, output="json"))
    assert document["specVersion"] == "1.6"
    components = _by_ref(document)
    tune = components["model:local/tune"]
    assert tune["type"] == "machine-learning-model"
    assert tune["modelCard"]["modelParameters"]["task"] == "text-generation"
    inline = tune["modelCard"]["modelParameters"]["datasets"]
    assert [d["name"] for d in inline] == ["acme/chat-data", "other/web-text"]
    assert all(d["type"] == "dataset" for d in inline)
    (depends,) = [d for d in document["dependencies"] if d["ref"] == "model:local/tune"]
    dataset_refs = depends["dependsOn"]
    assert "dataset:named/other/web-text" in dataset_refs
    cached = [r for r in dataset_refs if r.startswith("dataset:hf/acme/chat-data@")]
    assert cached and components[cached[0]]["type"] == "data"
    assert components["dataset:named/other/web-text"]["type"] == "data"

    (ancestor,) = tune["pedigree"]["ancestors"]
    assert ancestor["name"] == "meta-llama/Llama-2-7b-hf"
    assert ancestor["purl"].startswith("pkg:huggingface/meta-llama/Llama-2-7b-hf@")
    assert {"name": "aiscan:lineage:relation", "value": "finetune"} in ancestor["properties"]

    weights = tmp_path / "models" / "tune" / "model.safetensors"
    (file_component,) = [c for c in tune["components"] if c["name"] == "tune/model.safetensors"]
    assert file_component["type"] == "file"
    assert {"name": "aiscan:file:path", "value": "model.safetensors"} in file_component[
        "properties"
    ]
    digest = {"alg": "SHA-256", "content": hashlib.sha256(weights.read_bytes()).hexdigest()}
    assert file_component["hashes"] == [digest]
    # One weights file: its digest is the model's own hash, which consumers count.
    assert tune["hashes"] == [digest]

    (license_choice,) = tune["licenses"]
    assert license_choice["license"]["name"] == kb["llama2"].name
    assert license_choice["license"]["text"]["content"] == kb["llama2"].text
    assert license_choice["license"]["acknowledgement"] == "concluded"
    names = {p["name"] for p in tune["properties"]}
    assert {"aiscan:license:declared", "aiscan:license:effective"} <= names
    assert any(n.startswith("aiscan:finding:license.") for n in names)

    base = next(c for ref, c in components.items() if ref.startswith("model:hf/meta-llama"))
    assert any(r["type"] == "model-card" for r in base["externalReferences"])


def test_json_and_xml_validate_for_both_spec_versions(chain_result, kb):
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator
    from cyclonedx.validation.xml import XmlValidator

    for version in ("1.6", "1.7"):
        schema = SchemaVersion.from_version(version)
        as_json = render_cyclonedx(chain_result, kb, output="json", spec_version=version)
        assert JsonStrictValidator(schema).validate_str(as_json) is None
        as_xml = render_cyclonedx(chain_result, kb, output="xml", spec_version=version)
        assert XmlValidator(schema).validate_str(as_xml) is None
        root = ElementTree.fromstring(as_xml)
        ns = {"c": f"http://cyclonedx.org/schema/bom/{version}"}
        task = root.find(".//c:component[@bom-ref='model:local/tune']/c:modelCard//c:task", ns)
        assert task is not None and task.text == "text-generation"


def test_the_validator_catches_a_broken_model_card(chain_result, kb, monkeypatch):
    """The hand-added modelCard goes through the strict validator: a wrong field fails."""
    from scanner.formats import cyclonedx

    monkeypatch.setattr(cyclonedx, "_model_card", lambda c, r: {"modelParameters": {"x": 1}})
    with pytest.raises(BomValidationError, match="does not validate"):
        render_cyclonedx(chain_result, kb, output="json")
    with pytest.raises(BomValidationError, match="does not validate"):
        render_cyclonedx(chain_result, kb, output="xml")


def test_no_hash_is_invented(tmp_path, kb, default_policy):
    from scanner.pipeline.scan import run_scan

    make_model_dir(tmp_path, "plain")
    result = run_scan([tmp_path / "plain"], default_policy, kb)
    document = json.loads(render_cyclonedx(result, kb, output="json"))
    files = document["components"][0]["components"]
    assert files and all("hashes" not in f for f in files)


def test_libraries_render_with_purl_license_and_dependency(tmp_path, kb, default_policy):
    from scanner.pipeline.scan import run_scan

    make_model_dir(tmp_path, "embedder", card={"license": "mit", "library_name": "torch"})
    scanned = run_scan([tmp_path / "embedder"], default_policy, kb)
    torch = _library("torch", "2.4.0", "bsd-3-clause", "BSD-3-Clause")
    numpy = _library("numpy", "2.1.0", "bsd-3-clause", "BSD-3-Clause")
    result = ScanResult(
        tool_version="0",
        targets=scanned.targets,
        components=(*scanned.components, torch, numpy),
        findings=(),
    )
    document = json.loads(render_cyclonedx(result, kb, output="json"))
    lib = _by_ref(document)[torch.ref]
    assert lib["type"] == "library" and lib["purl"] == "pkg:pypi/torch@2.4.0"
    assert lib["licenses"][0]["license"]["id"] == "BSD-3-Clause"
    graph = {d["ref"]: d.get("dependsOn", []) for d in document["dependencies"]}
    assert graph["model:local/embedder"] == [torch.ref]
    assert graph[numpy.ref] == []


def test_expression_of_several_terms_uses_license_refs(kb):
    component = Component(
        ref="model:local/x",
        type="model",
        name="x",
        source="modeldir",
        location="x",
        license=LicenseFacts(effective="apache-2.0 AND llama3", category="restricted"),
        files=(FileEntry("model.safetensors", 8, "safetensors", sha256="ab" * 32),),
    )
    result = ScanResult("0", ("x",), (component,), ())
    document = json.loads(render_cyclonedx(result, kb, output="json"))
    (choice,) = document["components"][0]["licenses"]
    assert choice["expression"] == f"Apache-2.0 AND {kb['llama3'].spdx_ref}"
    assert document["components"][0]["components"][0]["hashes"][0]["content"] == "ab" * 32


def test_byte_identical_with_source_date_epoch(chain_result, kb, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    for output in ("json", "xml"):
        first = render_cyclonedx(chain_result, kb, output=output)
        assert first == render_cyclonedx(chain_result, kb, output=output)
    assert "2023-11-14T22:13:20" in first


def test_without_source_date_epoch_only_serial_and_time_differ(chain_result, kb, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    first = json.loads(render_cyclonedx(chain_result, kb, output="json"))
    second = json.loads(render_cyclonedx(chain_result, kb, output="json"))
    assert first["serialNumber"] != second["serialNumber"]
    for document in (first, second):
        del document["serialNumber"]
        del document["metadata"]["timestamp"]
    assert first == second


@pytest.mark.skipif(
    not (SNAPSHOT / "model.safetensors").is_file(),
    reason="real all-MiniLM-L6-v2 snapshot absent; run .ci/fetch-snapshot",
)
def test_real_minilm_snapshot(kb, default_policy):
    result = _scan(kb, default_policy, SNAPSHOT)
    for output in ("json", "xml"):
        render_cyclonedx(result, kb, output=output)  # validates or raises
    document = json.loads(render_cyclonedx(result, kb, output="json"))
    (model,) = [c for c in document["components"] if c["type"] == "machine-learning-model"]
    assert model["modelCard"]["modelParameters"]["task"] == "sentence-similarity"
    assert model["licenses"][0]["license"]["id"] == "Apache-2.0"
    hashes = {_path(f): f["hashes"][0]["content"] for f in model["components"]}
    digest = hashlib.sha256((SNAPSHOT / "model.safetensors").read_bytes()).hexdigest()
    assert hashes["model.safetensors"] == digest


# --- decoding -------------------------------------------------------------------------------


def _unordered(components):
    """Decoded components by name, each with its files sorted: documents order both freely."""
    return {
        c.name: replace(c, files=tuple(sorted(c.files, key=lambda f: f.path))) for c in components
    }


def test_decode_round_trips_what_the_writer_wrote(kb):
    result = decodable_result()
    bom = decode_cyclonedx(json.loads(render_cyclonedx(result, kb, output="json")))
    assert bom is not None and bom.license_notation == "aiscan"
    expected = decoded_result(result)
    named = DecodedComponent("dataset", "acme/data", named_only=True)  # only named by the card
    by_name = _unordered(bom.components)  # the library orders components its own way
    assert by_name == _unordered((*expected.components, named))
    assert bom.findings == expected.findings
    model, library = by_name["org/tune"], by_name["torch"]
    assert {f.path: f.sha256 for f in model.files} == {
        "model.safetensors": "ab" * 32,
        "config.json": None,
    }
    assert [f.counts for f in library.findings] == [False]  # waived


def test_decode_reads_any_depth_without_recursion():
    digest = "cd" * 32
    node = {
        "type": "library",
        "name": "deepest",
        "components": [
            {"type": "file", "name": "w.bin", "hashes": [{"alg": "SHA-256", "content": digest}]}
        ],
    }
    for depth in range(100_000):
        node = {"type": "application", "name": f"level-{depth}", "components": [node]}
    bom = decode_cyclonedx({"bomFormat": "CycloneDX", "components": [node]})
    assert bom is not None and len(bom.components) == 100_001
    assert bom.components[0].name == "level-99999" and bom.components[0].kind == "application"
    assert bom.components[-1].name == "deepest" and bom.components[-1].files[0].sha256 == digest


def test_decode_reads_another_tools_bom():
    document = {
        "bomFormat": "CycloneDX",
        "components": [
            {
                "type": "file",
                "name": "loose.bin",
                "hashes": [{"alg": "SHA-256", "content": "0" * 64}],
            },
            {
                "type": "machine-learning-model",
                "name": "m",
                "purl": "pkg:huggingface/org/m",
                "components": [{"type": "file", "name": "a.bin"}],
            },
        ],
    }
    bom = decode_cyclonedx(document)
    assert bom is not None
    assert bom.components == (
        DecodedComponent("file", "loose.bin", sha256="0" * 64),
        DecodedComponent("model", "m", purl="pkg:huggingface/org/m", files=(DecodedFile("a.bin"),)),
    )
    assert decode_cyclonedx({"bomFormat": "SPDX"}) is None and decode_cyclonedx([]) is None


@pytest.mark.parametrize(
    "components,message",
    [
        ({}, "components must be a list"),
        ([5], r"components\[0\] must be an object"),
        ([{"type": "library"}], r"components\[0\].name is missing"),
        ([{"type": "library", "name": 5}], r"components\[0\].name must be a string"),
        ([{"type": "library", "name": "x", "version": 10**4000}], "version must be a string"),
        ([{"type": "library", "name": "x", "properties": [{"name": 1}]}], "properties"),
        ([{"type": "library", "name": "x", "properties": [{"name": "a", "value": []}]}], "value"),
        (
            [{"type": "file", "name": "x", "hashes": [{"alg": "SHA-256", "content": "zz"}]}],
            "SHA-256",
        ),
        ([{"type": "library", "name": "x", "components": "no"}], "components must be a list"),
    ],
)
def test_decode_refuses_wrong_types_in_one_line(components, message):
    with pytest.raises(BomDecodeError, match=message) as info:
        decode_cyclonedx({"bomFormat": "CycloneDX", "components": components})
    assert str(info.value).startswith("malformed CycloneDX BOM: ")
    assert "\n" not in str(info.value) and len(str(info.value)) < 200


def test_a_wrong_type_deep_down_is_a_short_error():
    node: dict = {"type": "library", "name": None}
    for _ in range(100_000):
        node = {"type": "library", "name": "x", "components": [node]}
    with pytest.raises(BomDecodeError, match="name is missing") as info:
        decode_cyclonedx({"bomFormat": "CycloneDX", "components": [node]})
    assert len(str(info.value)) < 200


@pytest.mark.parametrize("version", ["1.6", "1.7"])
def test_the_json_validator_leaves_out_no_format_the_schema_uses(version):
    """`json_validator` imports jsonschema without the modules that check formats the
    CycloneDX schemas (and the SPDX and signature schemas they refer to) do not use; of their
    formats, only `iri-reference` is one of those modules' and it is checked by aiscan."""
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    from scanner.formats.cyclonedx import UNCHECKED_FORMAT_MODULES

    schema_file = Path(JsonStrictValidator(SchemaVersion.from_version(version))._schema_file)
    formats = set()
    pending = [
        json.loads(path.read_text(encoding="utf-8"))
        for path in (schema_file, *schema_file.parent.glob("[!b]*.schema.json"))
    ]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            if isinstance(node.get("format"), str):
                formats.add(node["format"])
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    assert "iri-reference" in formats and "uri" in formats  # the signature schema's
    unchecked = {f for checked in UNCHECKED_FORMAT_MODULES.values() for f in checked}
    assert formats & unchecked == {"iri-reference"}


_IRI_CHECK = """
import json, sys
from cyclonedx.schema import SchemaVersion
from scanner.formats.cyclonedx import json_validator
assert "rfc3987_syntax" not in sys.modules and "isoduration" not in sys.modules
validator = json_validator(SchemaVersion.V1_6)
assert "rfc3987_syntax" not in sys.modules and "isoduration" not in sys.modules
def bom(url):
    return json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
        "components": [{"type": "library", "name": "x",
                        "externalReferences": [{"type": "website", "url": url}]}]})
print(json.dumps([validator.validate_str(bom(u)) is None for u in sys.argv[1:]]))
"""


def test_iri_references_are_checked_without_the_slow_module():
    """In a fresh interpreter (as `aiscan bom` runs), the validator still refuses a URL that is
    no IRI reference and accepts one with non-ASCII characters, without rfc3987-syntax."""
    import subprocess
    import sys

    from tests.conftest import subprocess_env

    urls = ["https://example.org/straße?q=ü#frag", "relative/path", "http://a b/", "x:%zz", "<x>"]
    run = subprocess.run(
        [sys.executable, "-c", _IRI_CHECK, *urls],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=120,
        check=True,
    )
    assert json.loads(run.stdout) == [True, True, False, False, False]


@pytest.mark.parametrize(
    ("url", "written"),
    [
        ("https://example.org/LICENSE", "https://example.org/LICENSE"),
        ("https://e.example/a b|c^`\\", "https://e.example/a%20b%7Cc%5E%60%5C"),
        ("https://e.example/x%zz%41", "https://e.example/x%25zz%41"),
        ("https://e.example/p#a#b", "https://e.example/p#a%23b"),
        ("https://e.example/ü", "https://e.example/%C3%BC"),
    ],
)
def test_urls_from_scanned_files_become_valid_uris(url, written):
    from scanner.formats.cyclonedx import uri

    assert uri(url) == written


def test_a_hostile_license_link_does_not_stop_the_bom(tmp_path):
    """A card's `license_link` no URI can hold was an internal error; now it is written
    percent-encoded, pointing where it did, in JSON and XML."""
    from tests.conftest import run_cli

    link = 'https://evil.example/a b<>{}|\\^`"x%zz'
    make_model_dir(tmp_path / "models", "m", card={"license": "other", "license_link": link})
    for name in ("cyclonedx-json", "cyclonedx-xml"):
        out = tmp_path / f"bom.{name}"
        result = run_cli("bom", tmp_path / "models", "-f", name, "-o", out)
        assert result.exit_code == 0, result.stderr
        text = out.read_text(encoding="utf-8")
        assert "https://evil.example/a%20b%3C%3E%7B%7D%7C%5C%5E%60%22x%25zz" in text
