"""`aiscan scan PROJECT`: packages beside models, the graph, declared-only, --pypi, shadow AI."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from tests.conftest import (
    GPL3_OPENING,
    component,
    findings,
    make_model_dir,
    make_venv,
    run_cli,
    scan_json,
)
from tests.readers.python.test_environment import write_dist


@pytest.fixture
def project(tmp_path) -> Path:
    """A project with its own .venv, requirements, a lock entry not installed and code."""
    root = tmp_path / "proj"
    root.mkdir()
    _, site = make_venv(root / ".venv")
    write_dist(site, "app-lib", "1.0", "License-Expression: MIT", "Requires-Dist: helper[fast]")
    write_dist(
        site,
        "helper",
        "2.0",
        "License: GPLv3+",
        "Requires-Dist: speedup; extra == 'fast'",
        "Requires-Dist: winonly; sys_platform == 'win32'",
    )
    write_dist(site, "speedup", "3.0", "Classifier: License :: OSI Approved :: BSD License")
    write_dist(site, "devtool", "0.1", "License: Custom terms")
    (root / "requirements.txt").write_text("app-lib==1.0\nbroken line ===\n")
    (root / "uv.lock").write_text(
        'version = 1\n[[package]]\nname = "proj"\nversion = "0"\nsource = { virtual = "." }\n'
        'dependencies = [{ name = "app-lib" }, { name = "remote-only" }]\n'
        '[[package]]\nname = "remote-only"\nversion = "4.0"\n'
        'source = { registry = "https://pypi.org/simple" }\n'
    )
    (root / "train.py").write_text(
        "from transformers import AutoModel\n"
        "m = AutoModel.from_pretrained('org/shadow-model', trust_remote_code=True)\n"
        "d = AutoModel.from_pretrained('org/declared', revision='0123456789abcdef0123456789abcdef01234567')\n"
    )
    (root / "aiscan.lock").write_text(
        json.dumps(
            {
                "schema": "aiscan-lock/1",
                "components": [
                    {"ref": "model:hf/org/declared", "name": "org/declared", "files": []}
                ],
            }
        )
    )
    return root


def test_project_scan_reports_libraries_beside_models(project):
    make_model_dir(project / "models", "bert")
    result, report = scan_json(project)
    libraries = {c["name"]: c for c in report["components"] if c["type"] == "library"}
    assert set(libraries) == {"app-lib", "helper", "speedup", "devtool", "remote-only"}
    app = libraries["app-lib"]
    assert app["purl"] == "pkg:pypi/app-lib@1.0"
    assert app["direct"] is True and app["license"]["effective"] == "MIT"
    assert app["depends_on"] == ["library:pypi/helper@2.0"]
    assert "requirements.txt:1" in app["declared_in"]
    assert libraries["helper"]["direct"] is False
    assert libraries["helper"]["depends_on"] == ["library:pypi/speedup@3.0"]  # extra propagated
    assert libraries["helper"]["license"]["effective"] == "GPL-3.0-or-later"
    assert libraries["devtool"]["direct"] is None
    remote = libraries["remote-only"]
    assert remote["declared_only"] is True and remote["license"]["effective"] is None
    assert remote["source"] == "lockfile"
    assert component(report, "models/bert")["type"] == "model"
    # Findings: unknown licenses, a broken requirements line, shadow AI and its options.
    rules = {(f["rule"], f["component"]) for f in report["findings"]}
    assert ("dependency.license-unknown", "library:pypi/devtool@0.1") in rules
    assert ("dependency.license-unknown", "library:pypi/remote-only@4.0") in rules
    assert ("scan.unreadable", "file:requirements/requirements.txt") in rules
    shadow = "model:code/org/shadow-model#train.py:2"
    assert ("provenance.undeclared-model", shadow) in rules
    assert ("provenance.remote-code", shadow) in rules
    assert ("provenance.unpinned-revision", shadow) in rules
    declared = "model:code/org/declared#train.py:3"
    assert not [f for f in report["findings"] if f["component"] == declared]
    code = component(report, "org/shadow-model")
    assert code["source"] == "code" and code["code_reference"]["trust_remote_code"] is True
    assert code["location"].endswith("train.py:2")
    assert result.exit_code == 1  # scan.unreadable is an error


def test_package_license_files_recognised_as_a_license_are_recorded(tmp_path):
    root = tmp_path / "proj"
    root.mkdir()
    _, site = make_venv(root / ".venv")
    write_dist(
        site,
        "gpl-lib",
        "1.0",
        "License-Expression: GPL-3.0-only",
        "License-File: COPYING",
        "License-File: AUTHORS",
        files={"licenses/COPYING": GPL3_OPENING, "licenses/AUTHORS": "Jane Doe\n"},
    )
    (root / "requirements.txt").write_text("gpl-lib==1.0\n")
    _, report = scan_json(root)
    assert component(report, "gpl-lib")["license_texts"] == [
        {"file": "COPYING", "licenses": ["gpl-3.0"], "text": GPL3_OPENING}
    ]


def test_policy_denies_strong_copyleft(project, monkeypatch):
    (project / "aiscan.yaml").write_text(
        "dependencies:\n  deny_categories: [strong-copyleft]\n  deny: [MIT]\n"
    )
    monkeypatch.chdir(project)
    _, report = scan_json(".")
    denied = {f["component"] for f in findings(report, "dependency.license-denied")}
    assert denied == {"library:pypi/helper@2.0", "library:pypi/app-lib@1.0"}


def test_source_flags(project, tmp_path):
    _, report = scan_json(project, args=["--no-env", "--no-code"])
    libraries = {c["name"]: c for c in report["components"] if c["type"] == "library"}
    assert set(libraries) == {"app-lib", "remote-only"}
    assert all(c["declared_only"] for c in libraries.values())
    assert not [c for c in report["components"] if c["source"] == "code"]
    _, report = scan_json(project, args=["--no-deps", "--no-env"])
    assert not [c for c in report["components"] if c["type"] == "library"]
    python, site = make_venv(tmp_path / "other")
    write_dist(site, "elsewhere", "9.0", "License-Expression: Apache-2.0")
    _, report = scan_json(project, args=["--python", python, "--no-code"])
    assert "elsewhere" in {c["name"] for c in report["components"]}
    result = run_cli("scan", project, "--python", python, "--no-env")
    assert result.exit_code == 2
    result = run_cli("scan", project, "--python", tmp_path / "missing")
    assert result.exit_code == 2


def test_table_shows_libraries_and_models(project):
    result = run_cli("scan", project, "--no-code")
    assert result.exit_code in (0, 1)
    assert "library" in result.stdout and "app-lib" in result.stdout


class _FakeIndex(BaseHTTPRequestHandler):
    requests: ClassVar[list[str]] = []

    def do_GET(self):
        type(self).requests.append(self.path)
        if self.path == "/pypi/remote-only/4.0/json":
            body = json.dumps({"info": {"license_expression": "BSD-3-Clause", "classifiers": []}})
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body.encode())
        else:
            self.send_response(404)
            self.end_headers()

    def log_message(self, *args):
        pass


def test_pypi_fills_in_declared_only_licenses_with_a_cache(project, tmp_path, monkeypatch):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeIndex)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        monkeypatch.setenv("AISCAN_PYPI_URL", url)
        monkeypatch.setenv("AISCAN_CACHE_DIR", str(tmp_path / "cache"))
        _FakeIndex.requests = []
        for _ in range(2):
            _, report = scan_json(project, args=["--pypi", "--no-code"])
            remote = component(report, "remote-only")
            assert remote["license"]["effective"] == "BSD-3-Clause"
            assert remote["declared_only"] is True
            assert any(e["source"].startswith("PyPI") for e in remote["license"]["evidence"])
        assert _FakeIndex.requests == ["/pypi/remote-only/4.0/json"]  # second run: cache
    finally:
        server.shutdown()


def test_bad_project_files_never_crash(tmp_path):
    root = tmp_path / "bad"
    root.mkdir()
    (root / "pyproject.toml").write_text("[tool.other]\nx = 1\n[project\n")
    (root / "requirements.txt").write_text("-r requirements.txt\n")
    (root / "poetry.lock").write_text('[metadata]\nlock-version = "99"\n')
    (root / "old.py").write_text("print 'x'\nfrom_pretrained('a/b')\n")
    _, report = scan_json(root, args=["--no-env"])
    messages = " ".join(f["message"] for f in findings(report, "scan.unreadable"))
    assert "invalid TOML" in messages
    assert "circular -r include" in messages
    assert "lock-version" in messages
    assert "not valid Python 3" in messages


def test_the_activated_virtual_environment_is_read_and_named(tmp_path):
    """Inside an activated venv, `aiscan scan .` reads it (as files) like pip-licenses does,
    and says which environment that was; --no-env reads none."""
    active = tmp_path / "elsewhere-venv"
    _, site = make_venv(active)
    write_dist(site, "active-only", "1.0", "License-Expression: MIT", "Requires-Dist: its-dep")
    write_dist(site, "its-dep", "2.0", "License-Expression: BSD-3-Clause")
    write_dist(site, "aiscan-itself", "0.1", "License-Expression: Apache-2.0")  # not the project's
    root = tmp_path / "proj"
    root.mkdir()
    (root / "requirements.txt").write_text("active-only\n")
    result = run_cli("scan", root, "--format", "json", env={"VIRTUAL_ENV": str(active)})
    report = json.loads(result.stdout)
    lib = component(report, "active-only")
    assert lib["version"] == "1.0" and lib["license"]["effective"] == "MIT"
    libraries = {c["name"] for c in report["components"] if c["type"] == "library"}
    assert libraries == {"active-only", "its-dep"}  # what the project pulls in, nothing else
    assert f"active virtual environment {active}" in result.stderr
    code_only = tmp_path / "scripts"
    code_only.mkdir()
    (code_only / "run.py").write_text("print('hello')\n")
    quiet = run_cli("scan", code_only, "--format", "json", env={"VIRTUAL_ENV": str(active)})
    assert not [c for c in json.loads(quiet.stdout)["components"] if c["type"] == "library"]
    assert "active virtual environment" not in quiet.stderr
    ignored = run_cli(
        "scan", root, "--format", "json", "--no-env", env={"VIRTUAL_ENV": str(active)}
    )
    assert component(json.loads(ignored.stdout), "active-only")["version"] is None
    assert "active virtual environment" not in ignored.stderr


def test_pip_index_url_is_honoured_and_index_failures_are_reported(project, tmp_path, monkeypatch):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeIndex)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setenv("PIP_INDEX_URL", f"http://127.0.0.1:{server.server_address[1]}/simple/")
        monkeypatch.setenv("AISCAN_CACHE_DIR", str(tmp_path / "cache"))
        (project / "requirements.txt").write_text("app-lib==1.0\nunpinned-pkg\nmissing-pkg==2.0\n")
        _, report = scan_json(project, args=["--pypi", "--no-code", "--no-env"])
        assert component(report, "remote-only")["license"]["effective"] == "BSD-3-Clause"
        messages = {
            f["message"].split(" ")[0]: f["message"]
            for f in findings(report, "dependency.license-unknown")
        }
        assert "HTTP 404" in messages["missing-pkg"] and "(--pypi)" not in messages["missing-pkg"]
        assert "no pinned version" in messages["unpinned-pkg"]
    finally:
        server.shutdown()
