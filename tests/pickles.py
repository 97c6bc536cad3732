"""Pickle fixtures built by code: hostile ones from the red-team rounds, benign ones shaped like
what `torch.save` writes, and the verdict aiscan must give each.

torch is not installed and nothing here imports what a pickle names: globals are written by
name (`Ref`), tensors as the `_rebuild_tensor_v2` calls and persistent storage ids torch writes.
Shared by the tests and `benchmarks/pickle_verdicts.py`, which compares the verdicts with
fickling's; no binary fixture is committed.
"""

from __future__ import annotations

import collections
import io
import os
import pickle
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from scanner.inventory import PickleScan
from scanner.readers.model_folder import classify_format
from scanner.readers.pickle import is_safe_global, scan_pickle

Verdict = Literal["unsafe", "not scanned", "clean", "not a pickle"]

TORCH_MAGIC = 0x1950A86A20F9469CFC6C
"""The first pickle of a legacy torch file."""


@dataclass(frozen=True)
class Ref:
    """A global named by module and name; pickled as an import, never looked up."""

    module: str
    name: str

    def __call__(self, *args: object) -> None:
        raise AssertionError("a Ref only stands for a global")  # pickle wants a callable


@dataclass(frozen=True)
class Call:
    """Pickles as a call of `func` with `args` (a REDUCE), whose result may be called again."""

    func: Ref | Call
    args: tuple[Any, ...] = ()

    def __reduce__(self) -> tuple[Ref | Call, tuple[Any, ...]]:
        return self.func, self.args

    def __call__(self, *args: object) -> None:
        raise AssertionError("a Call only stands for a call in a pickle")


@dataclass(frozen=True)
class Storage:
    """A tensor storage, pickled as torch does: a persistent id, its bytes stored elsewhere."""

    key: str
    storage: str = "FloatStorage"
    numel: int = 6


class _Writer(pickle._Pickler):
    """The pure-Python pickler, writing `Ref`s by name and `Storage`s as persistent ids."""

    dispatch = pickle._Pickler.dispatch.copy()

    def save_ref(self, obj: Ref) -> None:
        if self.proto >= 4:
            self.save(obj.module)
            self.save(obj.name)
            self.write(pickle.STACK_GLOBAL)
        else:
            self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode())
        self.memoize(obj)

    dispatch[Ref] = save_ref

    def persistent_id(self, obj: object) -> object:
        if isinstance(obj, Storage):
            return ("storage", Ref("torch", obj.storage), obj.key, "cpu", obj.numel)
        return None


def dumps(obj: object, protocol: int = 2) -> bytes:
    """`obj` pickled as `torch.save` pickles it (protocol 2 by default)."""
    buffer = io.BytesIO()
    _Writer(buffer, protocol).dump(obj)
    return buffer.getvalue()


def tensor(key: str, storage: str = "FloatStorage", shape: tuple[int, ...] = (2, 3)) -> Call:
    """What torch writes for a tensor: `_rebuild_tensor_v2(storage, offset, size, stride, ...)`."""
    stride = [1]
    for size in reversed(shape[1:]):
        stride.insert(0, stride[0] * size)
    hooks = Call(Ref("collections", "OrderedDict"))
    return Call(
        Ref("torch._utils", "_rebuild_tensor_v2"),
        (Storage(key, storage, 6), 0, shape, tuple(stride), False, hooks),
    )


def state_dict(count: int = 3) -> collections.OrderedDict[str, Any]:
    """A state dict of `count` tensors of mixed dtypes and one parameter."""
    storages = ("FloatStorage", "HalfStorage", "BFloat16Storage")
    state: collections.OrderedDict[str, Any] = collections.OrderedDict()
    for i in range(count):
        state[f"layers.{i}.weight"] = tensor(str(i), storages[i % len(storages)])
    state["scale"] = Call(
        Ref("torch._utils", "_rebuild_parameter"),
        (tensor(str(count)), True, Call(Ref("collections", "OrderedDict"))),
    )
    return state


def torch_zip(members: dict[str, bytes]) -> bytes:
    """A torch zip checkpoint holding `members` (`data.pkl`, ...) and one storage file."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(f"archive/{name}", data)
        archive.writestr("archive/data/0", b"\0" * 24)
        archive.writestr("archive/version", b"3\n")
    return buffer.getvalue()


def legacy_torch(
    protocol: int = 2, *, second: bytes | None = None, keys: bytes | None = None
) -> bytes:
    """A legacy (torch < 1.6) file: magic number, protocol version, system info, the object
    pickle, its storage keys, then raw storage bytes. `second` and `keys` replace the protocol
    version and storage keys pickles."""
    sys_info = {"protocol_version": 1001, "little_endian": True, "type_sizes": {"int": 4}}
    return b"".join(
        (
            pickle.dumps(TORCH_MAGIC, protocol=protocol),
            second if second is not None else pickle.dumps(1001, protocol=protocol),
            pickle.dumps(sys_info, protocol=protocol),
            dumps(state_dict(), protocol),
            keys if keys is not None else pickle.dumps(["0", "1", "2", "3"], protocol=protocol),
            (6).to_bytes(8, "little") + b"\x00\x00\x80\x3f" * 6,
        )
    )


SYSTEM_P0 = b"cos\nsystem\n(S'echo owned'\ntR."
"""os.system('echo owned') at protocol 0, as written by hand: no PROTO opcode, text opcodes."""


def system_call(protocol: int) -> bytes:
    """A pickle calling os.system('echo owned'), written by name."""
    return dumps(Call(Ref("os", "system"), ("echo owned",)), protocol)


class _Payload:
    """Pickles as os.system('echo owned') the way `pickle.dumps` writes a real call."""

    def __reduce__(self) -> tuple[Callable[[str], int], tuple[str]]:
        return os.system, ("echo owned",)


def _numpy_array() -> bytes:
    import numpy as np

    return pickle.dumps({"embedding": np.arange(6, dtype=np.float32).reshape(2, 3)}, protocol=2)


def _memo_reuse() -> bytes:
    """Two pickles: the first memoizes 'os' and 'system'; the second memoizes 'torch' and
    'FloatStorage' and imports memo entries 0 and 1. A fresh memo (`pickle.load`) imports
    torch.FloatStorage, a reused `Unpickler` (memo carried over) imports os.system."""
    first = b"\x80\x04\x8c\x02os\x94\x8c\x06system\x94N."
    second = b"\x80\x04\x8c\x05torch\x94\x8c\x0cFloatStorage\x9400h\x00h\x01\x93."
    return first + second


@dataclass(frozen=True)
class Fixture:
    """One file to scan, and what aiscan must say of it (`unsafe` lists what it must find)."""

    name: str
    file: str
    build: Callable[[], bytes]
    verdict: Verdict
    unsafe: Sequence[str] = ()
    hostile: bool = True


HOSTILE = (
    Fixture("protocol-0 bin", "pytorch_model.bin", lambda: SYSTEM_P0, "unsafe", ["os.system"]),
    Fixture(
        "protocol-0 bin without STOP",
        "pytorch_model.bin",
        lambda: SYSTEM_P0[:-1],
        "unsafe",
        ["os.system"],
    ),
    Fixture(
        "protocol-1 INST in bin",
        "pytorch_model.bin",
        lambda: b"(S'echo owned'\nios\nsystem\n.",
        "unsafe",
        ["os.system"],
    ),
    Fixture(  # torch.load(..., encoding="latin1"), as for Python 2 checkpoints, runs it
        "legacy: non-ASCII STRING, then os.system, in the 2nd pickle",
        "pytorch_model.bin",
        lambda: legacy_torch(second=b"S'caf\xe9'\n0" + SYSTEM_P0),
        "unsafe",
        ["os.system"],
    ),
    Fixture(
        "legacy: os.system in the storage-keys pickle",
        "model.pt",
        lambda: legacy_torch(keys=system_call(2)),
        "unsafe",
        ["os.system"],
    ),
    Fixture(
        "STACK_GLOBAL through _rebuild_tensor.__builtins__",
        "pytorch_model.bin",
        lambda: torch_zip(
            {
                "data.pkl": dumps(
                    collections.OrderedDict(
                        w=tensor("0"),
                        x=Call(
                            Call(
                                Ref("torch._utils", "_rebuild_tensor.__builtins__.get"), ("eval",)
                            ),
                            ("print('owned')",),
                        ),
                    ),
                    protocol=4,
                )
            }
        ),
        "unsafe",
        ["torch._utils._rebuild_tensor.__builtins__.get"],
    ),
    Fixture(
        "zip: os.system in a second .pkl member",
        "pytorch_model.bin",
        lambda: torch_zip({"data.pkl": dumps(state_dict()), "extra.pkl": system_call(2)}),
        "unsafe",
        ["os.system"],
    ),
    Fixture(
        "bare pickle: os.system in a second pickle",
        "model.pkl",
        lambda: pickle.dumps({"w": [1.0]}, protocol=2) + system_call(2),
        "unsafe",
        ["os.system"],
    ),
    Fixture(
        "memo reused across pickles",
        "model.pkl",
        _memo_reuse,
        "unsafe",
        ["os.system"],
    ),
    Fixture(
        "copyreg extension code",
        "model.pkl",
        lambda: b"\x80\x02\x82\x07)R.",
        "unsafe",
        ["<copyreg extension 7>"],
    ),
    Fixture(
        "undecodable opcode after tensors",
        "pytorch_model.bin",
        lambda: torch_zip({"data.pkl": dumps(state_dict())[:-1] + b"\xff."}),
        "not scanned",
    ),
    Fixture(
        "raw bytes after a bare pickle",
        "model.pkl",
        lambda: pickle.dumps({"w": [1.0]}, protocol=2) + b"\x00\x01raw",
        "not scanned",
    ),
    Fixture(
        "20 MB of MEMOIZE",
        "model.pkl",
        lambda: b"\x80\x04N" + b"\x94" * (20 * 1024 * 1024) + b".",
        "not scanned",
    ),
    Fixture(
        "pickle.dumps of a call to os.system",
        "model.pkl",
        lambda: pickle.dumps(_Payload(), protocol=4),
        "unsafe",
        [f"{os.system.__module__}.system"],
    ),
)
"""Each one made an earlier scanner say "clean" (or nothing), or probes the class of the bug."""

BENIGN = (
    Fixture(
        "torch zip, protocol 2",
        "pytorch_model.bin",
        lambda: torch_zip({"data.pkl": dumps(state_dict())}),
        "clean",
        hostile=False,
    ),
    Fixture(
        "torch zip, protocol 4",
        "pytorch_model.bin",
        lambda: torch_zip({"data.pkl": dumps(state_dict(), protocol=4)}),
        "clean",
        hostile=False,
    ),
    Fixture("legacy torch file", "pytorch_model.bin", legacy_torch, "clean", hostile=False),
    Fixture(
        "legacy torch file, protocol 0",
        "pytorch_model.bin",
        lambda: legacy_torch(protocol=0),
        "clean",
        hostile=False,
    ),
    Fixture("numpy array", "embeddings.pkl", _numpy_array, "clean", hostile=False),
    Fixture(
        "plain data pickle, protocol 5",
        "stats.pkl",
        lambda: pickle.dumps({"steps": list(range(50)), "name": "run"}, protocol=5),
        "clean",
        hostile=False,
    ),
)
"""Checkpoints shaped like what torch.save writes, and a pickle of plain data."""


def scan_verdict(path: Path) -> tuple[Verdict, PickleScan | None]:
    """What the reader's facts say of `path`, judged as `provenance.unsafe-format` judges them."""
    if classify_format(path) != "pickle":
        return "not a pickle", None
    scan = scan_pickle(path)
    if not all(is_safe_global(name) for name in scan.globals):
        return "unsafe", scan
    return ("not scanned" if scan.error else "clean"), scan
