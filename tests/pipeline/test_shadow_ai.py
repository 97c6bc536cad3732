"""Shadow AI beyond Hugging Face ids, end to end (issue 18): a realistic project (a FastAPI app
calling two hosted providers, a LangChain chain, a Dockerfile and a compose file running Ollama
and vLLM, a GitHub workflow) yields every reference with its location, open-weight models with
their licenses, hosted services with their providers, and the references named at run time;
the policy's `ai_services` and the project's BOM decide what is allowed and declared, and every
format shows the services."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import (
    findings,
    gguf_bytes,
    make_ollama_store,
    run_cli,
    scan_json,
    write_policy,
)

APP = '''"""The chat backend."""
import os

from anthropic import Anthropic
from fastapi import FastAPI
from openai import OpenAI

CHAT_MODEL = "gpt-4o-mini"
app = FastAPI()
openai_client = OpenAI(base_url="https://api.openai.com/v1")
claude = Anthropic()


@app.post("/chat")
def chat(question: str, model: str = "claude-3-5-sonnet-20241022"):
    first = openai_client.chat.completions.create(
        model=CHAT_MODEL, messages=[{"role": "user", "content": question}]
    )
    second = claude.messages.create(model=model, max_tokens=512, messages=[])
    third = openai_client.embeddings.create(model=os.environ["EMBEDDING_MODEL"], input=question)
    return first, second, third
'''

CHAIN = """from langchain_core.prompts import ChatPromptTemplate
from langchain_ollama import ChatOllama
from langchain_openai import ChatOpenAI

prompt = ChatPromptTemplate.from_template("Summarise: {text}")
summariser = prompt | ChatOpenAI(model="gpt-4o", temperature=0)
local = prompt | ChatOllama(model="llama3.1:8b")
"""

DOCKERFILE = """FROM vllm/vllm-openai:v0.6.3
ENV HF_TOKEN=""
CMD ["--model", "meta-llama/Llama-3.1-8B-Instruct", "--max-model-len", "8192"]
"""

COMPOSE = """services:
  ollama:
    image: ollama/ollama:0.3.12
    entrypoint: ["/bin/sh", "-c", "ollama serve & sleep 3 && ollama pull qwen2.5-coder:7b && wait"]
  vllm:
    image: vllm/vllm-openai:latest
    command: vllm serve google/gemma-2-9b-it --revision 0123456789abcdef0123456789abcdef01234567
    environment:
      - MODEL_ID=${MODEL_ID}
"""

WORKFLOW = """name: eval
on: [push]
jobs:
  eval:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      # ollama pull commented-out-model
      - run: |
          ollama pull gemma2:2b
          ollama run "$EVAL_MODEL" "say hi"
"""


def make_sample_project(root: Path) -> Path:
    """The issue's sample project, as files."""
    (root / "app").mkdir(parents=True)
    (root / "requirements.txt").write_text("fastapi\nopenai\nanthropic\nlangchain-openai\n")
    (root / "app" / "main.py").write_text(APP)
    (root / "app" / "chain.py").write_text(CHAIN)
    (root / "Dockerfile").write_text(DOCKERFILE)
    (root / "docker-compose.yml").write_text(COMPOSE)
    workflows = root / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "eval.yml").write_text(WORKFLOW)
    return root


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_sample_project(tmp_path / "shop")


def _scan(project: Path, *args: object) -> dict:
    _, report = scan_json(project, args=("--no-env", "--no-deps", *args))
    return report


def test_every_model_reference_is_found_with_its_location_and_license(project):
    report = _scan(project)
    code = {
        (c["code_reference"]["file"], c["code_reference"]["line"]): c
        for c in report["components"]
        if c["source"] == "code"
    }
    expected = {
        ("app/chain.py", 7): ("llama3.1:8b", "ollama", "llama3.1"),
        ("Dockerfile", 3): ("meta-llama/Llama-3.1-8B-Instruct", "hub", "llama3.1"),
        ("docker-compose.yml", 4): ("qwen2.5-coder:7b", "ollama", "apache-2.0"),
        ("docker-compose.yml", 7): ("google/gemma-2-9b-it", "hub", "gemma"),
        (".github/workflows/eval.yml", 10): ("gemma2:2b", "ollama", "gemma"),
    }
    resolved = {where: c for where, c in code.items() if c["code_reference"]["resolved"]}
    assert {
        where: (c["name"], c["code_reference"]["registry"], c["license"]["effective"])
        for where, c in resolved.items()
    } == expected
    assert resolved[("docker-compose.yml", 7)]["version"] == "0123456789abcdef" * 2 + "01234567"
    assert resolved[("app/chain.py", 7)]["code_reference"]["call"] == "langchain_ollama.ChatOllama"
    assert resolved[("docker-compose.yml", 4)]["code_reference"]["call"] == "ollama pull"
    ollama = resolved[("app/chain.py", 7)]
    (evidence,) = [e for e in ollama["license"]["evidence"] if e["source"] == "catalogue"]
    assert "Ollama library model llama3.1:8b is" in evidence["value"]
    # A model in a comment is not a reference.
    assert not any("commented-out" in c["name"] for c in report["components"])


def test_hosted_services_are_listed_with_their_providers_and_places(project):
    services = {(s["file"], s["line"]): s for s in _scan(project)["services"]}
    assert {
        where: (s["provider"], s["model"] or s["image"], s["hosted"])
        for where, s in services.items()
        if s["resolved"]
    } == {
        ("app/main.py", 16): ("openai", "gpt-4o-mini", True),
        ("app/main.py", 19): ("anthropic", "claude-3-5-sonnet-20241022", True),
        ("app/chain.py", 6): ("openai", "gpt-4o", True),
        ("Dockerfile", 1): ("vllm", "vllm/vllm-openai:v0.6.3", False),
        ("docker-compose.yml", 3): ("ollama", "ollama/ollama:0.3.12", False),
        ("docker-compose.yml", 6): ("vllm", "vllm/vllm-openai:latest", False),
    }
    assert services[("app/main.py", 16)]["endpoint"] == "https://api.openai.com/v1"
    assert services[("app/main.py", 19)]["endpoint"] is None  # never a default filled in
    assert services[("app/main.py", 16)]["call"] == "openai_client.chat.completions.create"
    assert services[("app/main.py", 16)]["location"] == str(project / "app/main.py:16")


def test_names_known_only_at_run_time_are_listed_never_dropped(project):
    report = _scan(project)
    unresolved = {
        (f["evidence"]["file"], f["evidence"]["line"]): f["evidence"]["expression"]
        for f in findings(report, "provenance.unresolved-reference")
    }
    assert unresolved == {
        ("app/main.py", 20): "os.environ['EMBEDDING_MODEL']",
        ("docker-compose.yml", 9): "${MODEL_ID}",
        (".github/workflows/eval.yml", 11): "$EVAL_MODEL",
    }
    (service,) = [s for s in report["services"] if not s["resolved"]]
    assert (service["provider"], service["model"]) == ("openai", None)


def test_the_default_policy_notes_undeclared_services_and_strict_requires_them(project):
    report = _scan(project)
    noted = findings(report, "provenance.undeclared-service")
    assert {f["severity"] for f in noted} == {"note"}
    assert len(noted) == sum(s["resolved"] for s in report["services"]) == 6
    result, strict = scan_json(project, args=("--no-env", "--no-deps", "--policy", "strict"))
    assert result.exit_code == 1
    assert {f["severity"] for f in findings(strict, "provenance.undeclared-service")} == {"error"}


def test_a_bom_of_the_project_declares_its_services(project, tmp_path):
    bom = run_cli("bom", project, "--no-env", "--no-deps", "-o", tmp_path / "bom.json")
    assert bom.exit_code == 0, bom.stderr
    (project / "bom.json").write_bytes((tmp_path / "bom.json").read_bytes())
    report = _scan(project)
    assert findings(report, "provenance.undeclared-service") == []
    assert {s["declared_in"][0] for s in report["services"] if s["resolved"]} == {"bom.json"}


def test_ai_services_allow_and_deny_by_provider_and_model(project, tmp_path):
    policy = write_policy(
        tmp_path / "policy.yaml",
        "ai_services:\n  allow: [openai, 'anthropic/claude-3-5-*', vllm]\n  deny: ['gpt-4o-mini']\n",
    )
    result, report = scan_json(project, args=("--no-env", "--no-deps", "--policy", policy))
    denied = {
        (f["evidence"]["file"], f["evidence"]["line"]): f["message"]
        for f in findings(report, "provenance.service-denied")
    }
    assert result.exit_code == 1
    assert set(denied) == {("app/main.py", 16), ("docker-compose.yml", 3)}
    assert "matches ai_services.deny 'gpt-4o-mini'" in denied[("app/main.py", 16)]
    assert "is not in ai_services.allow" in denied[("docker-compose.yml", 3)]


def test_an_unknown_ai_services_key_is_a_usage_error(project, tmp_path):
    policy = write_policy(tmp_path / "policy.yaml", "ai_services:\n  alow: [openai]\n")
    result = run_cli("scan", project, "--no-env", "--policy", policy)
    assert result.exit_code == 2
    assert "ai_services.alow" in result.stderr or "alow" in result.stderr


def test_every_format_shows_the_services(project, tmp_path):
    args = ("--no-env", "--no-deps")
    table = run_cli("scan", project, *args, "-f", "table").stdout
    assert "AI service" in table and "claude-3-5-sonnet-20241022" in table
    assert "app/main.py:19" in table
    markdown = run_cli("scan", project, *args, "-f", "markdown").stdout
    assert "AI services (7)" in markdown and r"ollama \(self\-hosted\)" in markdown
    html = run_cli("scan", project, *args, "-f", "html", "-o", tmp_path / "r.html")
    assert html.exit_code == 0, html.stderr
    page = (tmp_path / "r.html").read_text()
    assert 'id="services"' in page and "gpt-4o-mini" in page
    sarif = json.loads(run_cli("scan", project, *args, "-f", "sarif").stdout)
    spots = {
        (
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
        )
        for r in sarif["runs"][0]["results"]
        if r["ruleId"] == "provenance.undeclared-service"
    }
    assert {("shop/app/main.py", 19), ("shop/docker-compose.yml", 3)} <= spots
    cdx = json.loads(run_cli("bom", project, *args, "-f", "cyclonedx-json").stdout)
    by_name = {(s["name"], s.get("version")): s for s in cdx["services"]}
    assert set(by_name) >= {("ollama/ollama", "0.3.12"), ("vllm/vllm-openai", "v0.6.3")}
    assert ("vllm/vllm-openai", None) in by_name  # `latest` is no version
    by_name = {s["name"]: s for s in cdx["services"]}
    assert by_name["claude-3-5-sonnet-20241022"]["provider"] == {"name": "anthropic"}
    assert by_name["gpt-4o-mini"]["endpoints"] == ["https://api.openai.com/v1"]
    subject = cdx["metadata"]["component"]["bom-ref"]
    (root,) = [d for d in cdx["dependencies"] if d["ref"] == subject]
    assert {by_name[n]["bom-ref"] for n in by_name} <= set(root["dependsOn"])
    spdx = json.loads(run_cli("bom", project, *args, "-f", "spdx-json").stdout)
    services = [p for p in spdx["packages"] if p.get("summary", "").startswith("service (")]
    assert len(services) == 7
    (claude,) = [p for p in services if p["name"] == "claude-3-5-sonnet-20241022"]
    assert claude["supplier"] == "Organization: anthropic"
    assert "used at app/main.py:19" in claude["comment"]
    spdx3 = run_cli("bom", project, *args, "-f", "spdx3-jsonld").stdout
    assert "aiscan service service:anthropic/claude-3-5-sonnet-20241022#app/main.py:19" in spdx3


def test_a_saved_report_keeps_its_services(project, tmp_path):
    saved = tmp_path / "report.json"
    run_cli("scan", project, "--no-env", "--no-deps", "-f", "json", "-o", saved)
    again = run_cli("bom", "--from", saved, "-f", "cyclonedx-json")
    assert again.exit_code == 0, again.stderr
    assert len(json.loads(again.stdout)["services"]) == 7
    old = json.loads(saved.read_text())
    del old["services"]  # a report written before services were reported
    saved.write_text(json.dumps(old))
    assert run_cli("bom", "--from", saved, "-f", "cyclonedx-json").exit_code == 0


def test_a_folder_holding_only_a_compose_file_is_read_for_its_deployment(tmp_path):
    infra = tmp_path / "infra"
    infra.mkdir()
    (infra / "docker-compose.yml").write_text(COMPOSE)
    empty = tmp_path / "empty"
    empty.mkdir()
    result, report = scan_json(infra, empty, args=("--no-env",))
    assert {s["provider"] for s in report["services"]} == {"ollama", "vllm"}
    assert {c["name"] for c in report["components"]} >= {"qwen2.5-coder:7b", "google/gemma-2-9b-it"}
    # The services of one target never hide that another held nothing.
    (nothing,) = findings(report, "scan.nothing-found")
    assert nothing["evidence"]["target"] == str(empty)
    assert result.exit_code == 1


def test_a_waiver_names_services_by_provider_or_model(project, tmp_path):
    policy = write_policy(
        tmp_path / "policy.yaml",
        "extends: strict\nwaivers:\n- rule: provenance.undeclared-service\n"
        "  component: 'service:openai/*'\n  reason: approved by the AI board\n",
    )
    _, report = scan_json(project, args=("--no-env", "--no-deps", "--policy", policy))
    undeclared = findings(report, "provenance.undeclared-service")
    waived = {f["evidence"]["model"] for f in undeclared if f["waived"]}
    assert waived == {"gpt-4o-mini", "gpt-4o"}
    assert all(f["waived"] is None for f in undeclared if f["evidence"]["provider"] != "openai")


def test_two_models_on_one_line_are_two_components(tmp_path):
    (tmp_path / "Dockerfile").write_text(
        "FROM ollama/ollama\nRUN ollama serve & sleep 1 && ollama pull gemma2 && ollama pull phi3\n"
    )
    report = _scan(tmp_path)
    assert sorted(c["name"] for c in report["components"] if c["source"] == "code") == [
        "gemma2",
        "phi3",
    ]


def test_an_ollama_store_scanned_with_the_project_declares_the_models_it_holds(tmp_path):
    project = tmp_path / "app"
    project.mkdir()
    (project / "Dockerfile").write_text(
        "FROM ollama/ollama\nRUN ollama pull gemma2\nRUN ollama pull phi3:mini\n"
    )
    store = make_ollama_store(
        tmp_path / "ollama" / "models",
        {"registry.ollama.ai/library/gemma2/latest": [("model", gguf_bytes())]},
    )
    _, report = scan_json(project, store, args=("--no-env",))
    undeclared = {
        c["name"]
        for c in report["components"]
        for f in findings(report, "provenance.undeclared-model", component=c["ref"])
    }
    assert undeclared == {"phi3:mini"}


def test_sarif_points_at_a_notebook_not_at_its_cell(tmp_path):
    cells = [
        {
            "cell_type": "code",
            "source": "import anthropic\nanthropic.Anthropic().messages.create(model='claude-3-opus-latest')",
        }
    ]
    (tmp_path / "explore.ipynb").write_text(json.dumps({"cells": cells}))
    sarif = json.loads(run_cli("scan", tmp_path, "--no-env", "-f", "sarif").stdout)
    (result,) = [
        r for r in sarif["runs"][0]["results"] if r["ruleId"] == "provenance.undeclared-service"
    ]
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"].endswith("explore.ipynb")
    assert location["region"]["startLine"] == 2


@pytest.mark.parametrize("bom_format", ["cyclonedx-json", "spdx-json", "spdx3-jsonld"])
def test_a_report_and_its_boms_list_the_same_services(project, tmp_path, bom_format):
    args = ("--no-env", "--no-deps")
    report, bom = tmp_path / "report.json", tmp_path / "bom.json"
    run_cli("scan", project, *args, "-f", "json", "-o", report)
    run_cli("bom", project, *args, "-f", bom_format, "-o", bom)
    same = run_cli("diff", report, bom, "-f", "json")
    assert json.loads(same.stdout)["changes"] == []
    (project / "app" / "main.py").write_text(APP.replace('"gpt-4o-mini"', '"gpt-4.1-mini"'))
    run_cli("bom", project, *args, "-f", bom_format, "-o", bom)
    changed = json.loads(run_cli("diff", report, bom, "-f", "json").stdout)["changes"]
    assert {(c["kind"], c["component"]) for c in changed if c["kind"] in ("added", "removed")} == {
        ("added", "service:openai/gpt-4.1-mini"),
        ("removed", "service:openai/gpt-4o-mini"),
    }


def test_a_service_in_the_bom_declares_no_model_of_its_name(tmp_path):
    (tmp_path / "app.py").write_text(
        "from transformers import pipeline\npipeline('asr', model='openai/whisper-large-v3')\n"
    )
    bom = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "services": [{"name": "whisper-large-v3", "group": "openai"}],
    }
    (tmp_path / "bom.json").write_text(json.dumps(bom))
    report = _scan(tmp_path)
    (undeclared,) = findings(report, "provenance.undeclared-model")
    assert "openai/whisper-large-v3" in undeclared["message"]


@pytest.mark.parametrize("columns", ["50", "120"])
def test_the_service_table_breaks_no_word_at_any_width(project, columns):
    table = run_cli("scan", project, "--no-env", "--no-deps", env={"COLUMNS": columns}).stdout
    lines = table.split("aiscan: 7 AI services", 1)[1].split("Findings (", 1)[0].splitlines()
    assert all(len(line) <= int(columns) for line in lines)
    for word in ("claude-3-5-sonnet-20241022", "docker-compose.yml:3", "ollama/ollama:0.3.12"):
        assert any(word in line for line in lines), word


@pytest.mark.parametrize(
    ("services", "said"),
    [
        ("x", "'services' must be a list"),
        ([1], "services[0] must be an object"),
        (
            [
                {
                    "ref": "s",
                    "provider": "openai",
                    "file": "a.py",
                    "line": "3",
                    "call": "c",
                    "location": "a.py:3",
                }
            ],
            "services[0].line must be int",
        ),
        ([{"provider": "openai"}], "missing"),
    ],
)
def test_a_report_with_malformed_services_is_one_error_line(project, tmp_path, services, said):
    saved = tmp_path / "report.json"
    run_cli("scan", project, "--no-env", "--no-deps", "-f", "json", "-o", saved)
    document = json.loads(saved.read_text())
    document["services"] = services
    saved.write_text(json.dumps(document))
    result = run_cli("bom", "--from", saved)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and said in result.stderr


def test_ai_services_in_pyproject_where_aiscan_runs(project, monkeypatch):
    (project / "pyproject.toml").write_text(
        '[project]\nname = "shop"\n\n[tool.aiscan.ai_services]\ndeny = ["anthropic"]\n'
    )
    monkeypatch.chdir(project)
    result, report = scan_json(".", args=("--no-env", "--no-deps"))
    (denied,) = findings(report, "provenance.service-denied")
    assert denied["evidence"]["provider"] == "anthropic"
    assert result.exit_code == 1


def test_a_mistyped_ai_services_list_is_a_usage_error_naming_the_line(project, tmp_path):
    policy = write_policy(
        tmp_path / "policy.yaml", "extends: default\nai_services:\n  deny: openai\n"
    )
    result = run_cli("scan", project, "--no-env", "--policy", policy)
    assert result.exit_code == 2
    assert f"{policy}:3" in result.stderr and "must be a list of strings" in result.stderr


def test_the_spdx3_of_services_conforms_to_the_model_and_its_declared_profiles(project):
    pytest.importorskip("pyshacl")
    from tests.formats.test_spdx3_shacl import PROFILE_RULES, declared_profiles, violations

    text = run_cli("bom", project, "--no-env", "--no-deps", "-f", "spdx3-jsonld").stdout
    profiles = declared_profiles(text)
    assert violations(text, profiles & set(PROFILE_RULES)) == []
