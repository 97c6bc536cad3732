"""Times the model-reference scan of a generated 5,000-file repository.

Goal (issues 6 and 18): under 10 s on 2 cores for the whole `aiscan scan --no-env --no-deps`
run. The tree mixes plain modules (most of a real repository), modules that load models,
modules that call hosted model APIs (OpenAI, Anthropic, the ollama client), notebooks, ~4 KiB
each, and a Dockerfile per package running vLLM. Run: `python benchmarks/coderefs.py
[--files N]`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = 3
GOAL_SECONDS = 10.0

PLAIN = '''"""Module {i}."""
import os


def helper_{i}(values):
    total = 0
    for value in values:
        total += value * {i}
    return total
''' + "\n".join(f"def f{j}(x):\n    return x + {j}\n" for j in range(60))

LOADER = """from transformers import AutoModel, AutoTokenizer, pipeline
MODEL = "org/model-{i}"
tok = AutoTokenizer.from_pretrained(MODEL)
model = AutoModel.from_pretrained(MODEL, revision="main", trust_remote_code={remote})
clf = pipeline("text-classification", model="org/classifier-{i}")
""" + "\n".join(f"def g{j}(x):\n    return x * {j}\n" for j in range(50))

API = """import ollama
from anthropic import Anthropic
from openai import OpenAI

client = OpenAI()
claude = Anthropic()
MODEL = "gpt-4o-{i}"


def ask(prompt, model="claude-3-5-sonnet-{i}"):
    first = client.chat.completions.create(model=MODEL, messages=[prompt])
    second = claude.messages.create(model=model, max_tokens=100, messages=[prompt])
    return first, second, ollama.chat(model="llama3.1:8b", messages=[prompt])
""" + "\n".join(f"def h{j}(x):\n    return x - {j}\n" for j in range(50))

DOCKERFILE = """FROM vllm/vllm-openai:v0.6.3
CMD ["--model", "org/served-{i}", "--revision", "0123456789abcdef0123456789abcdef01234567"]
"""


def build(root: Path, files: int) -> tuple[int, int]:
    """Write the tree; return how many model references and services it holds."""
    references = services = 0
    for i in range(files):
        folder = root / f"pkg{i % 50}" / f"sub{i % 7}"
        folder.mkdir(parents=True, exist_ok=True)
        if i < 50:
            (root / f"pkg{i}" / "Dockerfile").write_text(DOCKERFILE.format(i=i))
            references += 1
            services += 1
        elif i % 25 == 0:
            cells = [{"cell_type": "code", "source": LOADER.format(i=i, remote=False)}]
            (folder / f"nb{i}.ipynb").write_text(json.dumps({"cells": cells}))
            references += 3
        elif i % 10 == 0:
            (folder / f"load{i}.py").write_text(LOADER.format(i=i, remote=i % 20 == 0))
            references += 3
        elif i % 10 == 5:
            (folder / f"api{i}.py").write_text(API.format(i=i))
            references += 1
            services += 2
        else:
            (folder / f"mod{i}.py").write_text(PLAIN.format(i=i))
    return references, services


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=5000)
    args = parser.parse_args()
    exe = str(Path(sys.executable).parent / "aiscan")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        expected, expected_services = build(root, args.files)
        argv = [exe, "scan", str(root), "--no-env", "--no-deps", "-f", "json"]
        samples = []
        for _ in range(RUNS):
            start = time.perf_counter()
            done = subprocess.run(argv, capture_output=True, check=False)
            samples.append(time.perf_counter() - start)
        report = json.loads(done.stdout)
        found = sum(1 for c in report["components"] if c["source"] == "code")
        services = len(report["services"])
        median = statistics.median(samples)
        print(
            f"{args.files} files, {expected} references and {expected_services} services "
            f"expected, {found} and {services} found: "
            f"{median:.2f} s median of {RUNS} (goal < {GOAL_SECONDS:.0f} s)"
        )
        complete = found == expected and services == expected_services
        return 0 if complete and median < GOAL_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
