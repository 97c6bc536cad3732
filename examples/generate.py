"""Regenerates the example model folders' tiny weight files.

The cards, licenses and policy in examples/ are written by hand; only the weights are generated,
so they stay small (a few hundred bytes) and byte-stable (one metadata key, fixed values).
Run it from the repository root after changing the examples: `python examples/generate.py`.
Needs the test extras (numpy, safetensors).
"""

from __future__ import annotations

import pickle
import zipfile
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file

MODELS = Path(__file__).resolve().parent / "models"


def tiny_tensors(seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "embeddings.weight": rng.standard_normal((16, 8)).astype(np.float32),
        "encoder.layer.0.weight": rng.standard_normal((8, 8)).astype(np.float16),
        "encoder.layer.0.bias": np.zeros(8, dtype=np.float16),
    }


def main() -> None:
    for seed, name in enumerate(
        ("permissive-encoder", "llama3-finetune", "noncommercial-diffusion")
    ):
        save_file(
            tiny_tensors(seed), MODELS / name / "model.safetensors", metadata={"format": "pt"}
        )
    # A legacy checkpoint: a torch-style zip holding a pickle, to show provenance.unsafe-format.
    with zipfile.ZipFile(MODELS / "unlicensed-legacy" / "pytorch_model.bin", "w") as archive:
        archive.writestr("archive/data.pkl", pickle.dumps({"weight": [0.0, 1.0]}, protocol=2))


if __name__ == "__main__":
    main()
