"""Whether a license text with a clause added is ever named as that license.

Goal (issue: license engine): 0 named. A variant is another license, so every reference text
the knowledge base matches against is taken, a clause is put into it at seeded random places
(between two words, on a line of its own, or in place of a word), and the text is identified.
The clauses restrict, charge, condition or choose a law; wherever they land (a copyright line,
a holder's name, a title, an appendix with no terms, the terms), the text is no longer the
license. The references and clauses are aiscan's own data: no download.

Run: `python benchmarks/clause_insertion.py [--places N] [--seed S]`. Exit status 1 when a
variant is named.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time

from scanner.licensing.knowledge_base import default_knowledge_base

CLAUSES = (
    "not",
    "no",
    "only",
    "never",
    "Noncommercial",
    "For research only.",
    "No commercial use.",
    "Military use forbidden.",
    "except for weapons",
    "You must pay a fee.",
    "shall not",
    "Commercial use requires a separate license.",
    "Attribution required.",
    "Licensee shall indemnify Licensor.",
    "Governed by the laws of France.",
    "Use by more than 100 users needs a license.",
)
_MARKUP = re.compile(r"\{\{|\}\}|\[\[|\]\]")


def variants(text: str, rng: random.Random, places: int) -> list[tuple[str, str, str]]:
    """(clause, how, variant) for each clause at `places` places."""
    words = text.split(" ")
    out = []
    for clause in CLAUSES:
        for _ in range(places):
            at = rng.randrange(len(words))
            out.append((clause, "between words", " ".join([*words[:at], clause, *words[at:]])))
            alone = " ".join(words[:at]) + f"\n\n{clause}\n\n" + " ".join(words[at:])
            out.append((clause, "own line", alone))
            if re.sub(r"\W", "", words[at]).lower() != clause.lower():  # "NO" for "no": the same
                instead = " ".join([*words[:at], clause, *words[at + 1 :]])
                out.append((clause, "in place of a word", instead))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--places", type=int, default=1, help="places per clause and reference")
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args(argv)
    kb = default_knowledge_base()
    rng = random.Random(args.seed)
    tried = references = 0
    named: list[tuple[str, str, str]] = []
    start = time.perf_counter()
    for entry in sorted(kb.entries.values(), key=lambda e: e.key):
        if entry.reference_file is None:
            continue
        text = _MARKUP.sub("", entry.reference_file.read_text(encoding="utf-8"))
        if entry.key not in kb.identify_text(text):
            continue  # a reference another one holds (LGPL-3.0 is only LGPL-3.0)
        references += 1
        for clause, how, variant in variants(text, rng, args.places):
            tried += 1
            if entry.key in kb.identify_text(variant):
                named.append((entry.key, clause, how))
    seconds = time.perf_counter() - start
    for key, clause, how in named:
        print(f"  NAMED {key}: {clause!r} ({how})")
    print(f"{tried} variants of {references} references in {seconds:.0f} s: ", end="")
    print(f"{len(named)} named as the license (goal: 0)")
    return 1 if named else 0


if __name__ == "__main__":
    sys.exit(main())
