"""The pickle opcode scan: globals listed without unpickling, unscannable files never clean."""

from __future__ import annotations

import collections
import io
import pickle
import zipfile

import pytest

from scanner.readers.pickle import is_safe_global, scan_pickle


class _Payload:
    """Pickles to a call of os.system: what a malicious checkpoint does."""

    def __reduce__(self):
        import os

        return (os.system, ("echo owned",))


class _Rebuild:
    """Pickles to a call of torch._utils._rebuild_tensor_v2 without needing torch."""

    def __reduce__(self):
        return (_fake_global("torch._utils", "_rebuild_tensor_v2"), ())


def _fake_global(module, name):
    import sys
    import types

    mod = sys.modules.setdefault(module, types.ModuleType(module))
    if "." in module:
        sys.modules.setdefault(module.split(".")[0], types.ModuleType(module.split(".")[0]))

    def f():
        return None

    f.__module__, f.__qualname__, f.__name__ = module, name, name
    setattr(mod, name, f)
    return f


def _torch_zip(payload: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("archive/data.pkl", payload)
        archive.writestr("archive/data/0", b"\0" * 16)
    return buffer.getvalue()


def _zip_without_pickle() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("archive/data/0", b"\0" * 16)
    return buffer.getvalue()


@pytest.mark.parametrize("protocol", [0, 2, 4, 5])
def test_malicious_global_is_listed_at_every_protocol(tmp_path, protocol):
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps({"w": _Payload()}, protocol=protocol))
    scan = scan_pickle(path)
    assert scan.error is None
    assert any(name.endswith(".system") for name in scan.globals)
    assert not all(is_safe_global(name) for name in scan.globals)


def test_zip_checkpoint_members_are_scanned(tmp_path):
    path = tmp_path / "pytorch_model.bin"
    path.write_bytes(_torch_zip(pickle.dumps({"w": _Payload()}, protocol=2)))
    assert any(name.endswith(".system") for name in scan_pickle(path).globals)


def test_tensor_rebuilding_checkpoint_is_allowlisted(tmp_path):
    path = tmp_path / "pytorch_model.bin"
    state = collections.OrderedDict(w=_Rebuild())
    path.write_bytes(_torch_zip(pickle.dumps(state, protocol=2)))
    scan = scan_pickle(path)
    assert scan.error is None
    assert set(scan.globals) == {"collections.OrderedDict", "torch._utils._rebuild_tensor_v2"}
    assert all(is_safe_global(name) for name in scan.globals)


def test_legacy_sequence_of_pickles_then_raw_bytes(tmp_path):
    path = tmp_path / "model.pt"
    parts = [pickle.dumps(119547037146038801333356, protocol=2), pickle.dumps({"w": _Payload()})]
    path.write_bytes(b"".join(parts) + b"\x00\x01raw tensor bytes")
    scan = scan_pickle(path)
    assert scan.error is None and any(n.endswith(".system") for n in scan.globals)


def test_nothing_is_executed(tmp_path, monkeypatch):
    calls = []
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(_Payload()))
    monkeypatch.setattr("os.system", lambda *a: calls.append(a))
    scan_pickle(path)
    assert calls == []


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"\x80\x02garbage", "not a decodable pickle"),
        (b"PK\x03\x04broken", "broken zip"),
        (_zip_without_pickle(), "without a .pkl member"),
    ],
    ids=["bad-pickle", "bad-zip", "empty-zip"],
)
def test_unscannable_file_says_why(tmp_path, content, reason):
    path = tmp_path / "pytorch_model.bin"
    path.write_bytes(content)
    scan = scan_pickle(path)
    assert scan.error is not None and reason in scan.error
