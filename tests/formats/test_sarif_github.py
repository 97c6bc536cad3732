"""SARIF as GitHub code scanning reads it: repository-relative URIs, regions, GitHub's line
hash, security severity and precision, a category, and suppressions that do not count."""

from __future__ import annotations

import json
import os
from pathlib import Path

import jsonschema
import pytest

from scanner.formats.sarif import line_hashes, precision, security_severity
from scanner.pipeline.sarif_sources import sarif_line_hashes, source_root
from scanner.policy.rules import RULES
from tests.conftest import DATA, make_model_dir, run_cli

SCHEMA = json.loads((DATA / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))


def sarif_of(*args: object) -> dict:
    result = run_cli("scan", *args, "--format", "sarif")
    document = json.loads(result.stdout)
    jsonschema.validate(document, SCHEMA)
    return document


def results_of(document: dict) -> list[dict]:
    return document["runs"][0]["results"]


def physical(result: dict) -> dict:
    return result["locations"][0]["physicalLocation"]


# Vectors from github/codeql-action src/fingerprints.test.ts (the upload action's own tests).
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ["c129715d7a2bc9a3:1"]),
        (
            " a\nb\n  \t\tc\n d",
            ["271789c17abda88f:1", "54703d4cd895b18:1", "180aee12dab6264:1", "a23a3dc5e078b07b:1"],
        ),
        (
            " hello; \t\r\nworld!!!\r\n\r\n\r\n  \t\tGreetings\r\n End\r\n",
            [
                "e9496ae3ebfced30:1",
                "fb7c023a8b9ccb3f:1",
                "ce8ba1a563dcdaca:1",
                "e20e36e16fcb0cc8:1",
                "b3edc88f2938467e:1",
                "c8e28b0b4002a3a0:1",
                "c129715d7a2bc9a3:1",
            ],
        ),
        (
            " hello; \t\nworld!!!\r\n\n\r  \t\tGreetings\r End\r\n",
            [
                "e9496ae3ebfced30:1",
                "fb7c023a8b9ccb3f:1",
                "ce8ba1a563dcdaca:1",
                "e20e36e16fcb0cc8:1",
                "b3edc88f2938467e:1",
                "c8e28b0b4002a3a0:1",
                "c129715d7a2bc9a3:1",
            ],
        ),
        (
            "Lorem ipsum dolor sit amet.\n" * 10,
            [
                *(f"a7f2ff13bc495cf2:{n}" for n in range(1, 7)),
                "a7f2ff1481e87703:1",
                "a9cf91f7bbf1862b:1",
                "55ec222b86bcae53:1",
                "cc97dc7b1d7d8f7b:1",
                "c129715d7a2bc9a3:1",
            ],
        ),
    ],
)
def test_line_hash_is_githubs(text, expected):
    hashes = line_hashes(text)
    assert [hashes[line] for line in sorted(hashes)] == expected


@pytest.fixture
def repository(tmp_path, monkeypatch):
    """A git checkout (a `.git` folder only: git is never run) with a model below it; the
    working directory is a subfolder of the checkout."""
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "tools").mkdir()
    make_model_dir(repo / "models", "nc", card={"license": "cc-by-nc-4.0"})
    make_model_dir(repo / "models", "bare", card=None)
    monkeypatch.chdir(repo / "tools")
    return repo


def test_uris_are_relative_to_the_git_root_with_a_base_id(repository):
    document = sarif_of(repository / "models")
    run = document["runs"][0]
    by_rule = {r["ruleId"]: r for r in results_of(document)}
    location = physical(by_rule["license.noncommercial"])
    assert location["artifactLocation"] == {"uri": "models/nc/README.md", "uriBaseId": "SRCROOT"}
    assert run["originalUriBaseIds"]["SRCROOT"]["uri"] == repository.as_uri() + "/"
    assert run["automationDetails"]["id"] == "aiscan/models/"


def test_primary_location_line_hash_is_githubs_hash_of_the_pointed_line(repository):
    document = sarif_of(repository / "models")
    card = (repository / "models" / "nc" / "README.md").read_text(encoding="utf-8")
    result = next(r for r in results_of(document) if r["ruleId"] == "license.noncommercial")
    line = physical(result)["region"]["startLine"]
    assert card.splitlines()[line - 1] == "license: cc-by-nc-4.0"
    assert result["partialFingerprints"]["primaryLocationLineHash"] == line_hashes(card)[line]
    assert len(result["partialFingerprints"]["aiscan/v1"]) == 64


def test_every_result_naming_a_file_has_a_region(repository):
    weights = repository / "models" / "nc" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-4])
    results = results_of(sarif_of(repository / "models"))
    assert {"integrity.truncated", "license.noncommercial"} <= {r["ruleId"] for r in results}
    for result in results:
        location = physical(result)
        uri = location["artifactLocation"]["uri"]
        if (repository / uri).is_file():
            assert location["region"]["startLine"] >= 1, result["ruleId"]


def test_a_target_outside_the_working_directory_gives_no_absolute_uri(tmp_path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    elsewhere = tmp_path / "elsewhere" / "store"
    make_model_dir(elsewhere, "nc", card={"license": "cc-by-nc-4.0"})
    document = sarif_of(elsewhere)
    run = document["runs"][0]
    for result in results_of(document):
        artifact = physical(result)["artifactLocation"]
        assert "://" not in artifact["uri"] and not artifact["uri"].startswith("/")
        assert artifact["uriBaseId"] == "TARGET1"
    assert physical(results_of(document)[0])["artifactLocation"]["uri"].startswith("store/")
    assert "uri" not in run["originalUriBaseIds"]["TARGET1"]
    # The one absolute URI is the source root's, the working directory here.
    uris = [v.get("uri") for v in run["originalUriBaseIds"].values() if v.get("uri")]
    assert uris == [work.as_uri() + "/"]
    assert str(elsewhere.parent) not in json.dumps(run["originalUriBaseIds"])


def test_source_root_option_sets_the_base(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    make_model_dir(tmp_path / "a" / "b", "nc", card={"license": "cc-by-nc-4.0"})
    document = sarif_of(tmp_path / "a" / "b", "--source-root", tmp_path / "a")
    result = next(r for r in results_of(document) if r["ruleId"] == "license.noncommercial")
    assert physical(result)["artifactLocation"] == {
        "uri": "b/nc/README.md",
        "uriBaseId": "SRCROOT",
    }


def test_source_root_is_found_by_looking_for_git_without_running_it(tmp_path):
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    (tmp_path / "repo" / "a" / "b").mkdir(parents=True)
    assert source_root(tmp_path / "repo" / "a" / "b") == tmp_path / "repo"
    (tmp_path / "plain").mkdir()
    assert source_root(tmp_path / "plain") == tmp_path / "plain"
    assert source_root(tmp_path / "plain", tmp_path / "repo") == tmp_path / "repo"


def test_every_rule_has_githubs_severity_precision_and_security_tag(repository):
    rules = sarif_of(repository / "models")["runs"][0]["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == sorted(RULES)
    for rule in rules:
        properties = rule["properties"]
        assert 0.0 < float(properties["security-severity"]) <= 10.0
        assert properties["precision"] in ("very-high", "high", "medium", "low")
        assert "security" in properties["tags"]
    by_id = {r["id"]: r["properties"] for r in rules}
    # A swapped weights file outranks a missing notice.
    assert float(by_id["integrity.hash-mismatch"]["security-severity"]) >= 9.0
    assert float(by_id["license.obligation"]["security-severity"]) < 4.0
    assert security_severity("provenance.unsafe-format") > security_severity(
        "provenance.card-missing"
    )
    assert precision("provenance.undeclared-model") == "medium"


def test_waived_and_baselined_findings_are_suppressed_and_not_errors(repository, tmp_path):
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "waivers:\n- rule: license.noncommercial\n  component: '*'\n  reason: research demo\n"
    )
    baseline = tmp_path / "baseline.sarif"
    before = sarif_of(repository / "models", "--policy", policy)
    baseline.write_text(json.dumps(before))
    levels = {r["ruleId"]: r["properties"]["severity"] for r in results_of(before)}
    assert levels["license.missing"] == "error"
    document = sarif_of(repository / "models", "--policy", policy, "--baseline", baseline)
    results = results_of(document)
    waived = next(r for r in results if r["ruleId"] == "license.noncommercial")
    assert waived["suppressions"][0]["status"] == "accepted"
    assert waived["suppressions"][0]["justification"] == "research demo"
    assert waived["level"] == "note"
    assert waived["properties"]["severity"] == levels["license.noncommercial"]
    baselined = next(r for r in results if r["ruleId"] == "license.missing")
    assert baselined["baselineState"] == "unchanged"
    assert baselined["suppressions"][0]["kind"] == "external"
    assert baselined["level"] == "note" and baselined["properties"]["severity"] == "error"
    # Tallying levels, as `sarif summary` does, agrees with aiscan's exit code.
    assert not [r for r in results if r["level"] == "error"]
    gate = run_cli("scan", repository / "models", "--policy", policy, "--baseline", baseline)
    assert gate.exit_code == 0


def test_a_card_swapped_for_a_link_out_of_the_target_is_not_read_for_a_hash(tmp_path):
    from scanner.formats.json import read_report

    folder = make_model_dir(tmp_path / "store", "nc", card={"license": "cc-by-nc-4.0"})
    report = tmp_path / "report.json"
    run_cli("scan", tmp_path / "store", "--format", "json", "-o", report)
    result = read_report(report)
    assert sarif_line_hashes(result)  # the card, read in place
    secret = tmp_path / "secret.txt"
    secret.write_text("license: private\n")
    (folder / "README.md").unlink()
    (folder / "README.md").symlink_to(secret)
    assert sarif_line_hashes(result) == {}
    fifo = folder / "README.md"
    fifo.unlink()
    os.mkfifo(fifo)
    assert sarif_line_hashes(result) == {}


def test_a_hub_target_is_a_url_not_a_path(tmp_path):
    from scanner.formats.sarif import sarif_document
    from scanner.inventory import Finding, ScanResult

    result = ScanResult(
        tool_version="0",
        targets=("hf://acme/model",),
        components=(),
        findings=(Finding("scan.nothing-found", "warning", None, "nothing", {}),),
    )
    document = sarif_document(result, source_root=Path(tmp_path))
    jsonschema.validate(document, SCHEMA)
    location = document["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert location == {"artifactLocation": {"uri": "hf://acme/model"}}
