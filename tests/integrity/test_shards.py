"""Shard index checks: every shard present, every tensor where the index says, sizes adding up."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file

from scanner.integrity.shards import check_index
from scanner.inventory import FileEntry
from scanner.readers.safetensors import read_header

INDEX = "model.safetensors.index.json"


def _sharded(folder: Path) -> dict[str, str]:
    folder.mkdir(parents=True, exist_ok=True)
    save_file({"a": np.zeros(4, np.float32), "b": np.ones(2, np.int64)}, folder / "s1.safetensors")
    save_file({"c": np.zeros((2, 2), np.float16)}, folder / "s2.safetensors")
    weight_map = {"a": "s1.safetensors", "b": "s1.safetensors", "c": "s2.safetensors"}
    _write_index(folder, weight_map, 4 * 4 + 2 * 8 + 4 * 2)
    return weight_map


def _write_index(folder: Path, weight_map: dict[str, str], total: object) -> None:
    document = {"metadata": {"total_size": total}, "weight_map": weight_map}
    (folder / INDEX).write_text(json.dumps(document))


def _files(folder: Path) -> dict[str, FileEntry]:
    entries = {}
    for path in folder.iterdir():
        header = read_header(path) if path.suffix == ".safetensors" else None
        entries[path.name] = FileEntry(path.name, path.stat().st_size, "other", header=header)
    return entries


def _kinds(folder: Path) -> list[tuple[str, str]]:
    return [(d.kind, d.message) for d in check_index(folder, INDEX, _files(folder))]


def test_consistent_index_has_no_defect(tmp_path):
    _sharded(tmp_path)
    assert _kinds(tmp_path) == []


def test_missing_shard(tmp_path):
    _sharded(tmp_path)
    (tmp_path / "s2.safetensors").unlink()
    assert [k for k, _ in _kinds(tmp_path)] == ["missing-shard"]


def test_tensor_in_the_wrong_shard_and_unlisted_tensor(tmp_path):
    weight_map = _sharded(tmp_path)
    weight_map["c"] = "s1.safetensors"
    _write_index(tmp_path, weight_map, 40)
    kinds = _kinds(tmp_path)
    assert ("missing-shard", kinds[0][1]) in kinds
    assert any("lacks 1 tensor" in m for _, m in kinds)


def test_shard_holding_tensors_the_index_omits(tmp_path):
    weight_map = _sharded(tmp_path)
    del weight_map["b"]
    _write_index(tmp_path, weight_map, 40)
    messages = [m for k, m in _kinds(tmp_path) if k == "malformed"]
    assert any("does not list" in m for m in messages)


def test_total_size_mismatch(tmp_path):
    weight_map = _sharded(tmp_path)
    _write_index(tmp_path, weight_map, 41)
    assert [k for k, _ in _kinds(tmp_path)] == ["malformed"]


def test_shard_outside_the_folder_and_bad_json(tmp_path):
    weight_map = _sharded(tmp_path)
    weight_map["c"] = "../elsewhere.safetensors"
    _write_index(tmp_path, weight_map, 40)
    assert any("outside" in m for _, m in _kinds(tmp_path))
    (tmp_path / INDEX).write_text("{not json")
    assert [k for k, _ in _kinds(tmp_path)] == ["malformed"]
