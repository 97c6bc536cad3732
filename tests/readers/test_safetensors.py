"""The strict safetensors header reader: facts from valid files, every defect of broken ones.

Broken files are built byte by byte: `struct.pack('<Q', n) + header + data`.
"""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest
from safetensors import safe_open

from scanner.readers.safetensors import (
    MAX_DIMENSIONS,
    MAX_HEADER_SIZE,
    SafetensorsReadError,
    read_header,
)
from tests.conftest import (
    findings,
    make_model_dir,
    measured,
    raw_safetensors,
    run_cli,
    scan_json,
    tensor_entry,
    write_safetensors,
)


def _write(tmp_path, content: bytes, name="model.safetensors"):
    path = tmp_path / name
    path.write_bytes(content)
    return path


def _kinds(header):
    return [d.kind for d in header.defects]


def _only(header, kind):
    """Assert the header has defects and all of them are of `kind`; return their messages."""
    assert header.defects, "expected a defect, the header was accepted"
    assert set(_kinds(header)) == {kind}, header.defects
    return " ".join(d.message for d in header.defects)


# --- valid files ----------------------------------------------------------------------------


def test_valid_file_facts_match_the_reference_reader(tmp_path):
    tensors = {
        "embed": np.zeros((10, 8), dtype=np.float16),
        "ids": np.arange(5, dtype=np.int64),
        "scale": np.ones((), dtype=np.float32),
        "w": np.ones((3, 4, 2), dtype=np.float32),
    }
    path = write_safetensors(tmp_path / "m.safetensors", tensors, metadata={"format": "pt"})
    header = read_header(path)
    assert header.defects == ()

    with safe_open(str(path), "np") as reference:
        names = list(reference.keys())
        shapes = [reference.get_slice(n).get_shape() for n in names]
        dtypes = [reference.get_slice(n).get_dtype() for n in names]
        metadata = reference.metadata()
    assert header.tensor_count == len(names) == 4
    assert (
        header.parameter_count
        == sum(int(np.prod(s, dtype=np.int64)) for s in shapes)
        == 80 + 5 + 1 + 24
    )
    assert (
        dict(header.dtypes)
        == {d: dtypes.count(d) for d in set(dtypes)}
        == {"F16": 1, "I64": 1, "F32": 2}
    )
    assert dict(header.metadata) == metadata == {"format": "pt"}
    (size,) = struct.unpack("<Q", path.read_bytes()[:8])
    assert header.header_size == size


def test_file_without_metadata_has_empty_metadata(tmp_path):
    header = read_header(write_safetensors(tmp_path / "m.safetensors"))
    assert header.defects == ()
    assert dict(header.metadata) == {}
    assert header.tensor_count == 2
    assert header.parameter_count == 16


def test_empty_tensor_and_scalar_are_valid(tmp_path):
    header_json = {
        "empty": tensor_entry("F32", [0, 4], 0, 0),
        "scalar": tensor_entry("F32", [], 0, 4),
    }
    header = read_header(_write(tmp_path, raw_safetensors(header_json, b"\x00" * 4)))
    assert header.defects == ()
    assert header.tensor_count == 2
    assert header.parameter_count == 1


def test_sub_byte_dtype_filling_whole_bytes_is_valid(tmp_path):
    header_json = {"q": tensor_entry("F4", [4], 0, 2)}
    header = read_header(_write(tmp_path, raw_safetensors(header_json, b"\x00\x00")))
    assert header.defects == ()
    assert header.parameter_count == 4
    assert dict(header.dtypes) == {"F4": 1}


# --- truncation -----------------------------------------------------------------------------


def test_zero_byte_file_is_truncated(tmp_path):
    _only(read_header(_write(tmp_path, b"")), "truncated")


def test_file_shorter_than_length_prefix_is_truncated(tmp_path):
    _only(read_header(_write(tmp_path, b"\x10\x00\x00")), "truncated")


def test_truncated_tensor_data(tmp_path):
    full = write_safetensors(tmp_path / "full.safetensors").read_bytes()
    header = read_header(_write(tmp_path, full[:-10]))
    message = _only(header, "truncated")
    assert "10" in message  # says how many bytes are missing


def test_header_length_beyond_end_of_file(tmp_path):
    content = struct.pack("<Q", 4096) + b'{"a":' + b" " * 20
    _only(read_header(_write(tmp_path, content)), "truncated")


def test_header_length_over_format_limit(tmp_path):
    content = struct.pack("<Q", MAX_HEADER_SIZE + 1) + b"{}" + b" " * 6
    header = read_header(_write(tmp_path, content))
    assert header.defects
    assert "malformed" in _kinds(header) or "truncated" in _kinds(header)
    assert str(MAX_HEADER_SIZE) in " ".join(d.message for d in header.defects)


def test_header_claiming_a_terabyte_is_refused_without_reading_it(tmp_path):
    content = struct.pack("<Q", 2**40) + b"{}" + b" " * 6
    header = read_header(_write(tmp_path, content))
    assert header.defects
    assert set(_kinds(header)) <= {"malformed", "truncated"}
    assert header.tensor_count == 0


# --- malformed headers ----------------------------------------------------------------------


def test_garbage_header(tmp_path):
    _only(read_header(_write(tmp_path, raw_safetensors(b"this is not json at all!"))), "malformed")


def test_non_utf8_header(tmp_path):
    message = _only(read_header(_write(tmp_path, raw_safetensors(b'{"\xff\xfe": 1}'))), "malformed")
    assert "UTF-8" in message


@pytest.mark.parametrize("document", ["[]", '"text"', "42", "null"])
def test_header_that_is_not_an_object(tmp_path, document):
    _only(read_header(_write(tmp_path, raw_safetensors(document))), "malformed")


def test_duplicate_tensor_names(tmp_path):
    header_bytes = (
        '{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},'
        '"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}'
    )
    header = read_header(_write(tmp_path, raw_safetensors(header_bytes, b"\x00" * 8)))
    assert "duplicate-tensor" in _kinds(header)
    assert any("'w'" in d.message for d in header.defects if d.kind == "duplicate-tensor")


def test_unknown_dtype(tmp_path):
    header_json = {"w": tensor_entry("F128", [1], 0, 16)}
    message = _only(
        read_header(_write(tmp_path, raw_safetensors(header_json, b"\x00" * 16))), "malformed"
    )
    assert "F128" in message


def test_gap_between_tensors(tmp_path):
    header_json = {"a": tensor_entry("F32", [1], 0, 4), "b": tensor_entry("F32", [1], 8, 12)}
    message = _only(
        read_header(_write(tmp_path, raw_safetensors(header_json, b"\x00" * 12))), "malformed"
    )
    assert "gap" in message


def test_overlapping_tensors(tmp_path):
    header_json = {"a": tensor_entry("F32", [2], 0, 8), "b": tensor_entry("F32", [2], 4, 12)}
    message = _only(
        read_header(_write(tmp_path, raw_safetensors(header_json, b"\x00" * 12))), "malformed"
    )
    assert "overlap" in message


def test_data_not_starting_at_offset_zero(tmp_path):
    header_json = {"a": tensor_entry("F32", [1], 4, 8)}
    _only(read_header(_write(tmp_path, raw_safetensors(header_json, b"\x00" * 8))), "malformed")


def test_offsets_disagree_with_shape_and_dtype(tmp_path):
    header_json = {"a": tensor_entry("F32", [3], 0, 8)}  # 3 x 4 bytes needs 12
    message = _only(
        read_header(_write(tmp_path, raw_safetensors(header_json, b"\x00" * 8))), "malformed"
    )
    assert "12" in message


def test_sub_byte_dtype_not_filling_whole_bytes(tmp_path):
    header_json = {"q": tensor_entry("F4", [3], 0, 2)}  # 3 x 4 bits = 1.5 bytes
    _only(read_header(_write(tmp_path, raw_safetensors(header_json, b"\x00\x00"))), "malformed")


def test_trailing_bytes_after_data(tmp_path):
    full = write_safetensors(tmp_path / "full.safetensors").read_bytes()
    message = _only(read_header(_write(tmp_path, full + b"\x00" * 7)), "malformed")
    assert "7" in message


def test_metadata_with_non_string_values(tmp_path):
    header_json = {
        "__metadata__": {"format": "pt", "epochs": 3},
        "a": tensor_entry("F32", [1], 0, 4),
    }
    header = read_header(_write(tmp_path, raw_safetensors(header_json, b"\x00" * 4)))
    message = _only(header, "malformed")
    assert "__metadata__" in message


def test_metadata_that_is_not_a_mapping(tmp_path):
    header_json = {"__metadata__": ["format", "pt"], "a": tensor_entry("F32", [1], 0, 4)}
    _only(read_header(_write(tmp_path, raw_safetensors(header_json, b"\x00" * 4))), "malformed")


def test_metadata_strings_are_recorded(tmp_path):
    header_json = {
        "__metadata__": {"format": "pt", "source": "unit test"},
        "a": tensor_entry("F32", [1], 0, 4),
    }
    header = read_header(_write(tmp_path, raw_safetensors(header_json, b"\x00" * 4)))
    assert header.defects == ()
    assert dict(header.metadata) == {"format": "pt", "source": "unit test"}
    assert header.tensor_count == 1  # __metadata__ is not a tensor


def test_padding_with_other_than_spaces(tmp_path):
    header_json = json.dumps({"a": tensor_entry("F32", [1], 0, 4)})
    content = raw_safetensors(header_json.encode() + b"\x00\x00\x00", b"\x00" * 4, pad=None)
    _only(read_header(_write(tmp_path, content)), "malformed")


def test_padding_with_spaces_is_valid(tmp_path):
    header_json = json.dumps({"a": tensor_entry("F32", [1], 0, 4)})
    content = raw_safetensors(header_json.encode() + b"   ", b"\x00" * 4, pad=None)
    assert read_header(_write(tmp_path, content)).defects == ()


def test_unknown_field_in_tensor_entry(tmp_path):
    header_json = {"a": {**tensor_entry("F32", [1], 0, 4), "quantization": "int4"}}
    message = _only(
        read_header(_write(tmp_path, raw_safetensors(header_json, b"\x00" * 4))), "malformed"
    )
    assert "quantization" in message


@pytest.mark.parametrize(
    "entry",
    [
        {"dtype": "F32", "shape": [1]},
        {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]},
        {"dtype": "F32", "shape": "1", "data_offsets": [0, 4]},
        {"dtype": "F32", "shape": [1], "data_offsets": [4, 0]},
        {"dtype": "F32", "shape": [1], "data_offsets": [0]},
        {"dtype": "F32", "shape": [True], "data_offsets": [0, 4]},
        "not a tensor",
    ],
    ids=[
        "no-offsets",
        "negative-dim",
        "shape-string",
        "reversed-offsets",
        "one-offset",
        "bool-dim",
        "entry-string",
    ],
)
def test_invalid_tensor_entries(tmp_path, entry):
    header = read_header(_write(tmp_path, raw_safetensors({"a": entry}, b"\x00" * 4)))
    assert "malformed" in _kinds(header)


def test_every_defect_is_reported_not_just_the_first(tmp_path):
    header_bytes = (
        '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},'
        '"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},'
        '"b":{"dtype":"NOPE","shape":[1],"data_offsets":[4,8]}}'
    )
    header = read_header(_write(tmp_path, raw_safetensors(header_bytes, b"\x00" * 4)))
    assert {"duplicate-tensor", "malformed"} <= set(_kinds(header))


def test_unreadable_path_raises_read_error(tmp_path):
    with pytest.raises(SafetensorsReadError):
        read_header(tmp_path / "does-not-exist.safetensors")


# --- defects become integrity findings in a scan ----------------------------------------------


@pytest.mark.parametrize(
    ("content", "rule"),
    [
        (
            raw_safetensors({"a": tensor_entry("F32", [4], 0, 16)}, b"\x00" * 8),
            "integrity.truncated",
        ),
        (raw_safetensors(b"not json"), "integrity.malformed"),
        (
            raw_safetensors(
                '{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},'
                '"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}',
                b"\x00" * 4,
            ),
            "integrity.duplicate-tensor",
        ),
    ],
    ids=["truncated", "malformed", "duplicate-tensor"],
)
def test_defect_is_reported_as_integrity_error(tmp_path, content, rule):
    folder = make_model_dir(tmp_path, weights=None, files={"model.safetensors": content})
    result, report = scan_json(folder)
    hits = findings(report, rule)
    assert len(hits) >= 1
    assert hits[0]["severity"] == "error"
    assert hits[0]["evidence"]["file"] == "model.safetensors"
    assert result.exit_code == 1


# --- hostile headers: bounded work, a defect, never a traceback ------------------------------


def test_shape_with_very_many_dimensions_is_refused_quickly(tmp_path):
    dims = ",".join(["2"] * 1_000_000)  # a 2 MB header
    header = f'{{"t":{{"dtype":"F32","shape":[{dims}],"data_offsets":[0,4]}}}}'
    path = _write(tmp_path, raw_safetensors(header, b"\x00" * 4))
    messages = measured(
        f"[d.message for d in read_header({str(path)!r}).defects]",
        imports="from scanner.readers.safetensors import read_header",
        seconds=2,
        megabytes=64,
    )
    assert f"tensor 't' has 1,000,000 dimensions; at most {MAX_DIMENSIONS} are read" in messages


@pytest.mark.parametrize(
    ("entry", "words"),
    [
        ({"dtype": ["F32"], "shape": [1], "data_offsets": [0, 4]}, "unknown dtype ['F32']"),
        ({"dtype": {"F32": 1}, "shape": [1], "data_offsets": [0, 4]}, "unknown dtype {'F32': 1}"),
        ({"dtype": 32, "shape": [1], "data_offsets": [0, 4]}, "unknown dtype 32"),
        ({"dtype": "F32", "shape": [2**64], "data_offsets": [0, 4]}, "invalid shape"),
        ({"dtype": "F32", "shape": [2**32, 2**32], "data_offsets": [0, 4]}, "more than"),
        ({"dtype": "F32", "shape": [1], "data_offsets": [0, 2**64]}, "invalid data_offsets"),
        ({"dtype": "F32", "shape": [[1]], "data_offsets": [0, 4]}, "invalid shape"),
    ],
    ids=[
        "dtype-list",
        "dtype-dict",
        "dtype-int",
        "dim-over-64-bits",
        "elements-over-64-bits",
        "offset-over-64-bits",
        "nested-shape",
    ],
)
def test_wrong_typed_or_oversized_entries_are_malformed(tmp_path, entry, words):
    header = read_header(_write(tmp_path, raw_safetensors({"t": entry}, b"\x00" * 4)))
    assert header.tensor_count == 0
    assert header.parameter_count == 0
    assert words in _only(header, "malformed")


def test_integer_too_long_for_64_bits_is_malformed_json(tmp_path):
    header = '{"t":{"dtype":"F32","shape":[' + "9" * 5_000 + '],"data_offsets":[0,4]}}'
    message = _only(
        read_header(_write(tmp_path, raw_safetensors(header, b"\x00" * 4))), "malformed"
    )
    assert message == "header is not valid JSON: an integer has 5,000 digits"


def test_deeply_nested_header_is_malformed_json(tmp_path):
    header = '{"t":' + "[" * 100_000 + "]" * 100_000 + "}"
    message = _only(read_header(_write(tmp_path, raw_safetensors(header))), "malformed")
    assert message == "header is not valid JSON: nested too deeply"


def test_hostile_headers_are_malformed_findings_in_a_scan(tmp_path):
    content = raw_safetensors(
        {"t": {"dtype": ["F32"], "shape": [1], "data_offsets": [0, 4]}}, b"\x00" * 4
    )
    folder = make_model_dir(tmp_path, weights=None, files={"model.safetensors": content})
    result, report = scan_json(folder)
    assert findings(report, "integrity.malformed")
    assert result.exit_code == 1


def test_lone_surrogates_in_metadata_and_names_reach_every_output(tmp_path):
    header = (
        '{"__metadata__":{"format":"pt","note\\ud800":"x\\udc80"},'
        '"w\\ud800":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}'
    )
    path = _write(tmp_path, raw_safetensors(header, b"\x00" * 4))
    parsed = read_header(path)
    assert parsed.defects == ()
    assert parsed.metadata["note\ud800"] == "x\udc80"
    folder = make_model_dir(tmp_path, weights=None, files={"model.safetensors": path.read_bytes()})
    for output in ("json", "table", "sarif", "html", "cyclonedx-xml", "spdx-tv", "spdx3-jsonld"):
        result = run_cli("scan", folder, "--format", output)
        assert result.exit_code in (0, 1), (output, result.stderr)
