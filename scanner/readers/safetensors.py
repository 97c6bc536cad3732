"""Strict safetensors header reader: structure facts without reading or mapping tensor data.

Hand-written rather than `safetensors.safe_open` because the reference loader is lenient where a
supply-chain check must not be: it keeps the last of duplicate tensor names, memory-maps the file
(SIGBUS on a file truncated under it) and stops at the first problem. This reader uses plain
`read()` on the first 8 + N bytes and reports every defect it finds.
"""

from __future__ import annotations

import errno
import io
import json
import os
import reprlib
import stat
import struct
from collections import Counter
from typing import IO, Any

from scanner.inventory import HeaderDefect, SafetensorsHeader

MAX_HEADER_SIZE = 100_000_000
"""The format's limit on the JSON header (the reference implementation refuses larger)."""
MAX_DIMENSIONS = 64
"""Dimensions a tensor shape may have (numpy's limit; real tensors have at most a handful).
Longer shapes are refused before their product is taken: a header of a million `2`s would
otherwise cost quadratic big-integer arithmetic and a number too long to print."""
MAX_INTEGER = 2**64 - 1
"""Offsets, dimensions and element counts are 64-bit in the format (the reference loader
refuses a shape whose product overflows)."""
_MAX_INTEGER_DIGITS = len(str(MAX_INTEGER))

DTYPE_BITS: dict[str, int] = {
    "BOOL": 8,
    "F4": 4,
    "F6_E2M3": 6,
    "F6_E3M2": 6,
    "U8": 8,
    "I8": 8,
    "F8_E5M2": 8,
    "F8_E4M3": 8,
    "F8_E8M0": 8,
    "F8_E4M3FNUZ": 8,
    "F8_E5M2FNUZ": 8,
    "I16": 16,
    "U16": 16,
    "F16": 16,
    "BF16": 16,
    "I32": 32,
    "U32": 32,
    "F32": 32,
    "C64": 64,
    "F64": 64,
    "I64": 64,
    "U64": 64,
}
"""Every dtype of the safetensors format (0.8) and its width in bits."""

_TENSOR_FIELDS = frozenset({"dtype", "shape", "data_offsets"})


class SafetensorsReadError(OSError):
    """The file could not be read at all (vanished, permission denied)."""


class _DuplicateKeys(dict):
    """A JSON object that remembers keys seen more than once (json keeps only the last)."""

    duplicates: list[str]


def _object_pairs(pairs: list[tuple[str, Any]]) -> _DuplicateKeys:
    result = _DuplicateKeys(pairs)
    counts = Counter(key for key, _ in pairs)
    result.duplicates = sorted(key for key, count in counts.items() if count > 1)
    return result


def _is_natural(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_INTEGER


class _IntegerTooLong(ValueError):
    """A JSON integer with more digits than any 64-bit value."""


def _parse_int(digits: str) -> int:
    """JSON integers, refusing ones longer than 64 bits allow before converting them: converting
    is quadratic in the digits, and past 4,300 Python refuses anyway."""
    if len(digits.lstrip("-")) > _MAX_INTEGER_DIGITS:
        raise _IntegerTooLong(f"an integer has {len(digits.lstrip('-')):,} digits")
    return int(digits)


_SHOWN = reprlib.Repr()
_SHOWN.maxstring = _SHOWN.maxother = 60
_SHOWN.maxlist = _SHOWN.maxdict = 8
_SHOWN.maxlevel = 2


def _shown(value: Any) -> str:
    """A value from the header for a message: short however large the value is."""
    return _SHOWN.repr(value)


def read_header(path: str | os.PathLike[str]) -> SafetensorsHeader:
    """Read and validate the header of one safetensors file.

    Raises `SafetensorsReadError` only when the file cannot be opened or read; every structural
    problem is returned as a `HeaderDefect` so a caller can report all of them.
    """
    try:
        with open_regular(path) as handle:
            return parse_header(handle, os.fstat(handle.fileno()).st_size)
    except OSError as exc:
        raise SafetensorsReadError(exc.errno, exc.strerror, str(path)) from exc


def parse_header(handle: IO[bytes], file_size: int) -> SafetensorsHeader:
    """The header of an open safetensors file of `file_size` bytes, read from its start: the
    8-byte length, then exactly that many bytes (two range reads on an object store, never the
    tensors). `OSError` only when reading fails."""
    prefix = handle.read(8)
    if len(prefix) < 8:
        return _defective(
            0,
            "truncated",
            f"file is {file_size} bytes, shorter than the 8-byte header length",
        )
    (header_size,) = struct.unpack("<Q", prefix)
    if header_size > MAX_HEADER_SIZE:
        return _defective(
            header_size,
            "malformed",
            f"header length {header_size} exceeds the format's limit of {MAX_HEADER_SIZE} bytes",
        )
    if 8 + header_size > file_size:
        return _defective(
            header_size,
            "truncated",
            f"header length {header_size} runs past the end of the {file_size}-byte file",
        )
    raw = handle.read(header_size)
    if len(raw) < header_size:
        return _defective(header_size, "truncated", "file shrank while its header was being read")
    return _parse(raw, header_size, file_size)


def open_regular(path: str | os.PathLike[str]) -> io.FileIO:
    """Open a file for reading, refusing anything but a regular file.

    Opened non-blocking first so a FIFO or device named like a weights file cannot hang the scan
    (a plain `open()` of a FIFO waits for a writer); regular files ignore the flag.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        return io.FileIO(fd, "rb", closefd=True)
    except BaseException:
        os.close(fd)
        raise


def _defective(header_size: int, kind: str, message: str) -> SafetensorsHeader:
    return SafetensorsHeader(
        header_size=header_size,
        tensor_count=0,
        parameter_count=0,
        dtypes={},
        metadata={},
        defects=(HeaderDefect(kind, message),),  # type: ignore[arg-type]
    )


def _parse(raw: bytes, header_size: int, file_size: int) -> SafetensorsHeader:
    defects: list[HeaderDefect] = []
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return _defective(
            header_size, "malformed", f"header is not UTF-8 ({exc.reason} at byte {exc.start})"
        )
    decoder = json.JSONDecoder(object_pairs_hook=_object_pairs, parse_int=_parse_int)
    try:
        document, end = decoder.raw_decode(text)
    except (json.JSONDecodeError, _IntegerTooLong) as exc:
        return _defective(header_size, "malformed", f"header is not valid JSON: {exc}")
    except RecursionError:
        return _defective(header_size, "malformed", "header is not valid JSON: nested too deeply")
    if text[end:].strip(" "):
        defects.append(
            HeaderDefect("malformed", "header padding contains characters other than spaces")
        )
    if not isinstance(document, dict):
        return _defective(header_size, "malformed", "header is not a JSON object")
    for name in getattr(document, "duplicates", ()):
        defects.append(
            HeaderDefect(
                "duplicate-tensor",
                f"tensor name {name!r} appears more than once; loaders keep only the last",
            )
        )

    metadata: dict[str, str] = {}
    raw_metadata = document.pop("__metadata__", None)
    if raw_metadata is not None:
        if isinstance(raw_metadata, dict) and all(
            isinstance(k, str) and isinstance(v, str) for k, v in raw_metadata.items()
        ):
            metadata = dict(raw_metadata)
            for key in getattr(raw_metadata, "duplicates", []):
                defects.append(HeaderDefect("malformed", f"__metadata__ repeats the key {key!r}"))
        else:
            defects.append(HeaderDefect("malformed", "__metadata__ must map strings to strings"))

    dtypes: Counter[str] = Counter()
    parameters = 0
    spans: list[tuple[int, int, str]] = []
    names: list[str] = []
    for name, info in document.items():
        problem = _tensor_problem(name, info)
        if problem:
            defects.append(HeaderDefect("malformed", problem))
            continue
        numel = _element_count(info["shape"])
        if numel is None:
            defects.append(
                HeaderDefect(
                    "malformed",
                    f"tensor {name!r}: shape {_shown(info['shape'])} has more than "
                    f"{MAX_INTEGER:,} elements",
                )
            )
            continue
        begin, end = info["data_offsets"]
        bits = numel * DTYPE_BITS[info["dtype"]]
        if bits % 8:
            defects.append(
                HeaderDefect(
                    "malformed",
                    f"tensor {name!r}: {numel} × {info['dtype']} does not fill whole bytes",
                )
            )
        elif end - begin != bits // 8:
            defects.append(
                HeaderDefect(
                    "malformed",
                    f"tensor {name!r}: offsets span {end - begin} bytes, shape and dtype need {bits // 8}",
                )
            )
        dtypes[info["dtype"]] += 1
        parameters += numel
        spans.append((begin, end, name))
        names.append(name)

    data_size = file_size - 8 - header_size
    defects.extend(_layout_defects(spans, data_size))
    return SafetensorsHeader(
        header_size=header_size,
        tensor_count=len(spans),
        parameter_count=parameters,
        dtypes=dict(sorted(dtypes.items())),
        metadata=metadata,
        defects=tuple(defects),
        tensor_names=tuple(names),
    )


def _tensor_problem(name: str, info: Any) -> str | None:
    """Describe what is wrong with one tensor entry, or return None when it is well-formed."""
    if not isinstance(info, dict):
        return f"entry {name!r} is not a tensor description"
    repeated = getattr(info, "duplicates", None)
    if repeated:
        return f"tensor {name!r} repeats the fields {repeated}"
    unknown = set(info) - _TENSOR_FIELDS
    if unknown:
        return f"tensor {name!r} has unknown fields {sorted(unknown)}"
    missing = _TENSOR_FIELDS - set(info)
    if missing:
        return f"tensor {name!r} lacks {sorted(missing)}"
    dtype = info["dtype"]
    if not isinstance(dtype, str) or dtype not in DTYPE_BITS:
        return f"tensor {name!r} has unknown dtype {_shown(dtype)}"
    shape = info["shape"]
    if not isinstance(shape, list) or not all(_is_natural(d) for d in shape):
        return f"tensor {name!r} has an invalid shape {_shown(shape)}"
    if len(shape) > MAX_DIMENSIONS:
        return f"tensor {name!r} has {len(shape):,} dimensions; at most {MAX_DIMENSIONS} are read"
    offsets = info["data_offsets"]
    if (
        not isinstance(offsets, list)
        or len(offsets) != 2
        or not all(_is_natural(o) for o in offsets)
        or offsets[1] < offsets[0]
    ):
        return f"tensor {name!r} has invalid data_offsets {_shown(offsets)}"
    return None


def _element_count(shape: list[int]) -> int | None:
    """The product of a (valid, short) shape, or None once it passes `MAX_INTEGER`."""
    count = 1
    for dim in shape:
        count *= dim
        if count > MAX_INTEGER:
            return None
    return count


def _layout_defects(spans: list[tuple[int, int, str]], data_size: int) -> list[HeaderDefect]:
    """Check that tensors tile the data section exactly: from 0, no gap, no overlap, no excess."""
    defects = []
    position = 0
    for begin, end, name in sorted(spans):
        if begin > position:
            defects.append(
                HeaderDefect("malformed", f"gap of {begin - position} bytes before tensor {name!r}")
            )
        elif begin < position:
            defects.append(
                HeaderDefect("malformed", f"tensor {name!r} overlaps the previous tensor")
            )
        position = max(position, end)
    if position > data_size:
        defects.append(
            HeaderDefect(
                "truncated",
                f"tensors need {position} data bytes but the file holds {data_size}: "
                f"{position - data_size} bytes are missing",
            )
        )
    elif position < data_size:
        defects.append(
            HeaderDefect(
                "malformed", f"{data_size - position} trailing bytes after the last tensor"
            )
        )
    return defects
