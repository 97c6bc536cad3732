"""The terminal table: licenses, weights facts and verification state per component."""

from __future__ import annotations

from tests.conftest import make_model_dir, run_cli


def test_verify_table_counts_verified_files(tmp_path, monkeypatch):
    monkeypatch.setenv("AISCAN_CACHE_DIR", str(tmp_path / "cache"))
    folder = make_model_dir(tmp_path, "m", card={"license": "apache-2.0"})
    lock = tmp_path / "aiscan.lock"
    assert run_cli("lock", folder, "-o", lock).exit_code == 0
    result = run_cli("verify", folder, "--lock", lock)
    assert result.exit_code == 0
    assert "2/2 files verified" in result.stdout
    assert "Effective license" not in result.stdout  # verify reads bytes, not licenses

    (folder / "model.safetensors").write_bytes(
        (folder / "model.safetensors").read_bytes()[:-1] + b"\x01"
    )
    tampered = run_cli("verify", folder, "--lock", lock)
    assert tampered.exit_code == 1
    assert "1/2 files verified, 1 mismatched" in tampered.stdout


def test_scan_table_shows_licenses_and_does_not_claim_verification(tmp_path):
    result = run_cli("scan", make_model_dir(tmp_path, "m"))
    assert "verified" not in result.stdout
    assert "apache-2.0" in result.stdout and "permissive" in result.stdout


def test_each_finding_row_shows_its_own_severity(tmp_path):
    folder = make_model_dir(tmp_path, "m", card={"license": "cc-by-nc-4.0"})
    rows = [
        line.strip("│ ").split("│")
        for line in run_cli("scan", folder).stdout.splitlines()
        if "license." in line and line.startswith("│")
    ]
    labels = {cells[1].strip(): cells[0].strip() for cells in rows}
    assert labels["license.noncommercial"] == "error"
    assert labels["license.obligation"] == "note"


def test_verify_says_how_many_digests_came_from_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("AISCAN_CACHE_DIR", str(tmp_path / "cache"))
    folder = make_model_dir(tmp_path, "m")
    first = run_cli("verify", folder)
    assert "hashed: 2 file(s), 0 of them from the hash cache" in first.stdout
    again = run_cli("verify", folder)
    assert "hashed: 2 file(s), 2 of them from the hash cache" in again.stdout
    assert "(2 from the hash cache)" in again.stdout
    assert "0 of them" in run_cli("verify", folder, "--rehash").stdout


def test_control_characters_and_markup_from_a_stranger_never_reach_the_terminal(tmp_path):
    """OSC 0 (window title), OSC 8 (hyperlink), ESC[2J (clear screen) and rich markup in a
    folder name and a card's base_model are shown escaped, in colour and without."""
    evil = "x\x1b]0;pwned\x07\x1b]8;;http://evil.example\x1b\\y\x1b[2J[link=http://e]z[/link]"
    folder = make_model_dir(tmp_path, evil, card={"license": "mit", "base_model": f"a/{evil}"})
    for args in ((), ("--format", "table")):
        out = run_cli("scan", folder, *args).stdout
        assert "\x1b]" not in out and "\x1b[2J" not in out and "\x07" not in out
        assert "\\x1b]0;pwned\\x07" in "".join(out.split())
    from scanner.files import printable

    assert printable("ok\tline\nnext") == "ok\tline\nnext"
    assert printable("\x9b2J") == "\\x9b2J"
