"""Model references in code: calls, constants, notebooks, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

from scanner.inventory import Problem
from scanner.readers.code_references import MAX_NOTEBOOK_BYTES, scan_file, scan_tree

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
