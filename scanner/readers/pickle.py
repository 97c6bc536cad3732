"""Lists what a pickle-based weights file would import, by reading its opcodes, never loading it.

Unpickling runs whatever callables the pickle names, so the only safe way to look inside is
`pickletools.genops`, which decodes opcodes without executing them. Torch zip checkpoints
(`pytorch_model.bin` since torch 1.6) keep their pickles as `*.pkl` members; legacy torch files
and bare pickles are a sequence of pickles followed by raw tensor bytes. A file that cannot be
decoded is reported with the reason: an unscannable pickle is never clean.
"""

from __future__ import annotations

import fnmatch
import io
import pickletools
import zipfile
from pathlib import Path
from typing import IO

from scanner.inventory import PickleScan

MAX_PICKLE_BYTES = 256 * 1024 * 1024
"""A weights pickle holds tensor metadata only; more than this is not a checkpoint."""
MAX_PICKLES = 16
"""Legacy torch files hold five pickles before the tensor bytes."""

SAFE_GLOBALS = (
    "collections.OrderedDict",
    "torch._utils._rebuild_*",
    "torch._tensor._rebuild_from_type_v2",
    "torch.*Storage",
    "torch.storage.UntypedStorage",
    "torch.Size",
    "torch.device",
    "torch.float*",
    "torch.bfloat16",
    "torch.half",
    "torch.int*",
    "torch.uint8",
    "torch.bool",
    "torch.complex*",
    "torch.strided",
    "torch.sparse_coo",
    "torch.serialization._get_layout",
    "numpy.core.multiarray._reconstruct",
    "numpy._core.multiarray._reconstruct",
    "numpy.core.multiarray.scalar",
    "numpy._core.multiarray.scalar",
    "numpy.ndarray",
    "numpy.dtype",
    "_codecs.encode",
    "builtins.set",
    "builtins.frozenset",
    "builtins.slice",
    "__builtin__.set",
)
"""Globals that weights checkpoints import to rebuild tensors and containers, and nothing else.

Anything outside this list (os.system, builtins.eval, subprocess.Popen, a model class, ...)
is something loading the file would import and may call.
"""

_STRING_OPS = frozenset(
    {"SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE", "STRING", "BINSTRING"}
)
_SHORT_BINSTRING = "SHORT_BINSTRING"


def is_safe_global(name: str) -> bool:
    """Whether a `module.name` imported by a pickle is on the checkpoint allowlist."""
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in SAFE_GLOBALS)


def _globals_of(stream: IO[bytes], found: list[str]) -> None:
    """Decode one pickle from `stream`, appending the globals it imports; raises on bad data."""
    memo: dict[int, object] = {}
    stack: list[object] = []
    for opcode, arg, _ in pickletools.genops(stream):
        name = opcode.name
        if name in _STRING_OPS or name == _SHORT_BINSTRING:
            stack.append(arg)
        elif name in ("GLOBAL", "INST"):
            module, _, attr = str(arg).partition(" ")
            found.append(f"{module}.{attr}")
            stack.append(None)
        elif name == "STACK_GLOBAL":
            top = stack.pop() if stack else None
            below = stack.pop() if stack else None
            if isinstance(below, str) and isinstance(top, str):
                found.append(f"{below}.{top}")
            else:
                found.append("<unresolved STACK_GLOBAL>")
            stack.append(None)
        elif name == "MEMOIZE":
            memo[len(memo)] = stack[-1] if stack else None
        elif name in ("PUT", "BINPUT", "LONG_BINPUT"):
            memo[int(str(arg))] = stack[-1] if stack else None
        elif name in ("GET", "BINGET", "LONG_BINGET"):
            stack.append(memo.get(int(str(arg))))
        else:
            # Only strings matter for STACK_GLOBAL; anything else pushed is a placeholder.
            stack.append(None)


def _scan_stream(stream: IO[bytes], found: list[str]) -> None:
    """Decode consecutive pickles until the tensor bytes that follow them in legacy files."""
    for count in range(MAX_PICKLES):
        start = stream.tell()
        head = stream.read(1)
        if not head:
            return
        stream.seek(start)
        try:
            _globals_of(stream, found)
        except Exception:
            if count == 0:
                raise
            return  # raw tensor data after the metadata pickles


def scan_pickle(path: Path) -> PickleScan:
    """Every global a pickle-based file imports, or why it could not be decoded."""
    found: list[str] = []
    try:
        with path.open("rb") as handle:
            magic = handle.read(4)
            handle.seek(0)
            if magic.startswith(b"PK\x03\x04"):
                with zipfile.ZipFile(handle) as archive:
                    members = [m for m in archive.infolist() if m.filename.endswith(".pkl")]
                    if not members:
                        return PickleScan(error="zip archive without a .pkl member")
                    for member in members:
                        if member.file_size > MAX_PICKLE_BYTES:
                            return PickleScan(
                                tuple(dict.fromkeys(found)),
                                f"{member.filename} is larger than {MAX_PICKLE_BYTES >> 20} MiB",
                            )
                        data = archive.read(member)
                        _scan_stream(io.BytesIO(data), found)
            else:
                _scan_stream(handle, found)
    except zipfile.BadZipFile as exc:
        return PickleScan(tuple(dict.fromkeys(found)), f"broken zip archive: {exc}")
    except OSError as exc:
        return PickleScan(tuple(dict.fromkeys(found)), f"cannot read: {exc.strerror or exc}")
    except Exception as exc:  # pickletools raises ValueError, EOFError, struct.error, ...
        return PickleScan(tuple(dict.fromkeys(found)), f"not a decodable pickle: {exc}")
    return PickleScan(tuple(dict.fromkeys(found)))
