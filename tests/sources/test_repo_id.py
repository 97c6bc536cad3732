"""aiscan's repo-id check gives huggingface_hub's answer for every string.

`scanner.remote.hub.is_repo_id` restates huggingface_hub's validator so that a local scan does
not import huggingface_hub; this keeps the two from drifting apart.
"""

from __future__ import annotations

import pytest
from huggingface_hub.errors import HFValidationError
from huggingface_hub.utils import validate_repo_id
from hypothesis import example, given, settings
from hypothesis import strategies as st

from scanner.remote.hub import is_repo_id

PARTS = st.text(alphabet="abZ09-_./é ", max_size=12)


def hub_says(text: str) -> bool:
    if text.count("/") != 1:
        return False
    try:
        validate_repo_id(text)
    except HFValidationError:
        return False
    return True


@settings(max_examples=3000, deadline=None)
@given(st.builds(lambda a, b: f"{a}/{b}", PARTS, PARTS) | st.text(max_size=20))
@example("sentence-transformers/all-MiniLM-L6-v2")
@example("a" * 96 + "/" + "b" * 96)
@example("a" * 97 + "/b")
@example("org/name.git")
@example("org/na--me")
@example("org/.name")
@example("org/näme")
def test_same_answer_as_huggingface_hub(text: str) -> None:
    assert is_repo_id(text) == hub_says(text)


@pytest.mark.parametrize(
    ("text", "valid"),
    [("meta-llama/Llama-3.1-8B", True), ("gpt2", False), ("a/b/c", False), ("org/-x", False)],
)
def test_known_ids(text: str, valid: bool) -> None:
    assert is_repo_id(text) is valid
