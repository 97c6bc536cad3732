"""The SQLite hash cache: keyed by file identity, rebuilt when corrupt, bypassable."""

from __future__ import annotations

from pathlib import Path

from scanner.integrity.cache import CACHE_FILE, HashCache, default_cache_dir
from scanner.integrity.hashing import FileIdentity

IDENTITY = FileIdentity(device=1, inode=2, size=3, mtime_ns=4, ctime_ns=5)


def test_round_trip_and_identity_key(tmp_path):
    warnings: list[str] = []
    cache = HashCache.open(tmp_path, warnings)
    assert cache is not None and warnings == []
    cache.put(IDENTITY, "a" * 64, None)
    cache.close()
    cache = HashCache.open(tmp_path, warnings)
    assert cache.get(IDENTITY) == ("a" * 64, None)
    changed_ctime = FileIdentity(1, 2, 3, 4, 6)
    assert cache.get(changed_ctime) is None
    cache.close()


def test_corrupt_cache_is_rebuilt_with_a_warning(tmp_path):
    (tmp_path / CACHE_FILE).write_bytes(b"this is not a database" * 100)
    warnings: list[str] = []
    cache = HashCache.open(tmp_path, warnings)
    assert cache is not None
    assert any("corrupt" in w for w in warnings)
    cache.put(IDENTITY, "b" * 64, "c" * 40)
    assert cache.get(IDENTITY) == ("b" * 64, "c" * 40)
    cache.close()


def test_unusable_cache_folder_disables_the_cache(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    warnings: list[str] = []
    assert HashCache.open(blocker / "sub", warnings) is None
    assert warnings and "disabled" in warnings[0]


def test_cache_dir_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv("AISCAN_CACHE_DIR", str(tmp_path / "explicit"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "explicit"
    monkeypatch.delenv("AISCAN_CACHE_DIR")
    assert default_cache_dir() == tmp_path / "xdg" / "aiscan"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert default_cache_dir() == Path.home() / ".cache" / "aiscan"
