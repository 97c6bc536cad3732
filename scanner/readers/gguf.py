"""Strict GGUF header reader: structure and `general.*` facts without reading tensor data.

Hand-written rather than gguf-py's `GGUFReader` (checked against PyPI `gguf` 0.19.0) because
that reader is built for trusted files. It maps the whole file with `numpy.memmap` (a file
truncated under the map is a SIGBUS) and slices the map without bounds checks, so on hostile
input it accepts a string whose length runs past the end of the file (returning the bytes that
are there), tensors whose data overlap, offsets not aligned to `general.alignment` and trailing
bytes after the last tensor; it loops over an array's declared element count even when the file
ends first, so a 50-byte file declaring a 2,000,000-element array took 31 s and 1.9 GB of memory
(a larger count exhausts memory); a truncated tensor is a numpy reshape error; and it stops at
the first problem it does notice.

This reader seeks through the header with bounded reads of an open regular file
(`scanner.files.open_regular`, which refuses FIFOs and devices), keeps only the `general.*`
values it reports, checks everything llama.cpp's loader (`ggml/src/gguf.cpp`) refuses, using
its limits, and reports every defect it finds rather than the first.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import re
import struct
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from scanner.files import open_regular
from scanner.inventory import GgufBaseModel, GgufHeader, HeaderDefect

MAGIC = b"GGUF"
VERSIONS = (2, 3)
"""What llama.cpp and gguf-py read: version 1 had 32-bit lengths and is no longer supported."""
DEFAULT_ALIGNMENT = 32

MAX_STRING_BYTES = 1024**3
"""llama.cpp's GGUF_MAX_STRING_LENGTH."""
MAX_ARRAY_ELEMENTS = 1024**3
"""llama.cpp's GGUF_MAX_ARRAY_ELEMENTS."""
MAX_KEY_BYTES = 65535
"""The specification's limit on a metadata key."""
MAX_TENSOR_NAME_BYTES = 63
"""ggml's GGML_MAX_NAME (64) less the terminating NUL: llama.cpp refuses longer names."""
MAX_DIMS = 4
"""ggml's GGML_MAX_DIMS."""
MAX_TENSORS = 1 << 18
"""This reader's bound on tensor infos kept in memory; real models have a few thousand."""
MAX_METADATA = 1 << 16
"""This reader's bound on metadata entries; real files have a few dozen."""
MAX_KEPT_BYTES = 4096
"""How much of a reported `general.*` string is kept; the rest is cut and marked with `…`."""
MAX_BASE_MODELS = 64
MAX_ARRAY_DEPTH = 4
MAX_DEFECTS = 100
"""Defects listed per file; a hostile file could otherwise give one per tensor."""
_BLOCK = 1024 * 1024

GGML_TYPES: dict[int, tuple[str, int, int]] = {
    0: ("F32", 1, 4),
    1: ("F16", 1, 2),
    2: ("Q4_0", 32, 18),
    3: ("Q4_1", 32, 20),
    6: ("Q5_0", 32, 22),
    7: ("Q5_1", 32, 24),
    8: ("Q8_0", 32, 34),
    9: ("Q8_1", 32, 40),
    10: ("Q2_K", 256, 84),
    11: ("Q3_K", 256, 110),
    12: ("Q4_K", 256, 144),
    13: ("Q5_K", 256, 176),
    14: ("Q6_K", 256, 210),
    15: ("Q8_K", 256, 292),
    16: ("IQ2_XXS", 256, 66),
    17: ("IQ2_XS", 256, 74),
    18: ("IQ3_XXS", 256, 98),
    19: ("IQ1_S", 256, 50),
    20: ("IQ4_NL", 32, 18),
    21: ("IQ3_S", 256, 110),
    22: ("IQ2_S", 256, 82),
    23: ("IQ4_XS", 256, 136),
    24: ("I8", 1, 1),
    25: ("I16", 1, 2),
    26: ("I32", 1, 4),
    27: ("I64", 1, 8),
    28: ("F64", 1, 8),
    29: ("IQ1_M", 256, 56),
    30: ("BF16", 1, 2),
    34: ("TQ1_0", 256, 54),
    35: ("TQ2_0", 256, 66),
    39: ("MXFP4", 32, 17),
    40: ("NVFP4", 64, 36),
    41: ("Q1_0", 128, 18),
    42: ("Q2_0", 64, 18),
}
"""ggml tensor types (`ggml.h`): id → (name, elements per block, bytes per block). Ids 4, 5,
31–33 and 36–38 are types whose support was removed; llama.cpp refuses them."""

FILE_TYPES: dict[int, str] = {
    0: "F32",
    1: "F16",
    2: "Q4_0",
    3: "Q4_1",
    4: "Q4_1_SOME_F16",
    7: "Q8_0",
    8: "Q5_0",
    9: "Q5_1",
    10: "Q2_K",
    11: "Q3_K_S",
    12: "Q3_K_M",
    13: "Q3_K_L",
    14: "Q4_K_S",
    15: "Q4_K_M",
    16: "Q5_K_S",
    17: "Q5_K_M",
    18: "Q6_K",
    19: "IQ2_XXS",
    20: "IQ2_XS",
    21: "Q2_K_S",
    22: "IQ3_XS",
    23: "IQ3_XXS",
    24: "IQ1_S",
    25: "IQ4_NL",
    26: "IQ3_S",
    27: "IQ3_M",
    28: "IQ2_S",
    29: "IQ2_M",
    30: "IQ4_XS",
    31: "IQ1_M",
    32: "BF16",
    36: "TQ1_0",
    37: "TQ2_0",
    38: "MXFP4_MOE",
    39: "NVFP4",
    40: "Q1_0",
}
"""`general.file_type` values (llama.cpp's `llama_ftype`, the specification) and their names."""

_STRING, _ARRAY = 8, 9
_SCALARS: dict[int, tuple[str, str]] = {
    0: ("B", "u8"),
    1: ("b", "i8"),
    2: ("H", "u16"),
    3: ("h", "i16"),
    4: ("I", "u32"),
    5: ("i", "i32"),
    6: ("f", "f32"),
    7: ("?", "bool"),
    10: ("Q", "u64"),
    11: ("q", "i64"),
    12: ("d", "f64"),
}
"""Fixed-size metadata value types: id → (struct code, name). 8 is a string, 9 an array."""
_INTEGERS = frozenset({0, 1, 2, 3, 4, 5, 10, 11})
_U32 = 4

_STRING_KEYS = {
    "general.architecture": "architecture",
    "general.name": "name",
    "general.license": "license",
    "general.license.name": "license_name",
    "general.license.link": "license_link",
    "general.quantized_by": "quantized_by",
}
_SOURCE_KEYS = frozenset(
    {"url", "doi", "uuid", "repo_url", "huggingface.repository", "hugginface.repository"}
)
_BASE_MODEL_KEY = re.compile(
    r"^general\.base_model\.(\d{1,9})\.(name|organization|version|repo_url)$"
)


class _Stop(Exception):
    """The header cannot be read further; `defect` says why."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.defect = HeaderDefect(kind, message)  # type: ignore[arg-type]


class _Cursor:
    """Sequential reads of an open file through a bounded buffer, never past its size."""

    def __init__(self, handle: IO[bytes], size: int, order: str = "<") -> None:
        self.handle = handle
        self.size = size
        self.position = 0
        self._buffer = b""
        self._start = 0
        self.set_order(order)

    def set_order(self, order: str) -> None:
        self.order = order
        self.u32 = struct.Struct(order + "I")
        self.u64 = struct.Struct(order + "Q")
        self.scalars = {t: struct.Struct(order + code) for t, (code, _) in _SCALARS.items()}

    def left(self) -> int:
        return self.size - self.position

    def _ends_first(self, count: int, what: str) -> _Stop:
        return _Stop(
            "truncated",
            f"{what} at byte {self.position} needs {count:,} bytes but the {self.size:,}-byte "
            f"file ends {self.left():,} bytes later",
        )

    def take(self, count: int, what: str) -> bytes:
        if count > self.left():
            raise self._ends_first(count, what)
        offset = self.position - self._start
        if offset < 0 or offset + count > len(self._buffer):
            self.handle.seek(self.position)
            wanted = min(max(count, _BLOCK), self.left())
            chunks = []
            got = 0
            while got < wanted:
                chunk = self.handle.read(wanted - got)
                if not chunk:
                    raise _Stop("truncated", "the file shrank while its header was being read")
                chunks.append(chunk)
                got += len(chunk)
            self._buffer = b"".join(chunks)
            self._start = self.position
            offset = 0
        self.position += count
        return self._buffer[offset : offset + count]

    def skip(self, count: int, what: str) -> None:
        if count > self.left():
            raise self._ends_first(count, what)
        self.position += count

    def read_u32(self, what: str) -> int:
        return int(self.u32.unpack(self.take(4, what))[0])

    def read_u64(self, what: str) -> int:
        return int(self.u64.unpack(self.take(8, what))[0])

    def string_length(self, what: str) -> int:
        length = self.read_u64(f"{what} length")
        if length > MAX_STRING_BYTES:
            raise _Stop(
                "malformed",
                f"{what} at byte {self.position - 8} claims {length:,} bytes, over the format's "
                f"limit of {MAX_STRING_BYTES:,}",
            )
        if length > self.left():
            raise self._ends_first(length, what)
        return length

    def string(self, what: str, keep: int) -> tuple[bytes, int]:
        """The first `keep` bytes of a string and its whole length; the rest is skipped."""
        length = self.string_length(what)
        kept = self.take(min(length, keep), what)
        self.skip(length - len(kept), what)
        return kept, length


@dataclass
class _Facts:
    """What the header said so far, gathered while parsing."""

    version: int = 0
    tensor_count: int = 0
    metadata_count: int = 0
    alignment: int = DEFAULT_ALIGNMENT
    strings: dict[str, str] = field(default_factory=dict)
    file_type: int | None = None
    source: dict[str, str] = field(default_factory=dict)
    base_models: dict[int, dict[str, str]] = field(default_factory=dict)
    parameters: int = 0
    tensor_types: Counter[str] = field(default_factory=Counter)
    defects: list[HeaderDefect] = field(default_factory=list)
    unlisted: int = 0

    def defect(self, kind: str, message: str) -> None:
        if len(self.defects) < MAX_DEFECTS:
            self.defects.append(HeaderDefect(kind, message))  # type: ignore[arg-type]
        else:
            self.unlisted += 1

    def header(self) -> GgufHeader:
        defects = list(self.defects)
        if self.unlisted:
            defects.append(
                HeaderDefect("malformed", f"{self.unlisted:,} more defects are not listed")
            )
        file_type = self.file_type
        return GgufHeader(
            version=self.version,
            tensor_count=self.tensor_count,
            metadata_count=self.metadata_count,
            parameter_count=self.parameters,
            alignment=self.alignment,
            architecture=self.strings.get("architecture"),
            name=self.strings.get("name"),
            file_type=file_type,
            quantization=FILE_TYPES.get(file_type) if file_type is not None else None,
            tensor_types=dict(sorted(self.tensor_types.items())),
            license=self.strings.get("license"),
            license_name=self.strings.get("license_name"),
            license_link=self.strings.get("license_link"),
            base_models=tuple(
                GgufBaseModel(**fields) for _, fields in sorted(self.base_models.items())
            ),
            source=dict(sorted(self.source.items())),
            quantized_by=self.strings.get("quantized_by"),
            defects=tuple(defects),
        )


def read_gguf(path: Path | str) -> GgufHeader:
    """Read and validate the header of one GGUF file.

    Raises `OSError` only when the file cannot be opened or read (a FIFO or device is refused
    unopened); every structural problem is returned as a `HeaderDefect`.
    """
    with open_regular(path) as handle:
        return parse_gguf(handle, os.fstat(handle.fileno()).st_size)


def parse_gguf(handle: IO[bytes], size: int) -> GgufHeader:
    """The header facts of an open GGUF file of `size` bytes (read from its start)."""
    facts = _Facts()
    cursor = _Cursor(handle, size)
    try:
        _parse(cursor, facts)
    except _Stop as stop:
        facts.defect(stop.defect.kind, stop.defect.message)
    return facts.header()


def _parse(cursor: _Cursor, facts: _Facts) -> None:
    if cursor.size < 4:
        raise _Stop("truncated", f"file is {cursor.size} bytes, shorter than the GGUF magic")
    magic = cursor.take(4, "magic")
    if magic != MAGIC:
        raise _Stop("malformed", f"not a GGUF file: it starts with {magic!r}, not {MAGIC!r}")
    raw_version = cursor.take(4, "version")
    (version,) = struct.unpack("<I", raw_version)
    if version & 0xFFFF == 0 and struct.unpack(">I", raw_version)[0] in VERSIONS:
        cursor.set_order(">")  # the specification allows big-endian files; gguf-py reads them
        (version,) = struct.unpack(">I", raw_version)
    facts.version = version
    if version not in VERSIONS:
        reason = "no longer supported" if version == 1 else "unknown"
        raise _Stop(
            "malformed", f"GGUF version {version} is {reason}; llama.cpp reads versions 2 and 3"
        )
    facts.tensor_count = cursor.read_u64("tensor count")
    facts.metadata_count = cursor.read_u64("metadata count")
    if facts.metadata_count > MAX_METADATA:
        raise _Stop(
            "malformed",
            f"header declares {facts.metadata_count:,} metadata entries; aiscan reads at most "
            f"{MAX_METADATA:,} (real files have a few dozen)",
        )
    seen: set[bytes] = set()
    for index in range(facts.metadata_count):
        _metadata_entry(cursor, facts, index, seen)
    if facts.tensor_count > MAX_TENSORS:
        raise _Stop(
            "malformed",
            f"header declares {facts.tensor_count:,} tensors; aiscan reads at most "
            f"{MAX_TENSORS:,} (real models have a few thousand)",
        )
    spans = _tensor_infos(cursor, facts)
    _layout(cursor, facts, spans)


def _text(raw: bytes) -> str | None:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _metadata_entry(cursor: _Cursor, facts: _Facts, index: int, seen: set[bytes]) -> None:
    raw_key, key_length = cursor.string(f"metadata key {index}", MAX_KEY_BYTES)
    key = _text(raw_key)
    if key_length == 0:
        facts.defect("malformed", f"metadata entry {index} has an empty key")
    elif key_length > MAX_KEY_BYTES:
        facts.defect(
            "malformed",
            f"metadata key {index} is {key_length:,} bytes; the specification allows "
            f"{MAX_KEY_BYTES:,}",
        )
    elif key is None:
        facts.defect("malformed", f"metadata key {index} is not UTF-8")
    key = key or raw_key.decode("utf-8", "replace")
    # Digests, not keys, are remembered: 65,536 keys of 64 KiB each would hold 4 GiB.
    digest = hashlib.blake2b(raw_key, digest_size=16).digest()
    if digest in seen:
        facts.defect(
            "malformed",
            f"metadata key {key!r} appears more than once; llama.cpp and gguf-py refuse the file",
        )
    seen.add(digest)
    value_type = cursor.read_u32(f"type of {key!r}")
    kept = key.startswith("general.")
    value = _value(cursor, facts, value_type, key, keep=kept, depth=0)
    if kept:
        _keep(facts, key, value_type, value)


def _value(
    cursor: _Cursor, facts: _Facts, value_type: int, key: str, *, keep: bool, depth: int
) -> int | float | bool | str | None:
    """Read one value: a scalar, a string (kept only when `keep`), or an array (skipped)."""
    what = f"value of {key!r}"
    if value_type in _SCALARS:
        fmt = cursor.scalars[value_type]
        return fmt.unpack(cursor.take(fmt.size, what))[0]
    if value_type == _STRING:
        if not keep:
            cursor.skip(cursor.string_length(what), what)
            return None
        raw, length = cursor.string(what, MAX_KEPT_BYTES)
        text = raw.decode("utf-8", "replace")
        return text + "…" if length > len(raw) else text
    if value_type == _ARRAY:
        _skip_array(cursor, facts, key, depth)
        return None
    raise _Stop(
        "malformed",
        f"metadata {key!r} has unknown value type {value_type} (the format has types 0 to 12); "
        "the rest of the header cannot be read",
    )


def _skip_array(cursor: _Cursor, facts: _Facts, key: str, depth: int) -> None:
    what = f"array {key!r}"
    element_type = cursor.read_u32(f"element type of {what}")
    count = cursor.read_u64(f"length of {what}")
    if count > MAX_ARRAY_ELEMENTS:
        raise _Stop(
            "malformed",
            f"{what} claims {count:,} elements, over the format's limit of {MAX_ARRAY_ELEMENTS:,}",
        )
    if element_type in _SCALARS:
        width = struct.calcsize(_SCALARS[element_type][0])
        cursor.skip(count * width, f"{what} of {count:,} {_SCALARS[element_type][1]}")
    elif element_type == _STRING:
        if count * 8 > cursor.left():
            raise cursor._ends_first(count * 8, f"{what} of {count:,} strings")
        for _ in range(count):
            cursor.skip(cursor.string_length(f"string in {what}"), f"string in {what}")
    elif element_type == _ARRAY:
        if depth == 0:
            facts.defect("malformed", f"{what} holds arrays, which llama.cpp refuses to load")
        if depth + 1 >= MAX_ARRAY_DEPTH:
            raise _Stop("malformed", f"{what} nests arrays deeper than {MAX_ARRAY_DEPTH} levels")
        if count * 12 > cursor.left():
            raise cursor._ends_first(count * 12, f"{what} of {count:,} arrays")
        for _ in range(count):
            _skip_array(cursor, facts, key, depth + 1)
    else:
        raise _Stop(
            "malformed",
            f"{what} has unknown element type {element_type} (the format has types 0 to 12); "
            "the rest of the header cannot be read",
        )


def _keep(facts: _Facts, key: str, value_type: int, value: object) -> None:
    """Record a `general.*` value aiscan reports, when it has the type the format gives it."""
    if key == "general.alignment":
        if value_type != _U32:
            facts.defect("malformed", "general.alignment must be a uint32; the default 32 is used")
        elif not isinstance(value, int) or value == 0 or value & (value - 1):
            facts.defect(
                "malformed", f"general.alignment {value} is not a power of two; 32 is used"
            )
        else:
            facts.alignment = value
        return
    if key == "general.file_type":
        if value_type in _INTEGERS and isinstance(value, int):
            facts.file_type = value
        return
    if value_type != _STRING or not isinstance(value, str):
        return
    if key in _STRING_KEYS:
        facts.strings[_STRING_KEYS[key]] = value
    elif key.startswith("general.source.") and key[len("general.source.") :] in _SOURCE_KEYS:
        facts.source[key[len("general.source.") :]] = value
    else:
        match = _BASE_MODEL_KEY.match(key)
        if match and int(match.group(1)) < MAX_BASE_MODELS:
            facts.base_models.setdefault(int(match.group(1)), {})[match.group(2)] = value


def _tensor_infos(cursor: _Cursor, facts: _Facts) -> list[tuple[int, int, int, str]]:
    """Read every tensor info; return (offset, bytes, index, name) of those with a known size."""
    names: set[str] = set()
    spans: list[tuple[int, int, int, str]] = []
    alignment = facts.alignment
    for index in range(facts.tensor_count):
        raw, length = cursor.string(f"name of tensor {index}", 256)
        name = _text(raw) if length <= len(raw) else raw.decode("utf-8", "ignore")
        if name is None:
            name = raw.decode("utf-8", "replace")
            facts.defect("malformed", f"tensor {index} name {name!r} is not UTF-8")
        if length > MAX_TENSOR_NAME_BYTES:
            facts.defect(
                "malformed",
                f"tensor {index} name {name[:64]!r}… is {length:,} bytes; llama.cpp allows "
                f"at most {MAX_TENSOR_NAME_BYTES}",
            )
        if name in names:
            facts.defect(
                "duplicate-tensor",
                f"tensor name {name!r} appears more than once; llama.cpp and gguf-py refuse the file",
            )
        names.add(name)
        n_dims = cursor.read_u32(f"dimension count of tensor {name!r}")
        if n_dims > MAX_DIMS:
            raise _Stop(
                "malformed",
                f"tensor {name!r} has {n_dims:,} dimensions; ggml allows at most {MAX_DIMS}, so "
                "the remaining tensor infos cannot be trusted",
            )
        dims = struct.unpack(
            f"{cursor.order}{n_dims}Q", cursor.take(8 * n_dims, f"shape of tensor {name!r}")
        )
        ggml_type = cursor.read_u32(f"type of tensor {name!r}")
        offset = cursor.read_u64(f"data offset of tensor {name!r}")
        nbytes = _tensor_size(facts, name, dims, ggml_type)
        if offset % alignment:
            facts.defect(
                "malformed",
                f"tensor {name!r}: data offset {offset:,} is not a multiple of the alignment "
                f"{alignment}",
            )
        if nbytes is not None:
            spans.append((offset, nbytes, index, name))
    return spans


def _tensor_size(facts: _Facts, name: str, dims: tuple[int, ...], ggml_type: int) -> int | None:
    """The tensor's data size in bytes, or None (with a defect) when shape or type is invalid."""
    if any(dim >= 2**63 for dim in dims):
        facts.defect("malformed", f"tensor {name!r}: a dimension of {dims} exceeds int64")
        return None
    elements = 1
    for dim in dims:
        elements *= dim
    if elements >= 2**63:
        facts.defect(
            "malformed", f"tensor {name!r}: shape {list(dims)} has more than 2^63 elements"
        )
        return None
    facts.parameters += elements
    known = GGML_TYPES.get(ggml_type)
    if known is None:
        facts.defect("malformed", f"tensor {name!r} has unknown or removed ggml type {ggml_type}")
        return None
    type_name, block, block_bytes = known
    facts.tensor_types[type_name] += 1
    row = dims[0] if dims else 1
    if row % block:
        facts.defect(
            "malformed",
            f"tensor {name!r}: rows of {row:,} elements are not a multiple of the "
            f"{type_name} block size {block}",
        )
        return None
    return elements // block * block_bytes


def _align(position: int, alignment: int) -> int:
    return position + (-position % alignment)


def _layout(cursor: _Cursor, facts: _Facts, spans: list[tuple[int, int, int, str]]) -> None:
    """Check that tensor data lies in the file in header order, each tensor after the previous
    one's padding: no overlap, no hidden gap, nothing missing, nothing after the last."""
    alignment = facts.alignment
    data_start = cursor.position
    if facts.tensor_count:
        data_start = _align(data_start, alignment)
        if data_start > cursor.size:
            facts.defect(
                "truncated",
                f"the tensor data would start at byte {data_start:,}, past the end of the "
                f"{cursor.size:,}-byte file",
            )
            return
    end = 0
    previous = None
    for offset, nbytes, _, name in sorted(spans, key=lambda span: (span[0], span[2])):
        if offset < end:
            facts.defect(
                "malformed",
                f"tensor {name!r} (data bytes {offset:,} to {offset + nbytes:,}) overlaps "
                f"tensor {previous!r}",
            )
        elif offset > _align(end, alignment):
            facts.defect(
                "malformed",
                f"{offset - end:,} unaccounted bytes before tensor {name!r}, more than the "
                "alignment padding",
            )
        if offset + nbytes >= end:
            end, previous = offset + nbytes, name
    if any(a[0] > b[0] for a, b in itertools.pairwise(spans)):
        facts.defect(
            "malformed",
            "tensor data is not in the order of the tensor infos; llama.cpp refuses the file",
        )
    held = cursor.size - data_start
    if end > held:
        facts.defect(
            "truncated",
            f"tensors need {end:,} data bytes from byte {data_start:,} but the file holds "
            f"{held:,}: {end - held:,} bytes are missing",
        )
    elif cursor.size > _align(data_start + end, alignment):
        facts.defect(
            "malformed",
            f"{held - end:,} trailing bytes after the end of the "
            + ("last tensor's data" if facts.tensor_count else "header"),
        )
