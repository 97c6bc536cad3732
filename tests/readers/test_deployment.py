"""Models and inference servers named by deployment files (`scanner/readers/deployment.py`):
Dockerfiles, compose files, Kubernetes manifests, Helm values, shell scripts, Makefiles, `.env`
files and GitHub workflows, read as bounded text and never parsed, run or expanded."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from scanner.inventory import Problem, Service
from scanner.readers.code_references import FoundReference
from scanner.readers.deployment import (
    MAX_DEPLOYMENT_BYTES,
    MAX_DEPLOYMENT_REFERENCES,
    MAX_DEPLOYMENT_WORDS,
    scan_deployment_file,
    scan_deployment_tree,
)


def _scan(tmp_path: Path, name: str, text: str) -> list[FoundReference | Service | Problem]:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return [item for _, item in scan_deployment_tree(tmp_path)]


def _models(items) -> list[tuple[str, str, int, str, bool]]:
    return [
        (
            i.name,
            i.reference.registry,
            i.reference.line,
            i.reference.call,
            i.reference.resolved,
        )
        for i in items
        if isinstance(i, FoundReference)
    ]


def _services(items) -> list[tuple[str, str | None, int]]:
    return [(s.provider, s.model or s.image, s.line) for s in items if isinstance(s, Service)]


def test_a_dockerfile_names_its_server_image_and_model(tmp_path):
    items = _scan(
        tmp_path,
        "Dockerfile",
        "FROM ghcr.io/huggingface/text-generation-inference:2.4.0\n"
        "ENV MODEL_ID=mistralai/Mistral-7B-Instruct-v0.3\n"
        'CMD ["--model-id", "$MODEL_ID", "--revision", "main"]\n',
    )
    assert _services(items) == [
        ("text-generation-inference", "ghcr.io/huggingface/text-generation-inference:2.4.0", 1)
    ]
    assert _models(items) == [
        ("mistralai/Mistral-7B-Instruct-v0.3", "hub", 2, "MODEL_ID=", True),
        ("$MODEL_ID", "hub", 3, "--model-id", False),
    ]
    assert not next(s for s in items if isinstance(s, Service)).hosted


def test_a_kubernetes_manifest_with_args_and_env_on_separate_lines(tmp_path):
    manifest = """apiVersion: apps/v1
kind: Deployment
spec:
  template:
    spec:
      containers:
        - name: vllm
          image: vllm/vllm-openai:v0.6.3
          args:
            - --model
            - Qwen/Qwen2.5-7B-Instruct
            - --revision
            - a1b2c3
          env:
            - name: EMBEDDING_MODEL_NAME
              value: BAAI/bge-small-en-v1.5
"""
    items = _scan(tmp_path, "deploy/k8s/vllm.yaml", manifest)
    assert _services(items) == [("vllm", "vllm/vllm-openai:v0.6.3", 8)]
    assert _models(items) == [
        ("Qwen/Qwen2.5-7B-Instruct", "hub", 11, "--model", True),
        ("BAAI/bge-small-en-v1.5", "hub", 16, "EMBEDDING_MODEL_NAME=", True),
    ]


def test_helm_values_and_templates(tmp_path):
    _scan(
        tmp_path,
        "chart/values.yaml",
        "image:\n  repository: vllm\nmodel: meta-llama/Llama-3.2-1B\n",
    )
    items = _scan(
        tmp_path,
        "chart/templates/deploy.yaml",
        'args: ["vllm", "serve", "{{ .Values.model }}"]\n',
    )
    assert sorted(_models(items)) == [
        ("meta-llama/Llama-3.2-1B", "hub", 3, "model:", True),
        ("{{ .Values.model }}", "hub", 1, "vllm serve", False),
    ]


def test_shell_makefile_env_and_workflow(tmp_path):
    _scan(
        tmp_path,
        "scripts/setup.sh",
        "#!/bin/sh\nset -e\nollama pull llama3.2:3b && ollama run phi3\n",
    )
    _scan(tmp_path, "Makefile", "serve:\n\tvllm serve $(MODEL) --port 8000\n")
    _scan(tmp_path, ".env", "OPENAI_MODEL=gpt-4o-mini\nOLLAMA_MODEL=gemma2\n")
    items = _scan(
        tmp_path,
        ".github/workflows/ci.yml",
        "jobs:\n  t:\n    steps:\n      - run: ollama pull qwen2.5-coder\n",
    )
    assert sorted(_models(items)) == [
        ("$(MODEL)", "hub", 2, "vllm serve", False),
        ("gemma2", "ollama", 2, "OLLAMA_MODEL=", True),
        ("llama3.2:3b", "ollama", 3, "ollama pull", True),
        ("phi3", "ollama", 3, "ollama run", True),
        ("qwen2.5-coder", "ollama", 4, "ollama pull", True),
    ]
    assert _services(items) == [("openai", "gpt-4o-mini", 1)]


def test_comments_and_unrelated_words_are_not_references(tmp_path):
    items = _scan(
        tmp_path,
        "run.sh",
        "# ollama pull old-model\necho 'use --model-path instead'\nMODEL_DIR=/models\n",
    )
    assert items == []


def test_environments_caches_and_other_hidden_folders_are_not_read(tmp_path):
    for folder in (".venv", "node_modules", ".git", ".cache"):
        _scan(tmp_path, f"{folder}/Dockerfile", "FROM ollama/ollama\n")
    assert list(scan_deployment_tree(tmp_path)) == []


def test_a_yaml_bomb_is_only_text(tmp_path):
    """Billion laughs: never parsed, so the aliases are never expanded."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in "bcdefghij":
        previous = chr(ord(level) - 1)
        lines.append(f"{level}: &{level} [" + ",".join([f"*{previous}"] * 9) + "]")
    lines.append("model: *j")
    items = _scan(tmp_path, "values.yaml", "\n".join(lines) + "\n")
    assert _models(items) == [("*j", "hub", 11, "model:", False)]  # an alias: not a name


def test_a_named_file_over_the_bound_is_a_problem_and_other_yaml_is_passed_over(tmp_path):
    big = "x: y\n" * (MAX_DEPLOYMENT_BYTES // 5 + 1)
    (tmp_path / "docker-compose.yml").write_text(big)
    (tmp_path / "data.yaml").write_text(big)
    items = list(scan_deployment_tree(tmp_path))
    assert [(where, type(item)) for where, item in items] == [("docker-compose.yml", Problem)]
    assert "larger than 4 MiB" in items[0][1].message


def test_a_fifo_named_like_a_dockerfile_is_never_opened_for_reading(tmp_path):
    os.mkfifo(tmp_path / "Dockerfile")
    (problem,) = [item for _, item in scan_deployment_tree(tmp_path)]
    assert isinstance(problem, Problem)
    assert "cannot read" in problem.message


def test_a_link_out_of_the_tree_is_a_problem_never_read(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "Dockerfile").write_text("FROM ollama/ollama\n")
    project = tmp_path / "project"
    project.mkdir()
    (project / "Dockerfile").symlink_to(outside / "Dockerfile")
    ((where, problem),) = list(scan_deployment_tree(project))
    assert where == "Dockerfile"
    assert isinstance(problem, Problem) and problem.kind == "link-outside-target"


def test_binary_files_are_skipped(tmp_path):
    path = tmp_path / "tool.sh"
    path.write_bytes(b"\0\x01ollama pull llama3\n")
    assert list(scan_deployment_file(path, "tool.sh")) == []


@pytest.mark.parametrize("image", ["docker.io/ollama/ollama@sha256:" + "a" * 64, "ollama/ollama"])
def test_server_images_with_and_without_tags(tmp_path, image):
    items = _scan(tmp_path, "compose.yaml", f"services:\n  o:\n    image: {image}\n")
    assert _services(items) == [("ollama", image, 3)]


def test_a_file_of_nothing_but_model_words_is_refused_not_held_in_memory(tmp_path):
    path = tmp_path / "values.yaml"
    path.write_text("model " * (MAX_DEPLOYMENT_WORDS + 1))
    (problem,) = list(scan_deployment_file(path, "values.yaml"))
    assert isinstance(problem, Problem) and "words" in problem.message


def test_a_file_naming_thousands_of_models_is_a_problem(tmp_path):
    path = tmp_path / "pull.sh"
    path.write_text("".join(f"ollama pull m{i}\n" for i in range(MAX_DEPLOYMENT_REFERENCES + 1)))
    (problem,) = list(scan_deployment_file(path, "pull.sh"))
    assert isinstance(problem, Problem) and "not reported" in problem.message


def test_lines_far_from_any_keyword_are_not_read(tmp_path):
    # The value three lines after `--model` is still read; one separated by unrelated lines is
    # not joined to it.
    near = _scan(tmp_path, "a.yaml", "args:\n  - --model\n  - org/near\n")
    assert _models(near) == [("org/near", "hub", 3, "--model", True)]
    far = _scan(tmp_path / "b", "b.yaml", "x: --model\n" + "\n" * 5 + "org/far\n")
    assert _models(far) == []


def test_excluded_deployment_files_are_neither_opened_nor_reported(tmp_path):
    from scanner.files import Excludes

    (tmp_path / "vendor").mkdir()
    (tmp_path / "vendor" / "Dockerfile").write_text("FROM ollama/ollama\n")
    (tmp_path / "old.env").write_text("OPENAI_MODEL=gpt-4\n")
    (tmp_path / "Dockerfile").write_text("FROM vllm/vllm-openai\n")
    excludes = Excludes(("vendor/", "*.env")).below(tmp_path)
    found = [where for where, _ in scan_deployment_tree(tmp_path, excludes)]
    assert found == ["Dockerfile"]


def test_settings_that_are_no_model_names_are_not_references(tmp_path):
    items = _scan(tmp_path, "values.yaml", "model: 2\nmodelId: false\nMODEL_NAME=null\n")
    assert items == []


def test_an_ollama_setting_names_an_ollama_model_even_with_a_hosted_name(tmp_path):
    items = _scan(
        tmp_path, ".env", "OLLAMA_MODEL=mistral-small\nMISTRAL_MODEL=mistral-small-latest\n"
    )
    assert _models(items) == [("mistral-small", "ollama", 1, "OLLAMA_MODEL=", True)]
    assert _services(items) == [("mistral", "mistral-small-latest", 2)]


def test_a_control_character_in_a_name_is_shown_quoted_and_unresolved(tmp_path):
    items = _scan(tmp_path, "run.sh", "ollama pull llama3\x1b]0;owned\x07\n")
    assert _models(items) == [("'llama3\\x1b'", "hub", 1, "ollama pull", False)]


@pytest.mark.parametrize("name", ["Dockerfile.gpu", "serve.Dockerfile", "api.containerfile"])
def test_dockerfiles_by_any_of_their_usual_names(tmp_path, name):
    assert _services(_scan(tmp_path, name, "FROM vllm/vllm-openai\n")) == [
        ("vllm", "vllm/vllm-openai", 1)
    ]


def test_ollama_pulling_from_the_hub_names_the_hub_repo(tmp_path):
    items = _scan(
        tmp_path, "pull.sh", "ollama pull hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M\n"
    )
    assert _models(items) == [
        ("bartowski/Llama-3.2-1B-Instruct-GGUF", "hub", 1, "ollama pull", True)
    ]


def test_the_ollama_helm_charts_model_lists(tmp_path):
    values = """ollama:
  gpu:
    enabled: true
  models:
    pull:
      - llama3.1:8b
      - qwen2.5-coder:7b
      - nomic-embed-text
      - gemma2
    run: [llama3.1:8b]
persistentVolume:
  enabled: true
"""
    items = _scan(tmp_path, "values.yaml", values)
    assert _models(items) == [
        ("llama3.1:8b", "ollama", 6, "models.pull:", True),
        ("qwen2.5-coder:7b", "ollama", 7, "models.pull:", True),
        ("nomic-embed-text", "ollama", 8, "models.pull:", True),
        ("gemma2", "ollama", 9, "models.pull:", True),
        ("llama3.1:8b", "ollama", 10, "models.run:", True),
    ]


def test_a_line_of_repeated_keys_is_linear_work(tmp_path):
    """`models: run: run: …` must not make each key look back over the others."""
    path = tmp_path / "values.yaml"
    path.write_text("models: " + "run: " * 150_000 + "\n")
    assert list(scan_deployment_file(path, "values.yaml")) == []
