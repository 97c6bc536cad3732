"""The pickle opcode scan: globals listed without unpickling, unscannable files never clean."""

from __future__ import annotations

import _compat_pickle
import collections
import io
import pickle
import tarfile
import tracemalloc
import zipfile

import pytest

from scanner.readers.pickle import MAX_NAME_BYTES, SAFE_GLOBALS, is_safe_global, scan_pickle
from tests.pickles import (
    BENIGN,
    HOSTILE,
    TORCH_MAGIC,
    Call,
    Ref,
    dumps,
    legacy_torch,
    scan_verdict,
    state_dict,
    torch_zip,
)


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


def test_legacy_torch_file_is_five_pickles_then_raw_bytes(tmp_path):
    path = tmp_path / "model.pt"
    path.write_bytes(legacy_torch())
    scan = scan_pickle(path)
    assert scan.error is None and scan.streams == 5
    assert all(is_safe_global(name) for name in scan.globals)


def test_legacy_torch_file_missing_pickles_is_not_clean(tmp_path):
    path = tmp_path / "model.pt"
    magic, protocol = pickle.dumps(TORCH_MAGIC, protocol=2), pickle.dumps(1001, protocol=2)
    path.write_bytes(magic + protocol)
    scan = scan_pickle(path)
    assert scan.streams == 2 and "after 2 of its 5 pickles" in scan.error


@pytest.mark.parametrize("fixture", HOSTILE + BENIGN, ids=lambda f: f.name)
def test_fixture_verdicts(tmp_path, fixture):
    path = tmp_path / fixture.file
    path.write_bytes(fixture.build())
    verdict, scan = scan_verdict(path)
    assert verdict == fixture.verdict, scan
    assert set(fixture.unsafe) <= set(scan.globals)
    if fixture.verdict == "clean":
        assert scan.streams >= 1


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


# --- the allowlist --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "torch._utils._rebuild_tensor.__builtins__.get",
        "torch._utils._rebuild_anything",
        "torch.EvilStorage",
        "torch.float",
        "torch.int_",
        "torch.complex_eval",
        "numpy.core.multiarray._reconstruct.__globals__",
    ],
)
def test_only_exact_names_are_safe(name):
    """The allowlist was globs once: each of these matched one."""
    assert not is_safe_global(name)


def test_allowlist_is_stable_under_python2_name_mapping():
    """The unpickler maps Python 2 names (`__builtin__`, `copy_reg`, ...) at protocols < 3
    before importing: no allowlisted name may be mapped to another global."""
    for name in SAFE_GLOBALS:
        module, _, attr = name.rpartition(".")
        mapped = _compat_pickle.NAME_MAPPING.get((module, attr))
        if mapped is None:
            mapped = (_compat_pickle.IMPORT_MAPPING.get(module, module), attr)
        assert ".".join(mapped) in SAFE_GLOBALS, name


# --- streams, memo and bounds -----------------------------------------------------------------


def _scan_bytes(tmp_path, data, name="model.pkl"):
    path = tmp_path / name
    path.write_bytes(data)
    return scan_pickle(path)


def test_memory_follows_the_memo_bound_not_the_file(tmp_path, monkeypatch):
    """A 20 MB pickle of MEMOIZE opcodes once took 1.36 GB; the memo now stops at its bound
    (lowered here so that tracing allocations stays quick)."""
    monkeypatch.setattr("scanner.readers.pickle.MAX_MEMO", 50_000)
    path = tmp_path / "model.pkl"
    path.write_bytes(b"\x80\x04N" + b"\x94" * (20 * 1024 * 1024) + b".")
    tracemalloc.start()
    try:
        scan = scan_pickle(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "more than 50,000 memo entries" in scan.error
    assert peak < 16 * 1024 * 1024


@pytest.mark.parametrize(
    ("bound", "value", "data", "reason"),
    [
        ("MAX_OPCODES", 1000, b"\x80\x02" + b"N0" * 1000 + b"N.", "opcodes"),
        ("MAX_PICKLE_BYTES", 1000, pickle.dumps(list(range(1000)), protocol=2), "MiB"),
        ("MAX_STACK", 100, b"\x80\x02" + b"N" * 101 + b".", "stack entries"),
        ("MAX_STACK", 100, b"\x80\x02" + b"(" * 101 + b"N.", "MARKs"),
    ],
)
def test_past_a_bound_is_not_scanned(tmp_path, monkeypatch, bound, value, data, reason):
    monkeypatch.setattr(f"scanner.readers.pickle.{bound}", value)
    scan = _scan_bytes(tmp_path, data)
    assert scan.error is not None and reason in scan.error
    assert scan.streams == 0


def test_the_byte_bound_counts_every_member_of_a_zip(tmp_path, monkeypatch):
    members = {f"part{i}.pkl": pickle.dumps(list(range(300)), protocol=2) for i in range(4)}
    monkeypatch.setattr("scanner.readers.pickle.MAX_PICKLE_BYTES", 2 * len(members["part0.pkl"]))
    scan = _scan_bytes(tmp_path, torch_zip(members), "pytorch_model.bin")
    assert scan.streams == 2 and "MiB" in scan.error


def test_over_long_names_are_unresolved(tmp_path):
    long = "m" * (MAX_NAME_BYTES + 1)
    data = dumps(Call(Ref(long, "system"), ("x",)), protocol=4)
    assert _scan_bytes(tmp_path, data).globals == ("<unresolved STACK_GLOBAL>",)


def test_over_long_global_lines_are_not_named_safe(tmp_path):
    data = b"c" + b"torch" * 100 + b"\nFloatStorage\n."
    (name,) = _scan_bytes(tmp_path, data).globals
    assert not is_safe_global(name)


def test_get_of_a_memo_entry_never_stored_is_not_scanned(tmp_path):
    scan = _scan_bytes(tmp_path, b"\x80\x04h\x05\x93.")
    assert "never stored" in scan.error


def test_protocol_newer_than_python_is_not_scanned(tmp_path):
    scan = _scan_bytes(tmp_path, bytes([0x80, pickle.HIGHEST_PROTOCOL + 1]) + b"N.")
    assert "newer" in scan.error


def test_a_pickle_split_by_mark_frames_is_modelled_as_the_unpickler_does(tmp_path):
    """STACK_GLOBAL cannot take its module from below a MARK: the unpickler refuses it."""
    data = b"\x80\x04\x8c\x02os(\x8c\x06system\x93."
    scan = _scan_bytes(tmp_path, data)
    assert scan.globals == () and "too short" in scan.error


def test_tar_archive_is_not_scanned(tmp_path):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo("pickle")
        info.size = 2
        archive.addfile(info, io.BytesIO(b"N."))
    scan = _scan_bytes(tmp_path, buffer.getvalue(), "model.pt")
    assert "tar archive" in scan.error


def test_corrupt_zip_member_is_not_scanned(tmp_path):
    data = bytearray(torch_zip({"data.pkl": dumps(state_dict())}))
    start = data.index(b"archive/data.pkl") + len("archive/data.pkl") + 20
    data[start : start + 8] = b"\xff" * 8
    scan = _scan_bytes(tmp_path, bytes(data), "pytorch_model.bin")
    assert scan.error is not None
