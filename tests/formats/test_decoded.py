"""`scanner.formats.decoded`: typed reads of hostile JSON, one-line errors naming the field.

`decodable_result` is the hand-made scan every format's decode(encode(result)) test round-trips.
"""

from __future__ import annotations

import re

import pytest

from scanner.formats.decoded import BomDecodeError, JsonObject, sha256_digest
from scanner.inventory import (
    Component,
    FileEntry,
    Finding,
    LicenseFacts,
    ScanResult,
    Waiver,
)

COMMIT = "c" * 40
WEIGHTS_SHA256 = "ab" * 32


def decodable_result() -> ScanResult:
    """A model with a measured and an unmeasured file, naming a dataset the scan did not find;
    a library; a finding on each (the library's waived) and one about no component."""
    model = Component(
        ref=f"model:hf/org/tune@{COMMIT}",
        type="model",
        name="org/tune",
        source="hfcache",
        location="/cache/models--org--tune",
        version=COMMIT,
        purl=f"pkg:huggingface/org/tune@{COMMIT}",
        license=LicenseFacts(
            declared=("apache-2.0",), effective="apache-2.0", category="permissive"
        ),
        datasets=("acme/data",),
        files=(
            FileEntry("model.safetensors", 8, "safetensors", sha256=WEIGHTS_SHA256),
            FileEntry("config.json", 2, "other"),
        ),
    )
    library = Component(
        ref="library:pypi/torch@2.4.0",
        type="library",
        name="torch",
        source="python-env",
        location="/site-packages/torch",
        version="2.4.0",
        purl="pkg:pypi/torch@2.4.0",
        license=LicenseFacts(
            declared=("BSD-3-Clause",), effective="bsd-3-clause", category="permissive"
        ),
    )
    waiver = Waiver("dependency.license-unknown", library.ref, "reviewed by legal")
    findings = (
        Finding("provenance.unpinned-revision", "warning", model.ref, "pin it"),
        Finding("dependency.license-unknown", "error", library.ref, "unknown", waived=waiver),
        Finding("scan.nothing-found", "note", None, "nothing else"),
    )
    return ScanResult("0", ("/cache",), (model, library), findings)


def test_fields_of_the_wrong_type_name_where_they_are():
    raw = JsonObject({"name": 5, "list": {}, "items": [1], "objs": ["x"]}, "components[3]", "BOM")
    cases = [
        (lambda: raw.string("name"), "malformed BOM: components[3].name must be a string"),
        (lambda: raw.required("absent"), "malformed BOM: components[3].absent is missing"),
        (lambda: raw.strings("list"), "components[3].list must be a list"),
        (lambda: raw.strings("items"), "components[3].items[0] must be a string"),
        (lambda: raw.objects("objs"), "components[3].objs[0] must be an object"),
    ]
    for read, message in cases:
        with pytest.raises(BomDecodeError, match=re.escape(message)):
            read()
    with pytest.raises(BomDecodeError, match="the document must be an object"):
        JsonObject([], "", "BOM")


def test_absent_and_null_fields_read_as_absent():
    raw = JsonObject({"a": None}, "", "BOM")
    assert raw.string("a") is None and raw.object("a") is None
    assert raw.strings("b") == [] and raw.objects("a") == []


def test_deep_paths_stay_short():
    document: dict = {}
    for _ in range(10_000):
        document = {"components": [document]}
    raw = JsonObject(document, "", "BOM")
    while raw.raw:
        raw = raw.objects("components")[0]
    assert len(raw.where) < 100
    assert raw.where.startswith("components[0].components[0]")
    assert raw.where.endswith("components[0]")


def test_sha256_digests_are_checked():
    entries = [
        JsonObject({"alg": "MD5", "content": "x"}, "hashes[0]", "BOM"),
        JsonObject({"alg": "SHA-256", "content": "AB" * 32}, "hashes[1]", "BOM"),
    ]
    assert sha256_digest(entries, "alg", "content") == "ab" * 32
    bad = [JsonObject({"alg": "SHA256", "content": "abc"}, "hashes[0]", "BOM")]
    with pytest.raises(BomDecodeError, match=r"hashes\[0\].content is not a SHA-256 digest"):
        sha256_digest(bad, "alg", "content")
