"""`BomDigests`: the digests `verify --against` reads from a CycloneDX BOM, through its decoder."""

from __future__ import annotations

import json

import pytest

from scanner.integrity.references import BomDigests, BomError
from scanner.inventory import Component

A, B, C = "a" * 64, "b" * 64, "c" * 64


def _file(name: str, digest: str) -> dict:
    return {"type": "file", "name": name, "hashes": [{"alg": "SHA-256", "content": digest}]}


def _model(name: str, purl: str | None = None) -> Component:
    return Component(
        ref=f"model:x/{name}", type="model", name=name, source="s", location="l", purl=purl
    )


def test_files_match_their_parent_by_name_or_purl_or_any_when_loose(tmp_path):
    bom = {
        "bomFormat": "CycloneDX",
        "components": [
            _file("loose.bin", C),
            {
                "type": "application",
                "name": "app",
                "components": [
                    {
                        "type": "machine-learning-model",
                        "name": "org/m",
                        "purl": "pkg:huggingface/org/m@1",
                        "components": [_file("model.safetensors", A)],
                    },
                    {
                        "type": "machine-learning-model",
                        "name": "other",
                        "components": [_file("model.safetensors", B)],
                    },
                ],
            },
        ],
    }
    path = tmp_path / "bom.cdx.json"
    path.write_text(json.dumps(bom))
    digests = BomDigests.load(path)
    assert digests.lookup(_model("org/m"), "model.safetensors") == A
    assert digests.lookup(_model("renamed", "pkg:huggingface/org/m@1"), "model.safetensors") == A
    assert digests.lookup(_model("other"), "model.safetensors") == B
    assert digests.lookup(_model("anything"), "loose.bin") == C
    assert digests.lookup(_model("anything"), "model.safetensors") is None


@pytest.mark.parametrize(
    "content,message",
    [
        ("[" * 10_000 + "]" * 10_000, "nested too deeply"),
        (
            '{"bomFormat": "CycloneDX", "components": [{"name": ' + "9" * 5000 + "}]}",
            "not valid JSON",
        ),
        (
            json.dumps(
                {"bomFormat": "CycloneDX", "components": [{"type": "file", "name": 10**4000}]}
            ),
            "name must be a string",
        ),
        (
            json.dumps({"bomFormat": "CycloneDX", "components": [_file("x", "0" * 63)]}),
            "not a SHA-256 digest",
        ),
        (json.dumps({"spdxVersion": "SPDX-2.3"}), "is not a CycloneDX JSON BOM"),
    ],
)
def test_a_bom_that_cannot_be_used_is_one_usage_error(tmp_path, content, message):
    path = tmp_path / "bom.cdx.json"
    path.write_text(content)
    with pytest.raises(BomError, match=message) as info:
        BomDigests.load(path)
    assert info.value.exit_code == 2
    assert str(path) in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("relative", "digest"),
    [
        ("blobs/sha256-" + "ab" * 32, "ab" * 32),
        ("blobs/sha256:" + "AB" * 32, "ab" * 32),
        ("blobs/sha256-" + "ab" * 32 + "-partial", None),
        ("blobs/sha256-" + "ab" * 31, None),
        ("other/sha256-" + "ab" * 32, None),
    ],
)
def test_ollama_blob_names_promise_their_digest(tmp_path, relative, digest):
    from scanner.integrity.references import ollama_blob_reference

    expected = ollama_blob_reference(tmp_path / relative)
    if digest is None:
        assert expected is None
    else:
        assert expected is not None
        assert (expected.kind, expected.label) == ("ollama-blob", f"sha256:{digest}")
