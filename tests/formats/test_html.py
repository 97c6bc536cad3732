"""The HTML report, rendered by a real headless Chromium (Debian's `chromium` package)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.conftest import make_model_dir, run_cli

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SECTIONS = (
    "Summary",
    "Models and datasets",
    "Dependencies by license category",
    "Findings",
    "Waivers",
)
SCRIPT = "<script>alert(1)</script>"
IMAGE = "<img src=x onerror=alert(1)>"


def chromium(*args: str) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium the way this sandbox allows (no network, fresh profile)."""
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (.ci/run installs Debian's chromium package)")
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={profile}",
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


@pytest.fixture
def hostile_report(tmp_path) -> Path:
    """A report over a card whose fields carry HTML and script payloads."""
    store = tmp_path / "store"
    make_model_dir(
        store, "hostile", card={"license": IMAGE, "base_model": SCRIPT, "datasets": [SCRIPT]}
    )
    make_model_dir(store, "llama", card={"license": "llama3"})
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "waivers:\n- rule: license.unresolved\n  component: hostile\n  reason: reviewed by legal\n"
    )
    output = tmp_path / "report.html"
    result = run_cli("report", store, "--policy", policy, "-o", output)
    assert result.exit_code in (0, 1)
    assert output.is_file()
    return output


def test_report_is_self_contained_and_escapes_card_text(hostile_report):
    html = hostile_report.read_text(encoding="utf-8")
    assert "<script" not in html.lower()
    assert "<img" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "src=" not in html.replace("&lt;img src=x", "")
    assert "http://" not in html.split("<body>")[0] and "https://" not in html.split("<body>")[0]
    assert "<link" not in html and "@import" not in html
    for section in SECTIONS:
        assert f"<h2>{section}</h2>" in html
    assert "Built with Meta Llama 3" in html
    assert "reviewed by legal" in html


def test_chromium_renders_the_report_with_hostile_text_as_text(hostile_report, tmp_path):
    dom = chromium("--dump-dom", hostile_report.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    page = dom.stdout
    for section in SECTIONS:
        assert f"<h2>{section}</h2>" in page
    # The browser parsed the page: the payloads are text nodes, not elements.
    assert "<script" not in page.lower()
    assert "<img" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page

    screenshot = tmp_path / "report.png"
    shot = chromium(
        "--window-size=1200,1600", f"--screenshot={screenshot}", hostile_report.as_uri()
    )
    assert shot.returncode == 0, shot.stderr[-2000:]
    data = screenshot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    width = int.from_bytes(data[16:20], "big")
    height = int.from_bytes(data[20:24], "big")
    assert (width, height) == (1200, 1600)
    assert len(data) > 20_000  # a blank page compresses to a few KiB; the report does not


def test_examples_report_from_saved_json(tmp_path):
    saved = tmp_path / "report.json"
    scan = run_cli(
        "scan", "examples", "--policy", "examples/aiscan.yaml", "--format", "json", "-o", saved
    )
    assert scan.exit_code == 0
    output = tmp_path / "from-json.html"
    result = run_cli("report", "--from", saved, "-o", output)
    assert result.exit_code == 0
    html = output.read_text(encoding="utf-8")
    assert "models/llama3-finetune" in html and "Built with Meta Llama 3" in html
    assert "Used only in the internal research demo" in html  # the examples' waiver


def test_report_needs_targets_or_from(tmp_path):
    result = run_cli("report", "-o", tmp_path / "r.html")
    assert result.exit_code == 2
    assert result.stderr.startswith("aiscan: error:")


def test_licenses_are_explained_from_the_knowledge_base_passed_in(kb):
    """The format loads no knowledge base of its own: the caller's is the one it shows."""
    import dataclasses

    from scanner.formats.html import HtmlFormat
    from scanner.inventory import Component, LicenseFacts, ScanResult
    from scanner.licensing.knowledge_base import LicenseKnowledgeBase

    renamed = dataclasses.replace(kb["llama3"], name="Licence Named Only In This Test")
    model = Component(
        ref="model:local/m",
        type="model",
        name="m",
        source="modeldir",
        location="m",
        license=LicenseFacts(effective="llama3", category="restricted"),
    )
    result = ScanResult("0", ("m",), (model,), ())
    html = HtmlFormat().render(result, LicenseKnowledgeBase([renamed]))
    assert "Licence Named Only In This Test" in html
    assert kb["llama3"].name not in html


def test_the_first_screen_says_what_needs_action(tmp_path):
    """Laid out by Chromium at 1200x900, the status block (what fails, what to review, what
    is waived until when) ends within the first screen and comes before any detail."""
    store = tmp_path / "store"
    make_model_dir(store, "nc", card={"license": "cc-by-nc-4.0"})
    make_model_dir(store, "llama", card={"license": "llama3"})
    make_model_dir(store, "ok", card={"license": "apache-2.0"})
    report = tmp_path / "report.html"
    assert run_cli("report", store, "-o", report).exit_code == 0
    html = report.read_text(encoding="utf-8")
    assert html.index('id="status"') < html.index('id="summary"') < html.index('id="models"')
    assert "Needs action: 1 finding fails the policy" in html
    assert "1 fail the policy · 0 to review · 2 pass" in html
    assert html.count("license.obligation") == 0  # obligations: once, in each license's table
    assert "not computed for this report" in html
    probe = tmp_path / "probe.html"
    probe.write_text(
        f'<iframe id="r" src="{report.as_uri()}" style="width:1200px;height:900px;border:0">'
        "</iframe><script>document.getElementById('r').onload = () => {"
        "const doc = document.getElementById('r').contentDocument;"
        "const box = doc.getElementById('status').getBoundingClientRect();"
        "document.body.dataset.bottom = Math.round(box.bottom);"
        "document.body.dataset.title = doc.querySelector('#status h2').textContent; };"
        "</script>",
        encoding="utf-8",
    )
    dom = chromium(
        "--allow-file-access-from-files",
        "--virtual-time-budget=10000",
        "--window-size=1220,940",
        "--dump-dom",
        probe.as_uri(),
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    bottom = int(dom.stdout.split('data-bottom="')[1].split('"')[0])
    assert 0 < bottom <= 900
    assert 'data-title="Needs action' in dom.stdout
