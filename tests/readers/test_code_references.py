"""Model references in code: calls, constants, notebooks, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scanner.inventory import Problem
from scanner.readers.code_references import (
    MAX_NOTEBOOK_BYTES,
    MAX_NOTEBOOK_VALUES,
    MAX_SOURCE_TOKENS,
    scan_file,
    scan_tree,
)
from tests.conftest import findings, measured, scan_json

SAMPLE = """
import os
import vllm, timm, open_clip
from transformers import AutoModel, AutoTokenizer, pipeline
from huggingface_hub import hf_hub_download, snapshot_download
from sentence_transformers import SentenceTransformer
from peft import PeftModel
from diffusers import StableDiffusionPipeline

MODEL = "meta-llama/Llama-3.1-8B"

def embedder(name="BAAI/bge-small-en-v1.5"):
    return SentenceTransformer(name)

tok = AutoTokenizer.from_pretrained(MODEL, revision="main")
model = AutoModel.from_pretrained(
    "Qwen/Qwen2-7B",
    trust_remote_code=True,
    use_safetensors=False,
    revision="0123456789abcdef0123456789abcdef01234567",
)
clf = pipeline("text-classification", model="distilbert-base-uncased")
default = pipeline("sentiment-analysis")
data = hf_hub_download(repo_id="org/data", filename="x.json", repo_type="dataset")
snap = snapshot_download("stabilityai/sdxl-turbo")
llm = vllm.LLM(model="mistralai/Mistral-7B-v0.1")
vit = timm.create_model("hf-hub:timm/vit_base_patch16_224.augreg_in21k", pretrained=True)
plain = timm.create_model("resnet50")
clip = open_clip.create_model_and_transforms("ViT-B-32", pretrained="hf-hub:laion/CLIP-ViT-B-32")
env = AutoModel.from_pretrained(os.environ["MODEL_ID"])
adapter = PeftModel.from_pretrained(model, "org/adapter")
sd = StableDiffusionPipeline.from_pretrained("runwayml/stable-diffusion-v1-5", revision=REV)
"""

EXPECTED = {
    "meta-llama/Llama-3.1-8B",
    "BAAI/bge-small-en-v1.5",
    "Qwen/Qwen2-7B",
    "distilbert-base-uncased",
    "org/data",
    "stabilityai/sdxl-turbo",
    "mistralai/Mistral-7B-v0.1",
    "timm/vit_base_patch16_224.augreg_in21k",
    "laion/CLIP-ViT-B-32",
    "org/adapter",
    "runwayml/stable-diffusion-v1-5",
}


def refs(path: Path) -> dict[str, object]:
    found = {}
    for item in scan_file(path, path.name):
        assert not isinstance(item, Problem), item
        found[item.name] = item
    return found


def test_every_loading_call_in_a_realistic_module(tmp_path):
    path = tmp_path / "app.py"
    path.write_text(SAMPLE)
    found = refs(path)
    resolved = {name for name, item in found.items() if item.reference.resolved}
    assert resolved == EXPECTED
    unresolved = {
        item.reference.expression for item in found.values() if not item.reference.resolved
    }
    assert unresolved == {
        "os.environ['MODEL_ID']",
        "default model of pipeline task sentiment-analysis",
    }
    qwen = found["Qwen/Qwen2-7B"].reference
    assert (qwen.trust_remote_code, qwen.use_safetensors) == (True, False)
    assert qwen.revision == "0123456789abcdef0123456789abcdef01234567"
    assert qwen.line == 16 and qwen.call == "transformers.AutoModel.from_pretrained"
    assert found["meta-llama/Llama-3.1-8B"].reference.revision == "main"
    assert found["org/data"].type == "dataset"
    sd = found["runwayml/stable-diffusion-v1-5"].reference
    assert sd.revision is None and sd.revision_literal is False


def test_names_bound_twice_are_not_resolved(tmp_path):
    path = tmp_path / "m.py"
    path.write_text(
        "from transformers import AutoModel\nNAME = 'a/b'\nNAME = 'c/d'\n"
        "AutoModel.from_pretrained(NAME)\n"
    )
    (item,) = scan_file(path, "m.py")
    assert not item.reference.resolved and item.reference.expression == "NAME"


def test_notebook_cells_share_imports_and_constants(tmp_path):
    notebook = {
        "cells": [
            {"cell_type": "markdown", "source": ["from_pretrained('x/y')"]},
            {
                "cell_type": "code",
                "source": [
                    "%pip install transformers\n",
                    "from transformers import pipeline\n",
                    "M = 'org/model'\n",
                ],
            },
            {"cell_type": "code", "source": "!ls\np = pipeline('fill-mask', model=M)\n"},
        ]
    }
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(notebook))
    (item,) = scan_file(path, "nb.ipynb")
    assert item.name == "org/model"
    assert (item.reference.cell, item.reference.line) == (3, 2)


def test_bad_input_is_reported_not_crashed(tmp_path):
    (tmp_path / "py2.py").write_text("print 'hello'\nAutoModel.from_pretrained('a/b')\n")
    (tmp_path / "latin.py").write_bytes(
        b"# -*- coding: latin-1 -*-\nfrom transformers import AutoModel\n"
        b"AutoModel.from_pretrained('caf\xe9/model')\n"
    )
    (tmp_path / "binary.py").write_bytes(b"from_pretrained \xff\xfe\x00garbage")
    (tmp_path / "nb.ipynb").write_text("{not json from_pretrained")
    big = tmp_path / "big.ipynb"
    with big.open("wb") as handle:
        handle.truncate(MAX_NOTEBOOK_BYTES + 1)
    items = {(file, type(item).__name__): item for file, item in scan_tree(tmp_path)}
    assert "not valid Python 3" in items["py2.py", "Problem"].message
    assert items["latin.py", "FoundReference"].name == "café/model"
    assert ("binary.py", "Problem") in items
    assert "not a valid notebook" in items["nb.ipynb", "Problem"].message
    assert "limit" in items["big.ipynb", "Problem"].message


def test_environments_and_hidden_folders_are_skipped(tmp_path):
    for folder in (".venv/lib", "node_modules/x", ".hidden", "src"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "m.py").write_text(
            "from transformers import AutoModel\nAutoModel.from_pretrained('a/b')\n"
        )
    assert [file for file, _ in scan_tree(tmp_path)] == ["src/m.py"]


# --- hostile code and notebooks: bounded work, a problem on the file, never a traceback -------


def _scan(path: Path, text: str | bytes) -> list:
    if isinstance(text, str):
        text = text.encode("utf-8")
    path.write_bytes(text)
    return list(scan_file(path, path.name))


def _problem(items: list) -> str:
    (problem,) = items
    assert isinstance(problem, Problem), problem
    return problem.message


def test_a_900_term_concatenation_is_an_unresolved_reference(tmp_path):
    terms = " + ".join(['"x"'] * 900)
    (item,) = _scan(
        tmp_path / "m.py",
        f"from transformers import AutoModel\nAutoModel.from_pretrained({terms})\n",
    )
    assert not item.reference.resolved
    assert item.reference.expression == "(an expression nested too deeply to show)"


def test_an_expression_too_deep_for_the_parser_is_a_problem(tmp_path):
    message = _problem(_scan(tmp_path / "m.py", "from_pretrained\nx = " + "-" * 100_000 + "1\n"))
    assert message == "nested too deeply to parse; not scanned for model references"


def test_dense_code_over_the_token_bound_is_a_problem_quickly_and_small(tmp_path):
    path = tmp_path / "m.py"
    # 8 MiB of this took 4.7 GB and 40 s to parse; 2 MB is four times the token bound.
    path.write_text("from transformers import pipeline\n" + "x=1\n" * 500_000)
    messages = measured(
        f"[p.message for p in scan_file(Path({str(path)!r}), 'm.py')]",
        imports=("from pathlib import Path\nfrom scanner.readers.code_references import scan_file"),
        seconds=5,
        megabytes=150,
    )
    (message,) = messages
    assert message == (
        f"about 1,500,004 tokens of code, over the {MAX_SOURCE_TOKENS:,} parsed per file; "
        "not scanned for model references"
    )


def test_a_notebook_of_tiny_values_is_a_problem_quickly_and_small(tmp_path):
    # 40 MB of `{}` took 1.9 GB; at 30 MB it is under the byte limit, so the value count acts.
    path = tmp_path / "nb.ipynb"
    path.write_bytes(b'{"cells": [], "from_pretrained": [' + b"{}," * 10_000_000 + b"{}]}")
    assert path.stat().st_size < MAX_NOTEBOOK_BYTES
    messages = measured(
        f"[p.message for p in scan_file(Path({str(path)!r}), 'nb.ipynb')]",
        imports=("from pathlib import Path\nfrom scanner.readers.code_references import scan_file"),
        seconds=3,
        megabytes=150,
    )
    assert messages == [
        f"up to 20,000,006 JSON values (commas and brackets), over the "
        f"{MAX_NOTEBOOK_VALUES:,} read per notebook; not scanned"
    ]


def test_notebook_code_cells_together_count_against_the_token_bound(tmp_path):
    cell = {"cell_type": "code", "source": "from_pretrained\n" + "x=1\n" * 50_000}
    message = _problem(_scan(tmp_path / "nb.ipynb", json.dumps({"cells": [cell] * 3})))
    assert "over the 300,000 parsed per file" in message


def test_a_notebook_with_long_text_outputs_is_still_read(tmp_path):
    output = {"output_type": "stream", "text": [f"step {i}, loss 0.{i}\n" for i in range(100_000)]}
    cell = {
        "cell_type": "code",
        "source": "from transformers import pipeline\np = pipeline('x', model='org/m')\n",
        "outputs": [output],
    }
    (item,) = _scan(tmp_path / "nb.ipynb", json.dumps({"cells": [cell]}))
    assert item.name == "org/m"


@pytest.mark.parametrize(
    ("notebook", "words"),
    [
        ({"cells": [{"cell_type": "code", "source": [1, 2]}]}, "cell 1 source is not text"),
        ({"cells": [{"cell_type": "code", "source": {"a": "b"}}]}, "cell 1 source is not text"),
        ({"cells": [{"cell_type": "code", "source": [["x"]]}]}, "cell 1 source is not text"),
        ({"cells": ["from_pretrained"]}, "cell 1 is a string"),
        ({"cells": {"a": 1}}, "`cells` is an object"),
        (["from_pretrained"], "an array, not an object"),
    ],
    ids=["source-ints", "source-object", "source-nested", "cell-string", "cells-object", "array"],
)
def test_wrong_typed_notebooks_are_problems(tmp_path, notebook, words):
    notebook = {"from_pretrained": 1, **notebook} if isinstance(notebook, dict) else notebook
    message = _problem(_scan(tmp_path / "nb.ipynb", json.dumps(notebook)))
    assert message.startswith("not a valid notebook: ") and words in message


def test_a_deeply_nested_notebook_is_a_problem(tmp_path):
    text = '{"x": "from_pretrained", "cells": ' + "[" * 100_000 + "]" * 100_000 + "}"
    assert _problem(_scan(tmp_path / "nb.ipynb", text)) == "not a valid notebook: nested too deeply"


def test_hostile_code_files_are_unreadable_findings_in_a_project_scan(tmp_path):
    project = tmp_path / "proj"
    project.mkdir()
    (project / "requirements.txt").write_text("transformers\n")
    (project / "nb.ipynb").write_text(
        json.dumps({"cells": [{"cell_type": "code", "source": [1]}], "x": "from_pretrained"})
    )
    (project / "deep.py").write_text("from_pretrained\nx = " + "-" * 100_000 + "1\n")
    result, report = scan_json(project)
    hits = {hit["component"]: hit["message"] for hit in findings(report, "scan.unreadable")}
    assert len(hits) == 2, hits
    assert result.exit_code == 1


def test_a_notebook_of_escaped_quotes_is_refused_in_linear_time(tmp_path):
    path = tmp_path / "nb.ipynb"
    path.write_bytes(b'{"x": "from_pretrained", "cells": "' + b'\\"' * 5_000_000)  # 10 MB
    messages = measured(
        f"[p.message for p in scan_file(Path({str(path)!r}), 'nb.ipynb')]",
        imports=("from pathlib import Path\nfrom scanner.readers.code_references import scan_file"),
        seconds=2,
        megabytes=100,
    )
    (message,) = messages
    assert message.startswith("not a valid notebook: Unterminated string")
