"""Time the semantic checks per 100,000 rows, reference (old) implementation vs current.

Not a test: run ``.venv/bin/python tests/unit/semantic/bench_semantic.py``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import semantic_reference as ref
from semantic_samples import clean_person_columns, person_columns

from exhub.semantic import (
    check_admin_division,
    check_mobile,
    check_resident_id,
    normalize_text,
)

ROWS = 100_000


def _best_ms(fn, arg, repeat: int = 15) -> float:
    fn(arg)
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn(arg)
        best = min(best, time.perf_counter() - start)
    return best * 1000 * ROWS / len(arg)


def main() -> None:
    cases = []
    for label, cols in (
        ("dirty", person_columns(ROWS)),
        ("clean", clean_person_columns(ROWS)),
    ):
        cases += [
            (
                f"resident_id ({label})",
                ref.check_resident_id,
                check_resident_id,
                cols["resident_id"],
            ),
            (f"mobile ({label})", ref.check_mobile, check_mobile, cols["mobile"]),
            (
                f"admin_division ({label})",
                ref.check_admin_division,
                check_admin_division,
                cols["division"],
            ),
            (f"normalize_text name ({label})", ref.normalize_text, normalize_text, cols["name"]),
            (
                f"normalize_text address ({label})",
                ref.normalize_text,
                normalize_text,
                cols["address"],
            ),
        ]
    print(f"{'ms per 100k rows':36} {'before':>8} {'after':>8} {'speedup':>8}")
    for name, old, new, arr in cases:
        before, after = _best_ms(old, arr), _best_ms(new, arr)
        print(f"{name:36} {before:8.2f} {after:8.2f} {before / after:7.1f}x")


if __name__ == "__main__":
    main()
