"""The trust model: nothing from a scanned tree is executed, nothing outside it is read, and no
secret reaches a report, a cache path or an error line.

Each case is an attack from the red-team round (issue "Hostile inputs"), built by code.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests import fakehub
from tests.conftest import (
    component,
    findings,
    make_hf_cache,
    make_model_dir,
    model_repo_files,
    run_cli,
    scan_json,
)
from tests.readers.python.test_environment import write_dist

fake_hub = fakehub.fake_hub
impatient = fakehub.impatient

SECRET = "hf_s3cr3t_T0KEN_value"


def _booby_trapped_venv(project: Path, marker: Path) -> Path:
    """A `.venv` whose `bin/python` records that it ran, and the environment it was given."""
    venv = project / ".venv"
    site = venv / "lib" / "python3.11" / "site-packages"
    site.mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\nversion = 3.11.7\n")
    python = venv / "bin" / "python"
    python.parent.mkdir()
    python.write_text(f"#!/bin/sh\nenv > {marker}\necho '{{}}'\n")
    python.chmod(0o755)
    write_dist(site, "alpha", "1.0", "License-Expression: MIT", "Requires-Dist: beta")
    write_dist(site, "beta", "2.0", "License: Apache 2.0")
    return venv


@pytest.mark.parametrize("verb", ["scan", "bom", "report", "notice"])
def test_a_projects_own_interpreter_is_never_run(tmp_path, verb):
    project = tmp_path / "project"
    project.mkdir()
    (project / "requirements.txt").write_text("alpha\n")
    marker = tmp_path / "ran"
    _booby_trapped_venv(project, marker)
    out = tmp_path / "out"
    out.mkdir()
    extra = {"scan": ["--format", "json"], "bom": [], "report": ["-o", out / "r.html"]}
    extra["notice"] = ["-o", out / "notice"]
    result = run_cli(verb, project, *extra[verb], env={"HF_TOKEN": SECRET})
    assert result.exit_code in (0, 1), result.stderr
    assert not marker.exists(), "the scanned project's .venv/bin/python was executed"
    if verb == "scan":
        report = json.loads(result.stdout)
        alpha = component(report, "alpha")
        assert alpha["license"]["effective"] == "MIT"
        assert alpha["source"] == "python-env"
        assert component(report, "beta")["license"]["effective"] == "Apache-2.0"


def test_venv_markers_come_from_pyvenv_cfg(tmp_path):
    from scanner.readers.python.environment import read_virtualenv

    venv = tmp_path / ".venv"
    site = venv / "lib" / "python3.9" / "site-packages"
    site.mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("implementation = PyPy\nversion_info = 3.9.18.final.0\n")
    write_dist(site, "alpha", "1.0")
    environment = read_virtualenv(venv, str(tmp_path))
    assert environment.markers["python_version"] == "3.9"
    assert environment.markers["python_full_version"] == "3.9.18"
    assert environment.markers["implementation_name"] == "pypy"
    assert [d.name for d in environment.distributions] == ["alpha"]


def test_metadata_linked_out_of_the_tree_is_not_read(tmp_path):
    from scanner.readers.python.environment import read_virtualenv

    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "METADATA").write_text(f"Name: leak\nVersion: 1\nLicense: {SECRET}\n")
    project = tmp_path / "project"
    site = project / ".venv" / "lib" / "python3.11" / "site-packages"
    dist = site / "leak-1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").symlink_to(outside / "METADATA")
    environment = read_virtualenv(project / ".venv", str(project))
    assert SECRET not in repr(environment)


def test_a_named_interpreter_runs_with_a_scrubbed_environment(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    (project / "requirements.txt").write_text("alpha\n")
    marker = tmp_path / "env-seen"
    wrapper = tmp_path / "python"
    wrapper.write_text(f'#!/bin/sh\nenv > {marker}\nexec {sys.executable} "$@"\n')
    wrapper.chmod(0o755)
    secrets = {
        "HF_TOKEN": SECRET,
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "GITHUB_TOKEN": SECRET,
        "PYTHONPATH": str(tmp_path),
    }
    result = run_cli("scan", project, "--python", wrapper, "--format", "json", env=secrets)
    assert result.exit_code in (0, 1), result.stderr
    seen = marker.read_text()
    assert "PATH=" in seen
    assert SECRET not in seen and "PYTHONPATH" not in seen


def _report_and_notice(target: Path, out: Path) -> str:
    result = run_cli("scan", target, "--format", "json")
    notice = run_cli("notice", target, "-o", out)
    assert notice.exit_code in (0, 1), notice.stderr
    bundle = "".join(p.read_text(errors="replace") for p in out.rglob("*") if p.is_file())
    return result.stdout + result.stderr + bundle


def test_notice_linked_to_a_secret_is_a_finding_never_a_leak(tmp_path):
    secret_file = tmp_path / "environ"
    secret_file.write_text(f"HF_TOKEN={SECRET}\n")
    folder = make_model_dir(tmp_path / "store")
    (folder / "NOTICE").symlink_to(secret_file)
    (folder / "LICENSE").symlink_to(secret_file)
    everything = _report_and_notice(tmp_path / "store", tmp_path / "bundle")
    assert SECRET not in everything
    _, report = scan_json(tmp_path / "store")
    hits = findings(report, "scan.link-outside-target")
    assert {Path(h["evidence"]["location"]).name for h in hits} == {"NOTICE", "LICENSE"}
    assert all(h["severity"] == "error" for h in hits)
    assert report["summary"]["exit_code"] == 1
    assert {f["path"] for f in component(report)["files"]} == {"README.md", "model.safetensors"}


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs /proc")
def test_proc_self_environ_never_reaches_the_report(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", SECRET)
    folder = make_model_dir(tmp_path / "store")
    (folder / "NOTICE").symlink_to("/proc/self/environ")
    assert SECRET not in _report_and_notice(tmp_path / "store", tmp_path / "bundle")


@pytest.mark.parametrize("where", ["inside-model", "beside-models"])
def test_folder_links_out_of_the_target_are_not_walked(tmp_path, where):
    store = tmp_path / "store"
    folder = make_model_dir(store)
    base = folder if where == "inside-model" else store
    (base / "escape").symlink_to("/")
    (base / "etc").symlink_to("/etc")
    started = time.monotonic()
    _, report = scan_json(store)
    assert time.monotonic() - started < 30, "the walk followed a link to /"
    hits = findings(report, "scan.link-outside-target")
    assert {Path(h["evidence"]["location"]).name for h in hits} == {"escape", "etc"}
    paths = {f["path"] for c in report["components"] for f in c["files"]}
    assert not any(p.startswith(("escape", "etc")) for p in paths)


def test_links_inside_the_target_are_still_followed(tmp_path):
    store = tmp_path / "store"
    folder = make_model_dir(store, "real")
    (store / "alias").symlink_to(folder / "model.safetensors")
    (folder / "weights-copy.safetensors").symlink_to("model.safetensors")
    _, report = scan_json(store)
    assert not findings(report, "scan.link-outside-target")
    paths = {f["path"] for f in component(report, "real")["files"]}
    assert "weights-copy.safetensors" in paths


def test_a_snapshot_alone_still_follows_its_blob_links(tmp_path):
    repo, commit = make_hf_cache(tmp_path / "hub", "acme/m", model_repo_files("mit"))
    result = run_cli("verify", repo / "snapshots" / commit, "--format", "json")
    report = json.loads(result.stdout)
    assert not findings(report, "scan.link-outside-target")
    files = {f["path"]: f for c in report["components"] for f in c["files"]}
    assert files["model.safetensors"]["sha256"]


def test_cache_snapshot_folder_linked_to_root_is_not_globbed(tmp_path):
    hub = tmp_path / "hub"
    repo, _ = make_hf_cache(hub, "acme/m", model_repo_files("mit"))
    (repo / "snapshots" / ("e" * 40)).symlink_to("/")
    (repo / "refs" / "evil").symlink_to("/etc/hostname")
    started = time.monotonic()
    _, report = scan_json(hub)
    assert time.monotonic() - started < 30
    locations = {Path(h["evidence"].get("location", "")).name for h in report["findings"]}
    assert {"e" * 40, "evil"} <= locations
    assert all(
        f["rule"] == "scan.link-outside-target"
        for f in report["findings"]
        if Path(f["evidence"].get("location", "")).name in {"e" * 40, "evil"}
    )


def test_requirements_include_out_of_the_project_is_not_read(tmp_path):
    (tmp_path / "secret.txt").write_text(f"{SECRET}==1 ; not valid at all ((\n")
    project = tmp_path / "project"
    project.mkdir()
    (project / "requirements.txt").write_text("-r ../secret.txt\nalpha\n")
    (project / "requirements-dev.txt").symlink_to(tmp_path / "secret.txt")
    _, report = scan_json(project, args=["--no-env"])
    assert SECRET not in json.dumps(report)
    hits = findings(report, "scan.link-outside-target")
    assert len(hits) == 2, report["findings"]


def test_source_file_linked_out_of_the_project_is_not_read(tmp_path):
    (tmp_path / "secret.py").write_text(f'from_pretrained("{SECRET}/model")\n')
    project = tmp_path / "project"
    project.mkdir()
    (project / "app.py").write_text('AutoModel.from_pretrained("acme/model")\n')
    (project / "leak.py").symlink_to(tmp_path / "secret.py")
    _, report = scan_json(project, args=["--no-env"])
    assert SECRET not in json.dumps(report)
    assert findings(report, "scan.link-outside-target")


def test_fifos_are_problems_never_opened(tmp_path):
    folder = make_model_dir(tmp_path / "store")
    for name in ("NOTICE", "pytorch_model.bin", "LICENSE"):
        os.mkfifo(folder / name)
    started = time.monotonic()
    _, report = scan_json(tmp_path / "store")
    assert time.monotonic() - started < 30
    messages = " ".join(f["message"] for f in findings(report, "scan.unreadable"))
    assert messages.count("FIFO") == 3


class _Index(BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"info": {"license_expression": "MIT", "classifiers": []}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_pypi_cache_paths_are_never_chosen_by_input(tmp_path, monkeypatch):
    project = tmp_path / "project"
    project.mkdir()
    escape_to = tmp_path / "x"
    escape_to.mkdir()
    version = "==1.0/../../../../../../../../../../" + str(escape_to).lstrip("/") + "/ESCAPED"
    lock = {
        "_meta": {"pipfile-spec": 6, "hash": {"sha256": "0"}, "sources": []},
        "default": {"alpha": {"version": version}},
        "develop": {},
    }
    (project / "Pipfile.lock").write_text(json.dumps(lock))
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Index)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    cache = tmp_path / "cache"
    try:
        monkeypatch.setenv(
            "AISCAN_PYPI_URL", f"http://user:pw@127.0.0.1:{server.server_address[1]}"
        )
        monkeypatch.setenv("AISCAN_CACHE_DIR", str(cache))
        _, report = scan_json(project, args=["--pypi", "--no-code", "--no-env"])
    finally:
        server.shutdown()
    assert list(escape_to.iterdir()) == []
    written = [p for p in tmp_path.rglob("*.json") if p.is_file()]
    assert all(p.is_relative_to(cache) or p.is_relative_to(project) for p in written), written
    assert ":pw@" not in json.dumps(report)
    assert not any(":pw@" in str(p) for p in cache.rglob("*"))


def test_credentials_in_hf_endpoint_are_never_echoed(fake_hub, monkeypatch):
    from huggingface_hub import constants

    fake_hub.card_repo("acme/model", {"license": "mit"})
    fake_hub.fail("/api/models/acme/model", *[500] * 10)
    endpoint = fake_hub.endpoint.replace("http://", "http://user:hunter2@")
    monkeypatch.setenv("HF_ENDPOINT", endpoint)
    monkeypatch.setattr(constants, "ENDPOINT", endpoint)
    result = run_cli("scan", "hf://acme/model")
    assert result.exit_code == 3
    assert "did not answer" in result.stderr
    assert "hunter2" not in result.stderr + result.stdout
    assert "***@127.0.0.1" in result.stderr


INVALID_TOKEN = {"X-Error-Message": "Invalid credentials in Authorization header"}


@pytest.mark.parametrize(
    ("path", "misbehaviour", "says"),
    [
        ("/api/models/", fakehub.raw(401, b"{}", INVALID_TOKEN), "rejected the token"),
        ("/api/models/", fakehub.raw(403, b"{}"), "refused acme/model@main to this token"),
        ("/api/models/", fakehub.raw(200, b"<html>"), "an HTML page"),
        ("/api/models/", fakehub.redirect_to_itself(), "redirects in a loop"),
        ("/api/models/", fakehub.stall(1.0), "no bytes for"),
        ("/resolve/", fakehub.trickle(b"---\n" * 50, 0.1), "no complete answer within"),
    ],
    ids=["401", "403", "html", "redirects", "stall", "trickle"],
)
def test_token_and_endpoint_credentials_never_reach_a_hub_error(
    fake_hub, impatient, monkeypatch, path, misbehaviour, says
):
    from huggingface_hub import constants

    fake_hub.card_repo("acme/model", {"license": "mit"})
    fake_hub.misbehave(path, misbehaviour, times=50)
    endpoint = fake_hub.endpoint.replace("http://", "http://user:hunter2@")
    monkeypatch.setenv("HF_ENDPOINT", endpoint)
    monkeypatch.setattr(constants, "ENDPOINT", endpoint)
    result = run_cli("scan", "hf://acme/model")
    assert result.exit_code == 3
    (line,) = result.stderr.strip().splitlines()
    assert says in line and "***@127.0.0.1" in line
    assert "hunter2" not in result.stdout + result.stderr
    assert fakehub.FAKE_TOKEN not in result.stdout + result.stderr


def test_cache_warning_holds_no_credentials(fake_hub, tmp_path, monkeypatch):
    fake_hub.card_repo("acme/model", {"license": "mit"})
    monkeypatch.setenv("HF_ENDPOINT", fake_hub.endpoint.replace("http://", "http://u:hunter2@"))
    (tmp_path / "file").write_text("x")
    monkeypatch.setenv("AISCAN_CACHE_DIR", str(tmp_path / "file" / "cache"))
    result = run_cli("scan", "hf://acme/model")
    assert "Hub answers are not cached" in result.stderr
    assert "hunter2" not in result.stdout + result.stderr


def test_answer_cache_path_holds_no_credentials(tmp_path, monkeypatch):
    from scanner.remote.hub import HubAnswerCache

    cache = HubAnswerCache(tmp_path, "https://user:hunter2@hub.example:8443", 60, print)
    assert "hunter2" not in str(cache.root) and "hub.example" in str(cache.root)


def test_fifo_target_file_is_one_line_error(tmp_path):
    fifo = tmp_path / "model.safetensors"
    os.mkfifo(fifo)
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    result = run_cli("scan", fifo)
    assert result.exit_code == 3
    assert len(result.stderr.strip().splitlines()) == 1


def test_fifos_in_projects_and_cache_refs_never_block(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    (project / "requirements.txt").write_text("-r more.txt\nalpha\n")
    os.mkfifo(project / "more.txt")
    os.mkfifo(project / "app.py")
    os.mkfifo(project / "requirements-dev.txt")
    hub = tmp_path / "hub"
    repo, _ = make_hf_cache(hub, "acme/m", model_repo_files("mit"))
    (repo / "refs" / "main").unlink()
    os.mkfifo(repo / "refs" / "main")
    started = time.monotonic()
    _, report = scan_json(project, hub, args=["--no-env"])
    assert time.monotonic() - started < 30
    messages = " ".join(f["message"] for f in findings(report, "scan.unreadable"))
    assert messages.count("FIFO") == 4, messages
    result = run_cli("verify", hub, "--format", "json")
    assert "FIFO" in result.stdout
