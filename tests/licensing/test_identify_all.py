"""`LicenseKnowledgeBase.identify_all`: many texts matched at once by forked workers give the
answers `identify` gives one by one, and a worker that dies costs speed, never answers."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from scanner.licensing import knowledge_base
from scanner.licensing.knowledge_base import load_knowledge_base, parallel_processes

LICENSES = Path(__file__).resolve().parents[2] / "licenses"
NOTICE = "Copyright (c) 2024 Example Corp.\n\n"
ADDED = "\n\nThe Software shall be used for Good, not Evil.\n"

fork_only = pytest.mark.skipif(sys.platform != "linux", reason="workers are forked on Linux only")


def _texts() -> list[str]:
    """Reference texts as shipped, under a copyright notice, with a clause added, and cut in
    half: full matches, similar texts and fragments."""
    kb = load_knowledge_base(LICENSES)
    references = [
        entry.reference_file.read_text(encoding="utf-8")
        for entry in kb.entries.values()
        if entry.reference_file is not None
    ][:8]
    assert len(references) == 8
    return [
        *references,
        *(NOTICE + text for text in references),
        *(text + ADDED for text in references),
        *(text[: len(text) // 2] for text in references),
    ]


class _ParentMatcher:
    """Stands for the prepared matcher: counts the texts matched in this process (not by a
    worker), each taking `pause` seconds more here so that the workers surely take some, and
    raises `KeyboardInterrupt` at the `interrupt_at`-th."""

    def __init__(self, real, pause: float = 0.0, interrupt_at: int | None = None) -> None:
        self.real = real
        self.pid = os.getpid()
        self.calls = 0
        self.pause = pause
        self.interrupt_at = interrupt_at

    def match(self, text, *, sections=False):
        if os.getpid() == self.pid:
            self.calls += 1
            if self.calls == self.interrupt_at:
                raise KeyboardInterrupt
            time.sleep(self.pause)
        return self.real.match(text, sections=sections)


def _expected(texts):
    expected = load_knowledge_base(LICENSES)
    return [expected.identify(text) for text in texts]


@fork_only
def test_workers_and_this_process_answer_as_identify_does(monkeypatch):
    texts = _texts()
    wanted = _expected(texts)
    assert {keys for keys, _ in wanted} - {()}, "the texts are recognised"
    assert any(m.verdict == "similar" for _, found in wanted for m in found)

    monkeypatch.setattr(knowledge_base, "parallel_processes", lambda texts: 2)
    kb = load_knowledge_base(LICENSES)
    counted = _ParentMatcher(kb._matcher, pause=0.02)
    kb.__dict__["_matcher"] = counted
    kb.identify_all([*texts, *texts])  # a text given twice is matched once
    matched_here = counted.calls
    assert 0 < matched_here < len(texts), "this process and a worker shared the texts"
    assert [kb.identify(text) for text in texts] == wanted
    assert counted.calls == matched_here, "identify found every answer made"


@fork_only
def test_texts_a_dead_worker_leaves_are_matched_here(monkeypatch):
    texts = _texts()

    def die(batches):
        os._exit(3)

    monkeypatch.setattr(knowledge_base, "parallel_processes", lambda texts: 2)
    monkeypatch.setattr(knowledge_base, "_adopt", die)
    kb = load_knowledge_base(LICENSES)
    kb.identify_all(texts)
    assert [kb.identify(text) for text in texts] == _expected(texts)


@fork_only
def test_an_interrupt_stops_the_workers_after_their_batch(monkeypatch):
    made = []

    class Recorded(knowledge_base._Batches):
        def __init__(self, *args):
            super().__init__(*args)
            made.append(self)

    many = [f"{text}\n{n}" for n in range(20) for text in _texts()]  # ~1 s of work
    monkeypatch.setattr(knowledge_base, "parallel_processes", lambda texts: 2)
    monkeypatch.setattr(knowledge_base, "_Batches", Recorded)
    kb = load_knowledge_base(LICENSES)
    kb.__dict__["_matcher"] = _ParentMatcher(kb._matcher, pause=0.02, interrupt_at=2)
    with pytest.raises(KeyboardInterrupt):
        kb.identify_all(many)
    assert not kb._identified
    (batches,) = made
    taken = batches._front.value  # by the worker: shared memory
    assert taken < len(batches.spans) // 2, "the worker went on after the interrupt"


@fork_only
def test_no_shared_memory_leaves_the_texts_to_identify(monkeypatch):
    from multiprocessing import context

    def no_semaphores(*args, **kwargs):
        raise OSError(38, "Function not implemented")

    monkeypatch.setattr(knowledge_base, "parallel_processes", lambda texts: 2)
    monkeypatch.setattr(context.ForkContext, "Lock", no_semaphores)
    kb = load_knowledge_base(LICENSES)
    texts = _texts()
    kb.identify_all(texts)
    assert not kb._identified
    assert [kb.identify(text) for text in texts] == _expected(texts)


def test_texts_already_answered_fork_nothing(monkeypatch):
    kb = load_knowledge_base(LICENSES)
    texts = _texts()
    for text in texts:
        kb.identify(text)
    asked: list[int] = []
    monkeypatch.setattr(knowledge_base, "parallel_processes", lambda n: asked.append(n) or 1)
    kb.identify_all(texts)
    assert asked == [0]


@fork_only
def test_workers_one_per_core_while_each_has_enough_texts(monkeypatch):
    monkeypatch.setattr(threading, "active_count", lambda: 1)  # a server an earlier test left
    cores = len(os.sched_getaffinity(0))
    assert parallel_processes(0) == 1
    assert parallel_processes(knowledge_base.MIN_TEXTS_PER_PROCESS - 1) == 1
    assert parallel_processes(10_000) == cores
    if cores > 1:
        assert parallel_processes(2 * knowledge_base.MIN_TEXTS_PER_PROCESS) == 2


@fork_only
def test_no_fork_while_another_thread_runs():
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        assert parallel_processes(10_000) == 1
    finally:
        release.set()
        other.join()


@fork_only
def test_output_written_before_the_workers_is_written_once():
    """A forked worker ends by flushing its copy of this process's output buffers: what was
    not yet written when it was forked would be written again (multiprocessing flushes them
    before it forks; a plain `os.fork` would not)."""
    program = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from scanner.licensing import knowledge_base
        from test_identify_all import LICENSES, _texts

        knowledge_base.parallel_processes = lambda texts: 2
        print("written before")
        sys.stderr.write("also on stderr")
        knowledge_base.load_knowledge_base(LICENSES).identify_all(_texts())
        """
    )
    run = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=120, check=True
    )
    assert run.stdout == "written before\n"
    assert run.stderr == "also on stderr"
