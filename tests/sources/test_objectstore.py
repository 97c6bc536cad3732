"""The object-store source and its client: what a URL shows, how failures read, which targets
it takes, and that the base install needs none of it."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from scanner.remote.objectstore import describe_failure, is_object_url, shown_url
from tests.conftest import run_cli, subprocess_env, write_gguf
from tests.s3server import SECRET, LocalS3, s3_environment

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("s3://bucket/prefix/", "s3://bucket/prefix"),
        ("s3://AKIA:secret@bucket/models", "s3://bucket/models"),
        ("gs://bucket/m?token=abc#frag", "gs://bucket/m"),
        ("az://container/path/model", "az://container/path/model"),
    ],
)
def test_shown_urls_carry_no_credentials(url, shown):
    assert shown_url(url) == shown


def test_failures_lose_query_strings_and_userinfo():
    text = describe_failure(
        ValueError(
            'Could not connect to "https://user:pw@host.example/b/k?X-Amz-Signature=abc&sig=x"'
        )
    )
    assert "abc" not in text and "pw" not in text and "sig=" not in text
    assert "host.example/b/k" in text


@pytest.mark.parametrize(
    ("target", "wanted"),
    [
        ("s3://bucket/x", True),
        ("gs://b", True),
        ("memory://x", True),
        ("hf://org/name", False),
        ("file:///tmp/x", False),
        ("/tmp/s3:/x", False),
        ("relative/path", False),
    ],
)
def test_which_targets_are_object_urls(target, wanted):
    assert is_object_url(target) is wanted


def test_base_install_pulls_in_no_object_store_library():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    base = " ".join(project["dependencies"]).lower()
    for package in ("s3fs", "botocore", "boto3", "fsspec", "aiobotocore"):
        assert package not in base
    assert any(d.startswith("s3fs") for d in project["optional-dependencies"]["s3"])


def test_s3_without_the_extra_says_how_to_install_it(tmp_path):
    code = (
        "import sys; sys.modules['s3fs'] = None\n"
        "from scanner.cli.main import main\n"
        "main(['verify', 's3://bucket/models'])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith("aiscan: error: ")
    assert 'pip install "aiscan[s3]"' in done.stderr


def test_no_such_bucket_is_one_line_and_exit_3(local_s3: LocalS3):
    for command in ("scan", "verify"):
        result = run_cli(command, "s3://no-such-bucket-here/models")
        assert result.exit_code == 3
        assert result.stderr.strip().count("\n") == 0
        assert "no-such-bucket-here" in result.stderr and "bucket" in result.stderr.lower()


@pytest.mark.parametrize("target", ["s3://", "s3:///models", "gs://"])
def test_a_url_without_a_bucket_is_a_usage_error(local_s3: LocalS3, target):
    for command in ("scan", "verify"):
        result = run_cli(command, target)
        assert result.exit_code == 2
        assert "needs a bucket" in result.stderr
        assert result.stderr.strip().count("\n") == 0


def test_an_empty_prefix_is_nothing_found(local_s3: LocalS3):
    result = run_cli("scan", local_s3.url("nothing/here"), "--format", "json")
    assert result.exit_code == 1
    assert [f["rule"] for f in json.loads(result.stdout)["findings"]] == ["scan.nothing-found"]


def test_an_unreachable_endpoint_is_one_line_and_exit_3(monkeypatch):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed once the probe is: nothing listens there
    s3_environment(monkeypatch, f"http://127.0.0.1:{port}")
    result = run_cli("verify", "s3://bucket/models")
    assert result.exit_code == 3
    assert result.stderr.startswith("aiscan: error: cannot list s3://bucket/models: ")
    assert "could not connect" in result.stderr.lower()
    assert result.stderr.strip().count("\n") == 0
    assert SECRET not in result.stderr + result.stdout


def test_one_weights_object_is_read_as_a_local_weights_file(tmp_path, local_s3: LocalS3):
    path = write_gguf(tmp_path / "tiny.gguf", {"general.license": "apache-2.0"})
    local_s3.put("ggufs/tiny.gguf", path.read_bytes())
    local = json.loads(run_cli("scan", path, "--format", "json").stdout)
    remote = json.loads(run_cli("scan", local_s3.url("ggufs/tiny.gguf"), "--format", "json").stdout)
    (component,) = remote["components"]
    assert component["ref"] == local["components"][0]["ref"] == "model:local/tiny.gguf"
    assert component["license"]["declared"] == ["apache-2.0"]
    assert component["location"] == local_s3.url("ggufs/tiny.gguf")


def test_one_object_that_is_not_weights_is_refused(local_s3: LocalS3):
    local_s3.put("notes.txt", b"hello")
    result = run_cli("scan", local_s3.url("notes.txt"))
    assert result.exit_code == 2
    assert "not a weights file" in result.stderr


def test_hidden_and_tool_folders_are_not_searched(local_s3: LocalS3, tmp_path):
    from tests.conftest import safetensors_bytes

    local_s3.put("store/.git/model.safetensors", safetensors_bytes())
    local_s3.put("store/node_modules/x/model.safetensors", safetensors_bytes())
    local_s3.put("store/real/model.safetensors", safetensors_bytes())
    report = json.loads(run_cli("scan", local_s3.url("store"), "--format", "json").stdout)
    assert [c["name"] for c in report["components"]] == ["real"]


def test_a_url_with_credentials_is_never_echoed(local_s3: LocalS3):
    for command in ("scan", "verify"):
        url = local_s3.url("empty") + "?X-Amz-Signature=sig-0123456789"
        result = run_cli(
            command, url.replace("s3://", "s3://AKIAEXAMPLE:pw-0123456789@"), "-f", "json"
        )
        text = result.stdout + result.stderr
        assert "0123456789" not in text and "AKIAEXAMPLE" not in text
        assert result.exit_code in (1, 3)
