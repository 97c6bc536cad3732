"""Reading one model folder: the card, license files, formats and safetensors header facts."""

from __future__ import annotations

import csv
import io
import tarfile
import zipfile

import numpy as np
import pytest

from scanner.inventory import LicenseText
from scanner.readers.model_folder import (
    MAX_LICENSE_FILE_BYTES,
    classify_format,
    is_model_folder,
    read_card_file,
    read_file_entry,
    read_model_folder,
)
from tests.conftest import (
    CARDS,
    GPL3_OPENING,
    LICENSE_TEXTS,
    card_text,
    write_card,
    write_safetensors,
)

# --- card front matter ----------------------------------------------------------------------


def test_card_fields(tmp_path):
    path = write_card(
        tmp_path,
        {
            "license": "apache-2.0",
            "base_model": "meta-llama/Meta-Llama-3-8B",
            "base_model_relation": "finetune",
            "datasets": ["HuggingFaceH4/ultrachat_200k", "tatsu-lab/alpaca"],
            "pipeline_tag": "text-generation",
            "library_name": "transformers",
            "tags": ["llama", "finetune"],
        },
    )
    card = read_card_file(path, "README.md")
    assert card.error is None
    assert card.path == "README.md"
    assert card.license == ("apache-2.0",)
    assert card.base_models == ("meta-llama/Meta-Llama-3-8B",)
    assert card.base_model_relation == "finetune"
    assert card.datasets == ("HuggingFaceH4/ultrachat_200k", "tatsu-lab/alpaca")
    assert card.pipeline_tag == "text-generation"
    assert card.library_name == "transformers"
    assert card.tags == ("llama", "finetune")


def test_card_license_list(tmp_path):
    card = read_card_file(write_card(tmp_path, {"license": ["mit", "apache-2.0"]}), "README.md")
    assert card.license == ("mit", "apache-2.0")


def test_card_base_model_list(tmp_path):
    card = read_card_file(
        write_card(tmp_path, {"license": "mit", "base_model": ["org/a", "org/b"]}), "README.md"
    )
    assert card.base_models == ("org/a", "org/b")


def test_card_license_other_with_name_and_link(tmp_path):
    card = read_card_file(
        write_card(
            tmp_path,
            {
                "license": "other",
                "license_name": "tongyi-qianwen",
                "license_link": "https://huggingface.co/Qwen/Qwen1.5-7B-Chat/blob/main/LICENSE",
            },
        ),
        "README.md",
    )
    assert card.license == ("other",)
    assert card.license_name == "tongyi-qianwen"
    assert card.license_link == "https://huggingface.co/Qwen/Qwen1.5-7B-Chat/blob/main/LICENSE"


def test_card_license_line_number(tmp_path):
    text = "pipeline_tag: text-generation\ntags:\n- a\nlicense: mit\n"
    card = read_card_file(write_card(tmp_path, text), "README.md")
    assert card.license == ("mit",)
    assert card.license_line == 5  # line 1 is the opening ---


def test_card_without_front_matter(tmp_path):
    card = read_card_file(write_card(tmp_path, None, "# Just prose\nlicense: mit\n"), "README.md")
    assert card.error is None
    assert card.license == ()


def test_card_with_byte_order_mark(tmp_path):
    path = tmp_path / "README.md"
    path.write_bytes(b"\xef\xbb\xbf" + card_text({"license": "mit"}).encode())
    card = read_card_file(path, "README.md")
    assert card.error is None
    assert card.license == ("mit",)


def test_card_with_crlf_line_endings(tmp_path):
    path = write_card(
        tmp_path, {"license": "llama3", "base_model": "meta-llama/Meta-Llama-3-8B"}, newline="\r\n"
    )
    assert b"\r\n" in path.read_bytes()
    card = read_card_file(path, "README.md")
    assert card.error is None
    assert card.license == ("llama3",)
    assert card.base_models == ("meta-llama/Meta-Llama-3-8B",)


def _manifest():
    with (CARDS / "MANIFEST.tsv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def test_corpus_cards_are_all_present_with_crlf_endings():
    rows = _manifest()
    assert sorted(r["file"] for r in rows) == sorted(p.name for p in CARDS.glob("*.md"))
    assert len(rows) == 35
    for row in rows:
        raw = (CARDS / row["file"]).read_bytes()
        assert b"\r\n" in raw, f"{row['file']} lost its CRLF line endings"


@pytest.mark.parametrize("row", _manifest(), ids=lambda r: r["file"])
def test_corpus_card_front_matter(row):
    card = read_card_file(CARDS / row["file"], "README.md")
    assert card.error is None
    declared = row["declared_license"].strip('"')
    if declared == "(none)":
        assert card.license == ()
    elif declared.startswith("other/"):
        assert card.license == ("other",)
        assert card.license_name == declared.removeprefix("other/")
    else:
        assert card.license == (declared,)
    if row["base_model"] == "(none)":
        assert card.base_models == ()
    else:
        assert card.base_models == (row["base_model"],)


def test_corpus_card_other_fields():
    card = read_card_file(CARDS / "Qwen__Qwen-7B.md", "README.md")
    assert card.pipeline_tag == "text-generation"
    assert card.tags == ("qwen",)
    assert (
        card.license_link
        == "https://github.com/QwenLM/Qwen/blob/main/Tongyi%20Qianwen%20LICENSE%20AGREEMENT"
    )
    tune = read_card_file(CARDS / "shenzhi-wang__Llama3-8B-Chinese-Chat.md", "README.md")
    assert tune.license == ("llama3",)
    assert tune.library_name == "transformers"


# --- format classification ------------------------------------------------------------------


def _zip_bytes(tmp_path):
    archive = tmp_path / "archive.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
    return archive.read_bytes()


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("model.safetensors", b"", "safetensors"),
        ("pytorch_model.bin", "zip", "pickle"),
        ("pytorch_model.bin", b"\x80\x02}q\x00.", "pickle"),
        ("training_args.bin", b"\x00\x01\x02\x03raw", "other"),
        ("empty.bin", b"", "other"),
        ("model.pt", b"anything", "pickle"),
        ("model.pth", b"anything", "pickle"),
        ("model.ckpt", b"anything", "pickle"),
        ("model.pkl", b"anything", "pickle"),
        ("MODEL.PT", b"anything", "pickle"),
        ("model.gguf", b"GGUF\x03\x00\x00\x00", "gguf"),
        ("model.onnx", b"\x08\x07", "onnx"),
        ("config.json", b"{}", "other"),
    ],
)
def test_classify_format(tmp_path, name, content, expected):
    if content == "zip":
        content = _zip_bytes(tmp_path)
    path = tmp_path / name
    path.write_bytes(content)
    assert classify_format(path) == expected


def _tar_bytes() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo("pickle")
        info.size = 2
        archive.addfile(info, io.BytesIO(b"N."))
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"cos\nsystem\n(S'echo owned'\ntR.", "pickle"),
        (b"cos\nsystem\n(S'echo owned'\ntR", "pickle"),  # no STOP: REDUCE runs before
        (b"cos\nsystem\n(S'echo owned'\ntR\x00", "pickle"),  # refused only after the call
        (b"(S'echo owned'\nios\nsystem\n.", "pickle"),
        (b"}q\x00X\x01\x00\x00\x00wq\x01]q\x02s.", "pickle"),  # protocol 1, no globals
        (b"(S'" + b"a" * (70 * 1024) + b"'\ncos\nsystem\n.", "pickle"),  # past the window
        (_tar_bytes(), "pickle"),
        (b"\x00\x01\x02\x03raw", "other"),
        (b"lmgg\x01\x00\x00\x00" + b"\x00" * 64, "other"),  # GGML
        (b"hello world\nthis is text\n", "other"),
        (b"N", "other"),  # ends before anything is imported
        (np.random.default_rng(0).standard_normal(4096, np.float32).tobytes(), "other"),
        (np.arange(4096, dtype=np.int32).tobytes(), "other"),
    ],
    ids=[
        "protocol-0",
        "protocol-0-no-stop",
        "protocol-0-bad-tail",
        "protocol-1-inst",
        "protocol-1-data",
        "protocol-0-long-string",
        "torch-tar",
        "raw",
        "ggml",
        "text",
        "lone-opcode",
        "float32",
        "int32",
    ],
)
def test_bin_is_classified_by_its_bytes(tmp_path, content, expected):
    path = tmp_path / "pytorch_model.bin"
    path.write_bytes(content)
    assert classify_format(path) == expected


# --- model folder signals -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"model.safetensors": b""}, True),
        ({"model.gguf": b""}, True),
        ({"adapter_config.json": b"{}"}, True),
        ({"model_index.json": b"{}"}, True),
        ({"config.json": b'{"model_type": "bert"}'}, True),
        ({"config.json": b'{"indent": 2, "printWidth": 80}'}, False),
        ({"README.md": card_text({"license": "mit"}).encode()}, True),
        ({"README.md": b"# A project\n\nNo front matter here.\n"}, False),
        ({"README.md": b"---\ntitle: My blog post\n---\nhello\n"}, False),
        ({"notes.txt": b"hello"}, False),
    ],
    ids=[
        "safetensors",
        "gguf",
        "adapter",
        "diffusers",
        "config-model-type",
        "config-other",
        "card",
        "readme-prose",
        "readme-other-front-matter",
        "nothing",
    ],
)
def test_is_model_folder(tmp_path, files, expected):
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    assert is_model_folder(tmp_path, list(files)) is expected


# --- license files ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["LICENSE", "LICENSE.txt", "LICENSE.md", "license", "LICENCE"])
def test_license_file_is_recorded_and_recognised(tmp_path, kb, name):
    (tmp_path / name).write_text((LICENSE_TEXTS / "llama3.txt").read_text())
    write_card(tmp_path, {"license": "llama3"})
    facts = read_model_folder(tmp_path, kb)
    (entry,) = [f for f in facts.files if f.path == name]
    assert entry.license_detected == ("llama3",)
    assert entry.size == (tmp_path / name).stat().st_size
    assert facts.license.detected == ("llama3",)
    assert any(e.source == name and "Llama 3" in e.value for e in facts.license.evidence)


def test_use_policy_and_notice_are_recorded_without_inventing_a_license(tmp_path, kb):
    write_card(tmp_path, {"license": "llama3"})
    (tmp_path / "LICENSE").write_text((LICENSE_TEXTS / "llama3.txt").read_text())
    (tmp_path / "USE_POLICY.md").write_text((LICENSE_TEXTS / "llama3-aup.md").read_text())
    notice = "Meta Llama 3 is licensed under the Meta Llama 3 Community License, Copyright © Meta Platforms, Inc. All Rights Reserved.\n"
    (tmp_path / "NOTICE").write_text(notice, encoding="utf-8")
    facts = read_model_folder(tmp_path, kb)
    by_path = {f.path: f for f in facts.files}
    assert {"README.md", "LICENSE", "USE_POLICY.md", "NOTICE"} <= set(by_path)
    assert by_path["NOTICE"].size == len(notice.encode("utf-8"))
    assert by_path["USE_POLICY.md"].size == (tmp_path / "USE_POLICY.md").stat().st_size
    assert by_path["LICENSE"].license_detected == ("llama3",)
    assert facts.license.detected == ("llama3",)
    assert facts.license.declared == ("llama3",)


def test_mit_and_apache_license_files(tmp_path, kb):
    (tmp_path / "LICENSE-MIT").write_text((LICENSE_TEXTS / "mit.txt").read_text())
    (tmp_path / "LICENSE-APACHE").write_text((LICENSE_TEXTS / "apache-2.0.txt").read_text())
    facts = read_model_folder(tmp_path, kb)
    assert set(facts.license.detected) == {"mit", "apache-2.0"}
    assert facts.license.declared == ()


def test_license_text_outside_license_file_names_is_not_detected(tmp_path, kb):
    (tmp_path / "docs.txt").write_text((LICENSE_TEXTS / "llama3.txt").read_text())
    facts = read_model_folder(tmp_path, kb)
    assert facts.license.detected == ()


def test_recognised_license_file_texts_are_recorded_with_their_keys(tmp_path, kb):
    """Only texts of licenses the knowledge base has no copy of are kept (GPL-3.0 here): the
    bundle takes the knowledge base's copy of every other (MIT)."""
    assert kb.lacks_text(["gpl-3.0"]) and not kb.lacks_text(["mit"])
    (tmp_path / "LICENSE").write_text(GPL3_OPENING)
    (tmp_path / "text_encoder").mkdir()
    (tmp_path / "text_encoder" / "LICENSE.txt").write_text((LICENSE_TEXTS / "mit.txt").read_text())
    (tmp_path / "COPYING").write_text("All rights reserved.\n")
    (tmp_path / "notes.txt").write_text(GPL3_OPENING)
    facts = read_model_folder(tmp_path, kb)
    assert facts.license_texts == (LicenseText("LICENSE", GPL3_OPENING, ("gpl-3.0",)),)
    assert read_model_folder(tmp_path, kb, files_only=True).license_texts == ()


def test_license_file_beyond_the_read_limit_is_recognised_but_its_text_not_kept(tmp_path, kb):
    (tmp_path / "LICENSE").write_text(GPL3_OPENING + " " * MAX_LICENSE_FILE_BYTES)
    facts = read_model_folder(tmp_path, kb)
    assert facts.license.detected == ("gpl-3.0",)
    assert facts.license_texts == ()


# --- files and header facts -----------------------------------------------------------------


def test_folder_files_sizes_formats_and_header_facts(tmp_path, kb):
    write_card(tmp_path, {"license": "mit"})
    tensors = {"a": np.zeros((2, 3), dtype=np.float16), "b": np.zeros(5, dtype=np.int8)}
    write_safetensors(tmp_path / "model.safetensors", tensors, metadata={"format": "pt"})
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "optimizer.pt").write_bytes(b"\x80\x02.")
    facts = read_model_folder(tmp_path, kb)
    by_path = {f.path: f for f in facts.files}
    assert set(by_path) == {"README.md", "model.safetensors", "sub/optimizer.pt"}
    weights = by_path["model.safetensors"]
    assert weights.format == "safetensors"
    assert weights.size == (tmp_path / "model.safetensors").stat().st_size
    assert weights.safetensors.tensor_count == 2
    assert weights.safetensors.parameter_count == 11
    assert dict(weights.safetensors.dtypes) == {"F16": 1, "I8": 1}
    assert dict(weights.safetensors.metadata) == {"format": "pt"}
    assert weights.error is None
    assert by_path["sub/optimizer.pt"].format == "pickle"
    assert by_path["sub/optimizer.pt"].safetensors is None
    assert facts.problems == ()


def test_tool_state_folders_are_not_part_of_the_model(tmp_path, kb):
    write_card(tmp_path, {"license": "mit"})
    for skipped in (".git", ".cache", "__pycache__"):
        (tmp_path / skipped).mkdir()
        (tmp_path / skipped / "object.bin").write_bytes(b"\x80")
    facts = read_model_folder(tmp_path, kb)
    assert [f.path for f in facts.files] == ["README.md"]


def test_read_file_entry_of_missing_file_records_error(tmp_path, kb):
    entry = read_file_entry(tmp_path / "gone.safetensors", "gone.safetensors", kb)
    assert entry.error
    assert entry.size is None
