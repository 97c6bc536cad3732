"""Licenses and base models declared in weights metadata, read from real headers."""

from __future__ import annotations

import pytest

from scanner.inventory import Evidence, FileEntry
from scanner.readers.gguf import read_gguf
from scanner.readers.safetensors import read_header
from scanner.readers.weights_metadata import hub_repo_id, weights_declaration
from tests.conftest import write_gguf, write_safetensors


def gguf_entry(tmp_path, metadata) -> FileEntry:
    path = write_gguf(tmp_path / "model.gguf", metadata)
    return FileEntry("model.gguf", path.stat().st_size, "gguf", header=read_gguf(path))


def safetensors_entry(tmp_path, metadata) -> FileEntry:
    path = write_safetensors(tmp_path / "model.safetensors", metadata=metadata)
    return FileEntry("model.safetensors", 0, "safetensors", header=read_header(path))


def test_gguf_license_and_base_models(tmp_path):
    declaration = weights_declaration(
        gguf_entry(
            tmp_path,
            {
                "general.license": "llama3",
                "general.base_model.count": 2,
                "general.base_model.0.repo_url": "https://huggingface.co/meta-llama/Meta-Llama-3-8B",
                "general.base_model.1.repo_url": "https://github.com/acme/model",
                "general.source.hugginface.repository": "acme/Llama-3-8B-Chat",
            },
        )
    )
    assert declaration is not None
    assert declaration.licenses == ("llama3",)
    assert declaration.base_models == ("meta-llama/Meta-Llama-3-8B", "acme/Llama-3-8B-Chat")
    assert Evidence("model.gguf metadata", "general.license: llama3") in declaration.evidence
    assert (
        Evidence(
            "model.gguf metadata",
            "general.base_model.0.repo_url: https://huggingface.co/meta-llama/Meta-Llama-3-8B",
        )
        in declaration.evidence
    )


@pytest.mark.parametrize(
    ("metadata", "licenses"),
    [
        ({"general.license": "other", "general.license.name": "llama3"}, ("llama3",)),
        ({"general.license": "other", "general.license.link": "https://x/l"}, ("https://x/l",)),
        ({"general.license": "other"}, ("other",)),
        ({"general.license.name": "gemma"}, ("gemma",)),
        ({"general.license": "apache-2.0,mit"}, ("apache-2.0", "mit")),
    ],
)
def test_gguf_license_fields_resolve_like_a_card(tmp_path, metadata, licenses):
    declaration = weights_declaration(gguf_entry(tmp_path, metadata))
    assert declaration is not None and declaration.licenses == licenses


def test_safetensors_metadata(tmp_path):
    declaration = weights_declaration(
        safetensors_entry(
            tmp_path, {"format": "pt", "license": "cc-by-nc-4.0", "base_model": "acme/base"}
        )
    )
    assert declaration is not None
    assert declaration.licenses == ("cc-by-nc-4.0",)
    assert declaration.base_models == ("acme/base",)
    assert Evidence("model.safetensors metadata", "license: cc-by-nc-4.0") in declaration.evidence


def test_no_declaration(tmp_path):
    assert weights_declaration(safetensors_entry(tmp_path, {"format": "pt"})) is None
    assert weights_declaration(gguf_entry(tmp_path, {"general.name": "x"})) is None
    assert weights_declaration(FileEntry("README.md", 10, "other")) is None


@pytest.mark.parametrize(
    ("value", "repo"),
    [
        ("acme/base", "acme/base"),
        ("https://huggingface.co/acme/base", "acme/base"),
        ("https://huggingface.co/acme/base/", "acme/base"),
        ("https://huggingface.co/datasets/acme/data", None),
        ("https://github.com/acme/base", None),
        ("", None),
    ],
)
def test_hub_repo_id(value, repo):
    assert hub_repo_id(value) == repo
