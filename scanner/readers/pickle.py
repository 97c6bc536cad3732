"""Lists what a pickle-based weights file would import, by reading its opcodes, never loading it.

Unpickling runs whatever callables the pickle names, so the only safe way to look inside is to
decode the opcodes without executing them. The decoder here streams a file object through the
opcode table of `pickletools` (argument layouts, stack effects) and models what the unpickler
would do with the values that matter: strings, which STACK_GLOBAL turns into imports, the memo
they are kept in, and the MARK frames that decide what an opcode can reach. It does not use
`pickletools.genops` itself, which reads every argument into memory (a BINBYTES8 may declare
any length) and refuses a non-ASCII STRING that a loader passing `encoding="latin1"` accepts:
a scan must not stop where the loader goes on. Every structure is bounded, so a hostile file
gets a fixed memory and time budget (about 40 MiB with the memo at its bound, a few seconds at
the opcode bound), and whatever lies past it is reported as not scanned.

Every pickle a loader would unpickle is judged: every `*.pkl` member of a zip (torch >= 1.6
checkpoints keep `data.pkl` there), the five pickles of a legacy torch file (magic number,
protocol, system info, the object, its storage keys: the raw tensor bytes follow), and every
pickle of a bare pickle file, which must be nothing but pickles to its end. A stream that cannot
be decoded to its STOP is reported with the reason: an unscannable pickle is never clean.
"""

from __future__ import annotations

import codecs
import enum
import io
import os
import pickle
import pickletools
import struct
import sys
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from scanner.inventory import PickleScan

MAX_PICKLE_BYTES = 256 * 1024 * 1024
"""Bytes of pickle streams read from one file, all members and streams together. A weights
pickle holds tensor metadata only; a file needing more is not scanned past this."""
MAX_OPCODES = 5_000_000
"""Opcodes decoded from one file (a checkpoint of 10,000 tensors has about 300,000): bounds
the time a hostile file can take."""
MAX_MEMO = 500_000
"""Memo entries one pickle may hold (torch writes about ten per tensor: 50,000 tensors)."""
MAX_MEMO_CHARS = 16 * 1024 * 1024
"""Characters of strings one pickle may keep in its memo."""
MAX_STACK = 100_000
"""Stack entries and open MARKs one pickle may hold at once."""
MAX_NAME_BYTES = 256
"""Longest string kept as a possible module or attribute name; a longer one is skipped, and a
STACK_GLOBAL using it is unresolved (unsafe)."""
SNIFF_BYTES = 64 * 1024
"""How much of a `.bin` file is decoded to tell a protocol 0/1 pickle from raw data."""

_TORCH_MAGIC_PICKLES = frozenset(
    pickle.dumps(0x1950A86A20F9469CFC6C, protocol=p) for p in range(pickle.HIGHEST_PROTOCOL + 1)
)
"""The first pickle of a legacy (non-zip) torch file: torch's magic number, at any protocol."""
_MAGIC_BYTES = max(map(len, _TORCH_MAGIC_PICKLES))
_LEGACY_TORCH_PICKLES = 5
"""Magic number, protocol version, system info, the object, its storage keys; raw data follows."""
_ZIP_MAGIC = b"PK\x03\x04"

_TORCH_REBUILDS = (
    "_rebuild_tensor",
    "_rebuild_tensor_v2",
    "_rebuild_tensor_v3",
    "_rebuild_parameter",
    "_rebuild_parameter_with_state",
    "_rebuild_qtensor",
    "_rebuild_sparse_tensor",
    "_rebuild_meta_tensor_no_storage",
    "_rebuild_wrapper_subclass",
    "_rebuild_device_tensor_from_numpy",
    "_rebuild_device_tensor_from_cpu_tensor",
)
_TORCH_STORAGES = (
    "ByteStorage",
    "CharStorage",
    "ShortStorage",
    "IntStorage",
    "LongStorage",
    "HalfStorage",
    "FloatStorage",
    "DoubleStorage",
    "BoolStorage",
    "BFloat16Storage",
    "ComplexFloatStorage",
    "ComplexDoubleStorage",
    "QUInt8Storage",
    "QInt8Storage",
    "QInt32Storage",
    "QUInt4x2Storage",
    "QUInt2x4Storage",
    "UntypedStorage",
)
_TORCH_DTYPES = (
    *("float64", "float32", "float16", "bfloat16"),
    *("float8_e5m2", "float8_e4m3fn", "float8_e5m2fnuz", "float8_e4m3fnuz", "float8_e8m0fnu"),
    *("complex32", "complex64", "complex128", "bool"),
    *(f"int{bits}" for bits in (*range(1, 9), 16, 32, 64)),
    *(f"uint{bits}" for bits in (*range(1, 9), 16, 32, 64)),
    *("qint8", "quint8", "qint32", "quint4x2", "quint2x4"),
    *("bits8", "bits16", "bits1x8", "bits2x4", "bits4x2"),
)
_TORCH_QSCHEMES = (
    "per_tensor_affine",
    "per_tensor_symmetric",
    "per_channel_affine",
    "per_channel_symmetric",
    "per_channel_affine_float_qparams",
)
_BUILTINS = ("set", "frozenset", "bytearray", "complex", "slice")

SAFE_GLOBALS = frozenset(
    {
        *(f"torch._utils.{name}" for name in _TORCH_REBUILDS),
        "torch._tensor._rebuild_from_type_v2",
        *(f"torch.{name}" for name in _TORCH_STORAGES),
        "torch.storage.UntypedStorage",
        *(f"torch.{name}" for name in (*_TORCH_DTYPES, *_TORCH_QSCHEMES)),
        "torch.strided",
        "torch.sparse_coo",
        "torch.serialization._get_layout",
        "torch.Size",
        "torch.device",
        "torch.Tensor",
        "torch.nn.parameter.Parameter",
        "collections.OrderedDict",
        "numpy.core.multiarray._reconstruct",
        "numpy._core.multiarray._reconstruct",
        "numpy.core.multiarray.scalar",
        "numpy._core.multiarray.scalar",
        "numpy.ndarray",
        "numpy.dtype",
        "_codecs.encode",
        *(f"builtins.{name}" for name in _BUILTINS),
        *(f"__builtin__.{name}" for name in _BUILTINS),
    }
)
"""The exact globals weights checkpoints import to rebuild tensors and containers.

These are what `torch.save` writes (torch's own `weights_only` unpickler admits the same rebuild
functions, storage classes, dtypes by their canonical names and quantization schemes), numpy's
array rebuilding, and the builtins protocol 2 spells `__builtin__`. A name is safe only when it
is one of these strings exactly: `torch._utils._rebuild_tensor.__builtins__.get` names a path
through a safe function to `getattr`, and is unsafe like anything else outside the set
(os.system, builtins.eval, subprocess.Popen, a model class, ...).
"""

_UTF8_OPS = frozenset({"BINUNICODE", "SHORT_BINUNICODE", "BINUNICODE8"})
_STRING_OPS = frozenset({"STRING", "BINSTRING", "SHORT_BINSTRING", "UNICODE", *_UTF8_OPS})
"""Opcodes pushing a str (STRING, BINSTRING, SHORT_BINSTRING: under the loader's
`encoding=`)."""


def is_safe_global(name: str) -> bool:
    """Whether a `module.name` imported by a pickle is exactly one of the checkpoint globals."""
    return name in SAFE_GLOBALS


class _Unscannable(Exception):
    """The scan stops here; the message says why, and nothing past it is judged."""

    kind = "not scanned"

    def describe(self) -> str:
        return f"{self.kind}: {self}"


class _Invalid(_Unscannable):
    """The bytes are not a pickle the unpickler would load past this point."""

    kind = "not a decodable pickle"


class _Truncated(_Invalid):
    """The bytes end before the pickle's STOP."""


class _OverBound(_Unscannable):
    """A bound of the fixed budget was reached: the unpickler might go on, the scan does not."""

    kind = "not scanned past the scan's bounds"


class _Kind(enum.Enum):
    """What the decoder does with an opcode beyond its stack effect."""

    STRING = enum.auto()
    GLOBAL = enum.auto()
    STACK_GLOBAL = enum.auto()
    EXT = enum.auto()
    PUT = enum.auto()
    MEMOIZE = enum.auto()
    GET = enum.auto()
    DUP = enum.auto()
    PROTO = enum.auto()
    STOP = enum.auto()
    OTHER = enum.auto()


_KINDS = {
    **dict.fromkeys(_STRING_OPS, _Kind.STRING),
    **dict.fromkeys(("GLOBAL", "INST"), _Kind.GLOBAL),
    "STACK_GLOBAL": _Kind.STACK_GLOBAL,
    **dict.fromkeys(("EXT1", "EXT2", "EXT4"), _Kind.EXT),
    **dict.fromkeys(("PUT", "BINPUT", "LONG_BINPUT"), _Kind.PUT),
    "MEMOIZE": _Kind.MEMOIZE,
    **dict.fromkeys(("GET", "BINGET", "LONG_BINGET"), _Kind.GET),
    "DUP": _Kind.DUP,
    "PROTO": _Kind.PROTO,
    "STOP": _Kind.STOP,
}


@dataclass(frozen=True)
class _Op:
    """What the decoder needs of one opcode, taken from `pickletools.opcodes`."""

    name: str
    kind: _Kind
    arg: int | None
    """`ArgumentDescriptor.n`: a fixed size, or how the length is given; None for no argument."""
    to_mark: bool
    """Pops everything down to the topmost MARK (and the MARK) first."""
    pops: int
    """Items popped after that: from the frame below the MARK, or from the top."""
    pushes: bool
    marks: bool
    """Opens a MARK."""


def _op(info: pickletools.OpcodeInfo) -> _Op:
    before, after = info.stack_before, info.stack_after
    to_mark = pickletools.markobject in before
    return _Op(
        name=info.name,
        kind=_KINDS.get(info.name, _Kind.OTHER),
        arg=None if info.arg is None else info.arg.n,
        to_mark=to_mark,
        pops=before.index(pickletools.markobject) if to_mark else len(before),
        pushes=any(item is not pickletools.markobject for item in after),
        marks=pickletools.markobject in after,
    )


_OPS = {ord(info.code): _op(info) for info in pickletools.opcodes}


class _Scan:
    """What the scan of one file has established so far (kept when it stops early), and what
    the file may still cost across all its members and pickles."""

    def __init__(self) -> None:
        self.found: dict[str, None] = {}
        """Every global imported, in order of first appearance."""
        self.streams = 0
        self.opcodes = MAX_OPCODES
        self.bytes = MAX_PICKLE_BYTES

    def result(self, error: str | None = None) -> PickleScan:
        return PickleScan(tuple(self.found), error, self.streams)


class _Guarded:
    """A zip member whose read errors (a corrupt member: zlib, lzma, CRC, truncation) stop the
    scan with their reason instead of escaping as whatever the archive layer raises."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw

    def read(self, count: int) -> bytes:
        try:
            return self.raw.read(count)
        except Exception as exc:
            raise _Unscannable(f"cannot read: {exc}") from exc

    def readline(self, limit: int) -> bytes:
        try:
            return self.raw.readline(limit)
        except Exception as exc:
            raise _Unscannable(f"cannot read: {exc}") from exc

    def seek(self, pos: int) -> int:
        try:
            return self.raw.seek(pos)
        except Exception as exc:
            raise _Unscannable(f"cannot read: {exc}") from exc


class _Source:
    """One file or zip member read forward from its start.

    `end` is where reading stops: the end of the data, or sooner where the scan's byte budget
    runs out (`_decode` sets it and charges what it read). Nothing longer than a kept name is
    held in memory: other arguments are skipped, text lines read in chunks.
    """

    _CHUNK = 64 * 1024

    def __init__(self, raw: IO[bytes] | _Guarded, size: int, scan: _Scan) -> None:
        self.raw = raw
        self.size = size
        self.scan = scan
        self.pos = 0
        self.end = 0

    def _past(self, pos: int) -> _Unscannable:
        if pos > self.size:
            return _Truncated(f"pickle data ends at offset {self.size}")
        return _OverBound(f"more than {MAX_PICKLE_BYTES >> 20} MiB of pickle data")

    def read(self, count: int) -> bytes:
        """Exactly `count` bytes: an opcode, a small fixed-size argument or a kept string."""
        end = self.pos + count
        if end > self.end:
            raise self._past(end)
        data = self.raw.read(count)
        if len(data) != count:
            raise _Truncated(f"pickle data ends at offset {self.pos + len(data)}")
        self.pos = end
        return data

    def skip(self, count: int) -> None:
        """Pass over `count` bytes of an argument that is not kept."""
        end = self.pos + count
        if end > self.end:
            raise self._past(end)
        self.raw.seek(end)
        self.pos = end

    def line(self) -> bytes | None:
        """A text argument up to its newline (excluded); None when longer than a kept name."""
        kept = bytearray()
        over = False
        while True:
            chunk = self.raw.readline(min(self._CHUNK, self.end - self.pos))
            self.pos += len(chunk)
            if not over:
                kept += chunk
                over = len(kept) > MAX_NAME_BYTES + 1
            if chunk.endswith(b"\n"):
                return None if over else bytes(kept[:-1])
            if not chunk or self.pos >= self.end:
                raise self._past(self.pos + 1)

    def seek(self, pos: int) -> None:
        """Go back to where a pickle starts, to decode it again (see `_scan_streams`)."""
        self.raw.seek(pos)
        self.pos = pos


class _Memo:
    """The unpickler's memo as far as names go: every key (MEMOIZE numbers by their count),
    with the string stored under it or None, bounded."""

    def __init__(self) -> None:
        self.values: dict[int, str | None] = {}
        self.chars = 0

    def put(self, index: int, value: str | None) -> None:
        if len(self.values) >= MAX_MEMO and index not in self.values:
            raise _OverBound(f"more than {MAX_MEMO:,} memo entries")
        if value is not None:
            self.chars += len(value)
            if self.chars > MAX_MEMO_CHARS:
                raise _OverBound(f"more than {MAX_MEMO_CHARS >> 20} Mi characters in the memo")
        self.values[index] = value


def _length(source: _Source, kind: int) -> int:
    """The length prefix of a counted argument, refused where the unpickler refuses it."""
    if kind == pickletools.TAKEN_FROM_ARGUMENT1:
        return source.read(1)[0]
    if kind == pickletools.TAKEN_FROM_ARGUMENT4:
        (length,) = struct.unpack("<i", source.read(4))
        if length < 0:
            raise _Invalid(f"negative length at offset {source.pos - 4}")
        return int(length)
    if kind == pickletools.TAKEN_FROM_ARGUMENT4U:
        return int.from_bytes(source.read(4), "little")
    length = int.from_bytes(source.read(8), "little")
    if length > sys.maxsize:
        raise _Invalid(f"length over sys.maxsize at offset {source.pos - 8}")
    return length


def _text(op: str, data: bytes, pos: int) -> str:
    """A string argument as the unpickler decodes it; STRING and BINSTRING as latin-1, the
    widest reading a loader can ask for (`encoding=`), so no loader sees a name the scan
    does not."""
    try:
        if op in _UTF8_OPS:
            return data.decode("utf-8", "surrogatepass")
        if op == "UNICODE":
            return data.decode("raw-unicode-escape")
        if op == "STRING":
            if len(data) < 2 or data[0] != data[-1] or data[:1] not in (b'"', b"'"):
                raise _Invalid(f"STRING argument without quotes at offset {pos}")
            data = codecs.escape_decode(data[1:-1])[0]
    except (UnicodeDecodeError, ValueError) as exc:
        raise _Invalid(f"undecodable {op} at offset {pos}: {exc}") from exc
    return data.decode("latin-1")


def _index(line: bytes | None, pos: int) -> int:
    """A protocol 0 memo index, read as the unpickler reads it (`int()` of the line)."""
    if line is None or len(line) > 64:
        raise _OverBound(f"memo index over 64 characters at offset {pos}")
    try:
        index = int(line)
    except ValueError as exc:
        raise _Invalid(f"bad memo index at offset {pos}") from exc
    if index < 0:
        raise _Invalid(f"negative memo index at offset {pos}")
    return index


def _argument(source: _Source, op: _Op, pos: int, found: dict[str, None]) -> tuple[str | None, int]:
    """Read an opcode's argument: the string it pushes (None when it is not a kept string), or
    the number it carries (a memo index, an extension code, a protocol; -1 for none).
    GLOBAL and INST add what they import to `found`."""
    arg = op.arg
    if arg is None:
        return None, -1
    if arg >= 0:
        number = int.from_bytes(source.read(arg), "little")
        if op.kind is _Kind.PROTO and number > pickle.HIGHEST_PROTOCOL:
            raise _OverBound(f"protocol {number} is newer than this Python decodes")
        return None, number
    if arg == pickletools.UP_TO_NEWLINE:
        line = source.line()
        if op.kind is _Kind.GLOBAL:
            found.setdefault(_global_name(op.name, line, source.line(), pos))
        elif op.kind is _Kind.STRING:
            return (None if line is None else _text(op.name, line, pos)), -1
        elif op.kind is _Kind.PUT or op.kind is _Kind.GET:
            return None, _index(line, pos)
        return None, -1
    length = _length(source, arg)
    if op.kind is _Kind.STRING and length <= MAX_NAME_BYTES:
        return _text(op.name, source.read(length), pos), -1
    source.skip(length)
    return None, -1


def _decode(source: _Source, memo: _Memo, found: dict[str, None]) -> None:
    """Decode one pickle up to its STOP, adding every global it imports to `found`, and charge
    the bytes read to the scan.

    The stack holds, per item, the string the unpickler would have there, or None for anything
    else (a string longer than a name, a number, an object). MARKs are the stack heights where
    a frame starts, as in `pickle._Unpickler`, so an opcode never reaches below its frame.
    Raises `_Unscannable` where decoding stops.
    """
    scan = source.scan
    start = source.pos
    source.end = min(source.size, start + scan.bytes)
    try:
        _walk(source, memo, found)
    finally:
        scan.bytes -= source.pos - start


def _walk(source: _Source, memo: _Memo, found: dict[str, None]) -> None:
    stack: list[str | None] = []
    marks: list[int] = []
    scan = source.scan
    values = memo.values
    read = source.read
    while True:
        if scan.opcodes <= 0:
            raise _OverBound(f"more than {MAX_OPCODES:,} opcodes")
        scan.opcodes -= 1
        pos = source.pos
        code = read(1)[0]
        op = _OPS.get(code)
        if op is None:
            raise _Invalid(f"unknown opcode {code:#04x} at offset {pos}")
        kind = op.kind
        value, number = _argument(source, op, pos, found)

        if op.to_mark:
            if not marks:
                raise _Invalid(f"{op.name} without a MARK at offset {pos}")
            del stack[marks.pop() :]
        floor = marks[-1] if marks else 0
        depth = len(stack) - floor
        if depth < op.pops:
            if op.name == "POP" and depth == 0 and marks:
                marks.pop()  # POP in an empty frame pops its MARK, as the unpickler does
                continue
            raise _Invalid(f"{op.name} on a stack too short at offset {pos}")
        popped = stack[len(stack) - op.pops :]
        del stack[len(stack) - op.pops :]

        if kind is _Kind.OTHER:
            pass
        elif kind is _Kind.STACK_GLOBAL:
            module, attr = popped
            resolved = module is not None and attr is not None
            found.setdefault(f"{module}.{attr}" if resolved else "<unresolved STACK_GLOBAL>")
        elif kind is _Kind.PUT:
            if depth == 0:
                raise _Invalid(f"{op.name} on an empty stack at offset {pos}")
            memo.put(number, stack[-1])
        elif kind is _Kind.MEMOIZE:
            memo.put(len(values), popped[0])
            value = popped[0]
        elif kind is _Kind.GET:
            if number not in values:
                raise _Invalid(f"{op.name} of memo entry {number}, never stored, at offset {pos}")
            value = values[number]
        elif kind is _Kind.DUP:
            stack.append(popped[0])
            value = popped[0]
        elif kind is _Kind.EXT:
            found.setdefault(f"<copyreg extension {number}>")
        elif kind is _Kind.STOP:
            return

        if op.marks:
            marks.append(len(stack))
            if len(marks) > MAX_STACK:
                raise _OverBound(f"more than {MAX_STACK:,} open MARKs")
        elif op.pushes:
            stack.append(value)
            if len(stack) > MAX_STACK:
                raise _OverBound(f"more than {MAX_STACK:,} stack entries")


def _global_name(op: str, module: bytes | None, attr: bytes | None, pos: int) -> str:
    """`module.name` of a GLOBAL or INST, decoded as the unpickler does (utf-8, INST ascii)."""
    encoding = "utf-8" if op == "GLOBAL" else "ascii"
    try:
        left = "<over-long module>" if module is None else module.decode(encoding)
        right = "<over-long name>" if attr is None else attr.decode(encoding)
    except UnicodeDecodeError as exc:
        raise _Invalid(f"undecodable {op} at offset {pos}") from exc
    return f"{left}.{right}"


def _scan_streams(source: _Source, *, legacy: bool) -> None:
    """Decode every pickle in `source`, counting those decoded in full.

    With `legacy`, a first pickle that is torch's magic number makes this a legacy torch file:
    five pickles, then raw tensor bytes that torch reads as bytes. Anything else must be
    pickles up to its last byte, since a loader calling `pickle.load` again unpickles whatever
    follows. A pickle after the first is decoded twice, with a fresh memo as `pickle.load`
    does and with the memo the previous ones left, as an `Unpickler` reused for several loads
    does: a memo index cannot name one string to the scan and another to the loader.
    """
    carried = _Memo()
    count = 0
    expected: int | None = None
    while count != expected and (count == 0 or source.pos < source.size):
        start = source.pos
        if count:
            _decode(source, _Memo(), source.scan.found)
            source.seek(start)
        _decode(source, carried, source.scan.found)
        count += 1
        source.scan.streams += 1
        if legacy and count == 1 and source.pos <= _MAGIC_BYTES:
            end = source.pos
            source.seek(start)
            if source.read(end) in _TORCH_MAGIC_PICKLES:
                expected = _LEGACY_TORCH_PICKLES
    if expected is not None and count < expected:
        raise _Truncated(f"legacy torch file ends after {count} of its {expected} pickles")


_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError)
"""What opening a hostile archive or member raises: a bad header, an unsupported compression
method, encryption."""


@contextmanager
def _zip_layer() -> Iterator[None]:
    try:
        yield
    except _ZIP_ERRORS as exc:
        raise _Unscannable(f"broken zip archive: {exc}") from exc


def _scan_zip(handle: IO[bytes], scan: _Scan) -> None:
    """Decode every `*.pkl` member of a zip archive (a torch checkpoint keeps `data.pkl`)."""
    with _zip_layer():
        archive = zipfile.ZipFile(handle)
    with archive:
        members = [m for m in archive.infolist() if m.filename.lower().endswith(".pkl")]
        if not members:
            raise _Unscannable("zip archive without a .pkl member")
        for member in members:
            with _zip_layer():
                raw = archive.open(member)
            with raw:
                try:
                    _scan_streams(_Source(_Guarded(raw), member.file_size, scan), legacy=False)
                except _Unscannable as exc:
                    exc.args = (f"{member.filename}: {exc}",)
                    raise


def _is_tar(head: bytes) -> bool:
    """A POSIX tar archive: how torch before 0.4 laid out a checkpoint."""
    return head[257:262] == b"ustar"


def scan_pickle(path: Path) -> PickleScan:
    """Every global a pickle-based file imports, how many pickles were decoded in full, and
    why the scan stopped early if it did."""
    try:
        with path.open("rb") as handle:
            return scan_pickle_stream(handle, os.fstat(handle.fileno()).st_size)
    except OSError as exc:
        return _Scan().result(f"cannot read: {exc.strerror or exc}")


def scan_pickle_stream(handle: IO[bytes], size: int) -> PickleScan:
    """`scan_pickle` of an open, seekable file of `size` bytes (a local file, or an object
    store's ranged reader): the same limits, so a remote pickle is read no further than a
    local one."""
    scan = _Scan()
    try:
        head = handle.read(512)
        handle.seek(0)
        if head.startswith(_ZIP_MAGIC):
            _scan_zip(handle, scan)
        elif _is_tar(head):
            raise _Unscannable(
                "tar archive (the torch < 0.4 checkpoint layout): its pickles are not scanned"
            )
        else:
            _scan_streams(_Source(handle, size, scan), legacy=True)
    except _Unscannable as exc:
        return scan.result(exc.describe())
    except OSError as exc:
        return scan.result(f"cannot read: {exc.strerror or exc}")
    return scan.result()


def holds_pickle(path: Path) -> bool:
    """Whether a `.bin` file is pickle-based by its bytes: a torch zip or tar, a pickle of
    protocol 2 or later (`\\x80`), or protocol 0/1 opcodes.

    Raw data (training_args-style tensors, GGML, vocabularies) is told apart by decoding the
    first bytes: a pickle is recognised when they decode to a STOP, import something before
    they stop decoding, or are still decoding where the sniffed window ends. Bytes the
    unpickler would refuse before importing anything can run nothing when loaded.
    """
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
        size = os.fstat(handle.fileno()).st_size
    return starts_a_pickle(head, size)


def starts_a_pickle(head: bytes, size: int) -> bool:
    """`holds_pickle` from the first `SNIFF_BYTES` of a file of `size` bytes, wherever they
    were read (an object store reads just this range)."""
    if head.startswith((_ZIP_MAGIC, b"\x80")) or _is_tar(head):
        return True
    scan = _Scan()
    try:
        _decode(_Source(io.BytesIO(head), len(head), scan), _Memo(), scan.found)
    except _Truncated:
        return bool(scan.found) or len(head) < size
    except _Invalid:
        return bool(scan.found)
    except _OverBound:
        return True
    return True
