"""Glossary lookups per second: the seeded glossary (52 terms), then with 5,000 synthetic terms added.

    python -m benchmarks.glossary [--quick] [--lookups N] [--terms N]

Each lookup is what `DEF <word>` costs in storage: the index's freshness check and the match, in one
session on a migrated SQLite file. The mix is a third exact names or aliases, a third typos of them (a
letter dropped, swapped or replaced) and a third words the glossary does not have, in all four
languages. Synthetic terms have a name of one to three made-up words and one alias in each language.

Run from an older checkout (copy this file into its benchmarks/) it measures that code's `store.find`:
that is how the figures before the rapidfuzz index were taken.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

from benchmarks.common import add_common_arguments, write_result
from storage import glossary as store
from storage.db import make_engine, migrate, session_scope

SYLLABLES = ["ka", "mi", "to", "re", "su", "na", "lo", "be", "ti", "wa", "zu", "po", "ha", "ne", "ki", "do",
             "fa", "mo", "ri", "sa", "gu", "le", "ya", "vi", "ko", "chi", "ndo", "mba", "pe", "ju"]


def made_up(rnd: random.Random) -> str:
    return " ".join("".join(rnd.choice(SYLLABLES) for _ in range(rnd.randint(2, 4)))
                    for _ in range(rnd.randint(1, 3)))


def typo(rnd: random.Random, word: str) -> str:
    i = rnd.randrange(len(word) - 1)
    return rnd.choice([word[:i] + word[i + 1:], word[:i] + word[i + 1] + word[i] + word[i + 2:],
                       word[:i] + rnd.choice("aeiou") + word[i + 1:]])


def add_synthetic(db, count: int, rnd: random.Random) -> None:
    with session_scope(db) as s:
        for n in range(count):
            term = store.GlossaryTerm(key=f"synthetic_{n}", topic="local", status="approved")
            s.add(term)
            s.flush()
            s.add_all([store.GlossaryEntry(term_id=term.id, lang=lang, name=made_up(rnd), aliases=made_up(rnd),
                                           short="A made-up term.", source="import")
                       for lang in store.LANGUAGES])


def queries(db, count: int, rnd: random.Random) -> list[str]:
    with session_scope(db) as s:
        names = [w for e in s.exec(store.select(store.GlossaryEntry)) for w in (e.name, *e.alias_list)
                 if len(w) >= 4]
    exact = [rnd.choice(names) for _ in range(count // 3)]
    return exact + [typo(rnd, rnd.choice(names)) for _ in range(count // 3)] + \
        [made_up(rnd) for _ in range(count - 2 * (count // 3))]


def rate(db, texts: list[str]) -> dict[str, float]:
    index = store.GlossaryIndex() if hasattr(store, "GlossaryIndex") else None
    with session_scope(db) as s:
        def find(text: str):
            return index.find(s, text, None) if index else store.find(s, text, None)

        find(texts[0])  # the first lookup builds the index: measured apart
        started = time.perf_counter()
        answered = sum(find(text).term_id is not None for text in texts)
        elapsed = time.perf_counter() - started
    return {"lookups_per_s": round(len(texts) / elapsed, 1), "lookups": len(texts),
            "answered_directly": answered, "seconds": round(elapsed, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lookups", type=int, default=600)
    parser.add_argument("--terms", type=int, default=5000, help="synthetic terms added for the second run")
    add_common_arguments(parser)
    args = parser.parse_args()
    if args.quick:
        args.lookups, args.terms = 60, 300
    rnd = random.Random(13)
    with tempfile.TemporaryDirectory() as tmp:
        db = make_engine(f"sqlite:///{Path(tmp) / 'glossary.db'}")
        migrate(db)
        seeded = rate(db, queries(db, args.lookups, rnd))
        print(f"seeded glossary: {seeded['lookups_per_s']} lookups/s")
        add_synthetic(db, args.terms, rnd)
        grown = rate(db, queries(db, args.lookups, rnd))
        print(f"with {args.terms} synthetic terms: {grown['lookups_per_s']} lookups/s")
        db.dispose()
    write_result("glossary", {"seeded": seeded, "synthetic": {"terms": args.terms, **grown},
                              "implementation": "rapidfuzz index" if hasattr(store, "GlossaryIndex")
                              else "difflib scan"}, args)


if __name__ == "__main__":
    main()
