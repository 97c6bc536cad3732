"""The strict GGUF header reader: facts from files gguf-py's writer makes, and every defect class
from bytes corrupted by hand."""

from __future__ import annotations

import os
import struct
from collections.abc import Sequence

import numpy as np
import pytest

from scanner.files import NotRegularFile
from scanner.readers.gguf import (
    FILE_TYPES,
    GGML_TYPES,
    MAX_DEFECTS,
    MAX_METADATA,
    MAX_TENSORS,
    read_gguf,
)
from tests.conftest import GGUF_DEFAULT_PARAMETERS, write_gguf

F32 = 0
STRING = 8
ARRAY = 9


def text(value: str | bytes) -> bytes:
    """A GGUF string: uint64 length, then the bytes."""
    raw = value.encode("utf-8") if isinstance(value, str) else value
    return struct.pack("<Q", len(raw)) + raw


def entry(key: str | bytes, value_type: int, payload: bytes) -> bytes:
    return text(key) + struct.pack("<I", value_type) + payload


def info(name: str | bytes, dims: list[int], ggml_type: int, offset: int) -> bytes:
    return (
        text(name)
        + struct.pack(f"<I{len(dims)}Q", len(dims), *dims)
        + struct.pack("<IQ", ggml_type, offset)
    )


def raw_gguf(
    entries: Sequence[bytes] = (),
    infos: Sequence[bytes] = (),
    data: bytes = b"",
    *,
    version: int = 3,
    tensor_count: int | None = None,
    metadata_count: int | None = None,
    alignment: int = 32,
) -> bytes:
    """GGUF bytes built by hand: header, metadata entries, tensor infos, padding, data."""
    head = b"GGUF" + struct.pack(
        "<IQQ",
        version,
        len(infos) if tensor_count is None else tensor_count,
        len(entries) if metadata_count is None else metadata_count,
    )
    head += b"".join(entries) + b"".join(infos)
    if infos:
        head += b"\0" * (-len(head) % alignment)
    return head + data


def two_tensors(second_offset: int = 32, data: bytes | None = None, **options) -> bytes:
    """Two f32 tensors of 8 elements (32 bytes each) at data offsets 0 and `second_offset`."""
    infos = [info("a", [8], F32, 0), info("b", [8], F32, second_offset)]
    return raw_gguf([], infos, bytes(64) if data is None else data, **options)


def read(tmp_path, content: bytes):
    path = tmp_path / "model.gguf"
    path.write_bytes(content)
    return read_gguf(path)


def kinds(header) -> list[str]:
    return [d.kind for d in header.defects]


def messages(header) -> str:
    return "\n".join(d.message for d in header.defects)


# --- files the reference writer makes -------------------------------------------------------


def test_facts_of_a_quantised_model(tmp_path):
    from gguf import GGMLQuantizationType

    metadata = {
        "general.name": "Meta Llama 3 8B Instruct",
        "general.file_type": 15,
        "general.quantized_by": "bartowski",
        "general.license": "llama3",
        "general.license.name": "Llama 3 Community License",
        "general.license.link": "https://llama.meta.com/llama3/license/",
        "general.base_model.count": 1,
        "general.base_model.0.name": "Meta Llama 3 8B",
        "general.base_model.0.organization": "Meta Llama",
        "general.base_model.0.version": "3",
        "general.base_model.0.repo_url": "https://huggingface.co/meta-llama/Meta-Llama-3-8B",
        "general.source.url": "https://llama.meta.com",
        "general.source.huggingface.repository": "meta-llama/Meta-Llama-3-8B-Instruct",
        "general.source.hugginface.repository": "meta-llama/Meta-Llama-3-8B-Instruct",
        "tokenizer.ggml.tokens": ["<s>", "</s>", "hello"],
    }
    tensors = {
        "blk.0.attn_q.weight": np.zeros((2, 34), dtype=np.uint8),  # 2 rows of one Q8_0 block
        "blk.0.ffn_up.weight": np.zeros((1, 144), dtype=np.uint8),  # one Q4_K block
        "output_norm.weight": np.ones(8, dtype=np.float32),
    }
    path = tmp_path / "model.gguf"
    from gguf import GGUFWriter

    writer = GGUFWriter(str(path), "llama")
    for key, value in metadata.items():
        if isinstance(value, list):
            writer.add_array(key, value)
        elif isinstance(value, int):
            writer.add_uint32(key, value)
        else:
            writer.add_string(key, value)
    writer.add_tensor(
        "blk.0.attn_q.weight", tensors["blk.0.attn_q.weight"], raw_dtype=GGMLQuantizationType.Q8_0
    )
    writer.add_tensor(
        "blk.0.ffn_up.weight", tensors["blk.0.ffn_up.weight"], raw_dtype=GGMLQuantizationType.Q4_K
    )
    writer.add_tensor("output_norm.weight", tensors["output_norm.weight"])
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()

    header = read_gguf(path)
    assert header.defects == ()
    assert (header.version, header.tensor_count, header.metadata_count) == (3, 3, 16)
    assert header.parameter_count == 2 * 32 + 256 + 8
    assert header.tensor_types == {"F32": 1, "Q4_K": 1, "Q8_0": 1}
    assert (header.file_type, header.quantization) == (15, "Q4_K_M")
    assert header.architecture == "llama"
    assert header.name == "Meta Llama 3 8B Instruct"
    assert header.quantized_by == "bartowski"
    assert header.license == "llama3"
    assert header.license_name == "Llama 3 Community License"
    assert header.license_link == "https://llama.meta.com/llama3/license/"
    (base,) = header.base_models
    assert base.name == "Meta Llama 3 8B"
    assert base.organization == "Meta Llama"
    assert base.version == "3"
    assert base.repo_url == "https://huggingface.co/meta-llama/Meta-Llama-3-8B"
    assert header.source == {
        "hugginface.repository": "meta-llama/Meta-Llama-3-8B-Instruct",
        "huggingface.repository": "meta-llama/Meta-Llama-3-8B-Instruct",
        "url": "https://llama.meta.com",
    }


def test_every_metadata_value_type(tmp_path):
    from gguf import GGUFValueType, GGUFWriter

    path = tmp_path / "model.gguf"
    writer = GGUFWriter(str(path), "llama")
    scalars = {
        GGUFValueType.UINT8: 255,
        GGUFValueType.INT8: -1,
        GGUFValueType.UINT16: 65535,
        GGUFValueType.INT16: -2,
        GGUFValueType.UINT32: 2**32 - 1,
        GGUFValueType.INT32: -3,
        GGUFValueType.FLOAT32: 0.5,
        GGUFValueType.BOOL: True,
        GGUFValueType.STRING: "text",
        GGUFValueType.UINT64: 2**64 - 1,
        GGUFValueType.INT64: -4,
        GGUFValueType.FLOAT64: 0.25,
    }
    for value_type, value in scalars.items():
        writer.add_key_value(f"test.scalar.{value_type.name.lower()}", value, value_type)
        writer.add_key_value(
            f"test.array.{value_type.name.lower()}", [value, value], GGUFValueType.ARRAY, value_type
        )
    writer.add_tensor("t", np.zeros(8, dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()

    header = read_gguf(path)
    assert {int(t) for t in scalars} | {GGUFValueType.ARRAY} == set(range(13))
    assert header.defects == ()
    assert header.metadata_count == 2 * len(scalars) + 1
    assert header.parameter_count == 8


def test_nested_arrays_are_read_and_flagged(tmp_path):
    """The specification allows arrays of arrays and gguf-py writes them; llama.cpp refuses."""
    header = read(tmp_path, _writer_bytes(tmp_path, {"test.nested": [[1, 2], [3]]}))
    assert kinds(header) == ["malformed"]
    assert "holds arrays, which llama.cpp refuses" in messages(header)
    assert header.parameter_count == GGUF_DEFAULT_PARAMETERS


def _writer_bytes(tmp_path, metadata, **options) -> bytes:
    return write_gguf(tmp_path / "written.gguf", metadata, **options).read_bytes()


def test_version_2_reads_like_version_3(tmp_path):
    content = bytearray(_writer_bytes(tmp_path, {"general.license": "mit"}))
    struct.pack_into("<I", content, 4, 2)
    header = read(tmp_path, bytes(content))
    assert (header.version, header.defects, header.license) == (2, (), "mit")


def test_big_endian_files_are_read(tmp_path):
    header = read(tmp_path, _writer_bytes(tmp_path, {"general.license": "mit"}, big_endian=True))
    assert header.defects == ()
    assert (header.version, header.tensor_count, header.license) == (3, 2, "mit")
    assert header.parameter_count == GGUF_DEFAULT_PARAMETERS


def test_custom_alignment_is_honoured(tmp_path):
    alignment = struct.pack("<I", 64)
    entries = [entry("general.alignment", 4, alignment)]
    infos = [info("a", [8], F32, 0), info("b", [8], F32, 64)]
    header = read(tmp_path, raw_gguf(entries, infos, bytes(96), alignment=64))
    assert (header.alignment, header.defects) == (64, ())


def test_empty_arrays_are_valid(tmp_path):
    header = read(tmp_path, raw_gguf([entry("x.y", ARRAY, struct.pack("<IQ", STRING, 0))]))
    assert header.defects == ()


def test_a_file_without_tensors_may_end_at_its_padding(tmp_path):
    header = read(tmp_path, _writer_bytes(tmp_path, {"general.name": "vocab"}, tensors={}))
    assert (header.tensor_count, header.defects) == (0, ())


def test_long_kept_strings_are_cut_and_marked(tmp_path):
    header = read(tmp_path, _writer_bytes(tmp_path, {"general.license": "x" * 10_000}))
    assert header.license is not None
    assert len(header.license) == 4097
    assert header.license.endswith("…")


def test_type_tables_match_gguf_py():
    from gguf.constants import GGML_QUANT_SIZES, LlamaFileType

    for quant_type, (block, size) in GGML_QUANT_SIZES.items():
        assert GGML_TYPES[int(quant_type)] == (quant_type.name, block, size)
    for file_type in LlamaFileType:
        if file_type.name != "GUESSED":
            assert FILE_TYPES[int(file_type)] == file_type.name.removeprefix(
                "MOSTLY_"
            ).removeprefix("ALL_")


# --- hand-corrupted bytes: every defect class ---------------------------------------------


def test_a_well_formed_hand_built_file_is_clean(tmp_path):
    header = read(tmp_path, two_tensors())
    assert (header.tensor_count, header.parameter_count, header.defects) == (2, 16, ())


@pytest.mark.parametrize(
    ("content", "kind", "wording"),
    [
        (b"", "truncated", "shorter than the GGUF magic"),
        (b"GGML" + bytes(20), "malformed", "not a GGUF file"),
        (b"GGUF\x03\x00", "truncated", "file ends"),
        (raw_gguf(version=1), "malformed", "version 1 is no longer supported"),
        (raw_gguf(version=4), "malformed", "version 4 is unknown"),
    ],
    ids=["empty", "bad-magic", "cut-in-version", "version-1", "version-4"],
)
def test_bad_start(tmp_path, content, kind, wording):
    header = read(tmp_path, content)
    assert kinds(header) == [kind]
    assert wording in messages(header)


def test_huge_counts_are_refused_before_reading(tmp_path):
    header = read(tmp_path, raw_gguf(metadata_count=2**63))
    assert kinds(header) == ["malformed"]
    assert f"aiscan reads at most {MAX_METADATA:,}" in messages(header)
    header = read(tmp_path, raw_gguf(tensor_count=2**62))
    assert kinds(header) == ["malformed"]
    assert f"aiscan reads at most {MAX_TENSORS:,}" in messages(header)


def test_counts_the_file_cannot_hold_are_truncation(tmp_path):
    header = read(tmp_path, raw_gguf(tensor_count=1000))
    assert kinds(header) == ["truncated"]


def test_string_length_past_the_end(tmp_path):
    value = struct.pack("<Q", 1000) + b"abc"
    header = read(tmp_path, raw_gguf([entry("general.name", STRING, value)]))
    assert kinds(header) == ["truncated"]
    assert "needs 1,000 bytes" in messages(header)
    assert header.name is None


def test_string_length_over_the_format_limit(tmp_path):
    value = struct.pack("<Q", 2**40)
    header = read(tmp_path, raw_gguf([entry("general.name", STRING, value)]))
    assert kinds(header) == ["malformed"]
    assert "over the format's limit" in messages(header)


def test_huge_arrays_end_at_once(tmp_path):
    """A count far beyond the file is judged from the count, never looped over (gguf-py's
    reader spends minutes and gigabytes on this)."""
    strings = struct.pack("<IQ", STRING, 2**29) + text("only one")
    header = read(tmp_path, raw_gguf([entry("tokenizer.ggml.tokens", ARRAY, strings)]))
    assert kinds(header) == ["truncated"]
    numbers = struct.pack("<IQ", 0, 2**29)
    header = read(tmp_path, raw_gguf([entry("tokenizer.ggml.scores", ARRAY, numbers)]))
    assert kinds(header) == ["truncated"]
    header = read(tmp_path, raw_gguf([entry("x.y", ARRAY, struct.pack("<IQ", 0, 2**40))]))
    assert kinds(header) == ["malformed"]


@pytest.mark.parametrize(
    "payload", [struct.pack("<I", 13), struct.pack("<I", ARRAY) + struct.pack("<IQ", 99, 1)]
)
def test_unknown_value_type(tmp_path, payload):
    content = raw_gguf([entry("x.y", struct.unpack_from("<I", payload)[0], payload[4:] + bytes(8))])
    header = read(tmp_path, content)
    assert kinds(header) == ["malformed"]
    assert "unknown" in messages(header)


def test_overlapping_tensors(tmp_path):
    header = read(tmp_path, two_tensors(second_offset=0, data=bytes(32)))
    assert kinds(header) == ["malformed"]
    assert "'b' (data bytes 0 to 32) overlaps tensor 'a'" in messages(header)


def test_misaligned_offset(tmp_path):
    header = read(tmp_path, two_tensors(second_offset=40, data=bytes(72)))
    assert set(kinds(header)) == {"malformed"}
    assert "data offset 40 is not a multiple of the alignment 32" in messages(header)


def test_a_gap_beyond_the_padding(tmp_path):
    header = read(tmp_path, two_tensors(second_offset=96, data=bytes(128)))
    assert kinds(header) == ["malformed"]
    assert "64 unaccounted bytes before tensor 'b'" in messages(header)


def test_tensor_data_out_of_header_order(tmp_path):
    infos = [info("a", [8], F32, 32), info("b", [8], F32, 0)]
    header = read(tmp_path, raw_gguf([], infos, bytes(64)))
    assert kinds(header) == ["malformed"]
    assert "not in the order of the tensor infos" in messages(header)


def test_truncated_tensor_data(tmp_path):
    header = read(tmp_path, two_tensors(data=bytes(40)))
    assert kinds(header) == ["truncated"]
    assert "24 bytes are missing" in messages(header)


def test_trailing_bytes(tmp_path):
    header = read(tmp_path, two_tensors(data=bytes(64 + 100)))
    assert kinds(header) == ["malformed"]
    assert "100 trailing bytes" in messages(header)


def test_trailing_bytes_after_a_header_without_tensors(tmp_path):
    header = read(tmp_path, raw_gguf([entry("x.y", 0, b"\x01")]) + bytes(200))
    assert kinds(header) == ["malformed"]
    assert "trailing bytes after the end of the header" in messages(header)


def test_duplicate_tensor_names(tmp_path):
    infos = [info("a", [8], F32, 0), info("a", [8], F32, 32)]
    header = read(tmp_path, raw_gguf([], infos, bytes(64)))
    assert kinds(header) == ["duplicate-tensor"]


def test_duplicate_metadata_keys(tmp_path):
    entries = [entry("general.name", STRING, text("a")), entry("general.name", STRING, text("b"))]
    header = read(tmp_path, raw_gguf(entries))
    assert kinds(header) == ["malformed"]
    assert "appears more than once" in messages(header)


def test_bad_keys_and_names(tmp_path):
    entries = [entry("", 0, b"\x01"), entry(b"\xff\xfe", 0, b"\x01")]
    infos = [info("n" * 64, [8], F32, 0), info(b"\xff", [8], F32, 32)]
    header = read(tmp_path, raw_gguf(entries, infos, bytes(64)))
    found = messages(header)
    assert "empty key" in found
    assert "metadata key 1 is not UTF-8" in found
    assert "llama.cpp allows at most 63" in found
    assert "tensor 1 name '\ufffd' is not UTF-8" in found


@pytest.mark.parametrize(
    ("tensor", "wording"),
    [
        (info("a", [8], 4, 0), "unknown or removed ggml type 4"),
        (info("a", [8], 999, 0), "unknown or removed ggml type 999"),
        (info("a", [48], 8, 0), "not a multiple of the Q8_0 block size 32"),
        (info("a", [2**63], F32, 0), "exceeds int64"),
        (info("a", [2**32, 2**32], F32, 0), "more than 2^63 elements"),
        (info("a", [1, 1, 1, 1, 1], F32, 0), "5 dimensions"),
    ],
    ids=["removed-type", "unknown-type", "block-size", "dimension", "elements", "dims"],
)
def test_invalid_tensor_infos(tmp_path, tensor, wording):
    header = read(tmp_path, raw_gguf([], [tensor], bytes(32)))
    assert "malformed" in kinds(header)
    assert wording in messages(header)


@pytest.mark.parametrize(
    ("payload", "wording"),
    [
        (struct.pack("<IQ", 10, 64), "must be a uint32"),
        (struct.pack("<II", 4, 48), "48 is not a power of two"),
    ],
)
def test_bad_alignment(tmp_path, payload, wording):
    value_type = struct.unpack_from("<I", payload)[0]
    header = read(tmp_path, raw_gguf([entry("general.alignment", value_type, payload[4:])]))
    assert kinds(header) == ["malformed"]
    assert wording in messages(header)
    assert header.alignment == 32


def test_defects_are_capped(tmp_path):
    infos = [info(f"t{i}", [8], F32, 32 * i + 1) for i in range(2 * MAX_DEFECTS)]
    header = read(tmp_path, raw_gguf([], infos, bytes(64 * MAX_DEFECTS + 32)))
    assert len(header.defects) == MAX_DEFECTS + 1
    assert header.defects[-1].message.endswith("more defects are not listed")


def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "x.gguf"
    os.mkfifo(fifo)
    with pytest.raises(NotRegularFile):
        read_gguf(fifo)
