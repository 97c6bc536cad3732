"""Markdown PR summary: counts, errors first, folded details, escaped card text."""

from __future__ import annotations

from tests.conftest import make_model_dir, run_cli


def test_summary_lists_errors_before_folded_notes(tmp_path):
    make_model_dir(tmp_path / "m", "nc", card={"license": "cc-by-nc-4.0"})
    make_model_dir(tmp_path / "m", "ok", card={"license": "apache-2.0"})
    result = run_cli("scan", tmp_path / "m", "--format", "markdown")
    assert result.exit_code == 1
    text = result.stdout
    assert text.startswith("## aiscan: ❌ failing")
    assert "**1** error(s)" in text
    errors_at = text.index("### Errors")
    assert "license.noncommercial" in text[errors_at : text.index("<details>")]
    assert "<details><summary>Notes (" in text
    assert text.index("### Errors") < text.index("<details><summary>Notes")


def test_card_derived_text_cannot_inject_html(tmp_path):
    make_model_dir(tmp_path, "evil", card={"license": "<script>alert(1)</script>"})
    text = run_cli("scan", tmp_path / "evil", "--format", "markdown").stdout
    assert "<script>" not in text
    assert "\\<script\\>" in text


def test_summary_is_appended_once_whatever_the_format(tmp_path):
    folder = make_model_dir(tmp_path, card={"license": "apache-2.0"})
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    env = {"GITHUB_STEP_SUMMARY": str(summary)}
    sarif = tmp_path / "aiscan.sarif"
    result = run_cli("scan", folder, "-f", "sarif", "-o", sarif, "--summary", summary, env=env)
    assert result.exit_code == 0 and sarif.is_file()
    written = summary.read_text()
    assert written.startswith("earlier step\n")
    assert written.count("## aiscan: ✅ passing") == 1
    run_cli("scan", folder, "--format", "markdown", env=env)  # no --summary: nothing appended
    assert summary.read_text() == written


def test_card_text_cannot_load_images_or_ping_people(tmp_path):
    hostile = "![t](http://evil.example/track.png) @octocat #1 [x](http://e) \x1b[2J"
    folder = make_model_dir(tmp_path, card={"license": hostile})
    out = run_cli("scan", folder, "--format", "markdown").stdout
    assert "![t](" not in out and "](http" not in out
    assert "@octocat" not in out and "\\@<!-- -->octocat" in out
    assert "\x1b" not in out
