"""Realistic person-register columns (clean and dirty) for differential tests and timing."""

from __future__ import annotations

import random

import pyarrow as pa

from exhub.demo.people import HEFEI_DISTRICTS, make_person
from exhub.semantic.generators import corrupt_one_char, make_resident_id

_FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


def _legacy_id(rng: random.Random, resident_id: str) -> str:
    """The variations the marriage export writes (see exhub/demo/world.py)."""
    style = rng.randrange(10)
    if style == 0 and resident_id[6:8] == "19":
        return resident_id[:6] + resident_id[8:17]
    if style == 1:
        return resident_id.translate(_FULL_WIDTH)
    if style == 2:
        return resident_id.lower() + " "
    return resident_id


def person_columns(n: int, seed: int = 6, dirty: float = 0.2) -> dict[str, pa.Array]:
    """Columns of a person register of ``n`` rows; ``dirty`` is the share of legacy rows."""
    rng = random.Random(seed)
    ids, mobiles, divisions, names, addresses = [], [], [], [], []
    for _ in range(n):
        person = make_person(rng, make_resident_id)
        rid, mobile, division = person.resident_id, person.mobile, person.division
        if rng.random() < dirty:
            rid = _legacy_id(rng, rid)
            if mobile and rng.random() < 0.5:
                mobile = f"+86 {mobile[:3]}-{mobile[3:7]}-{mobile[7:]}"
        roll = rng.random()
        if roll < 0.005:
            rid = corrupt_one_char(rng, person.resident_id)
        elif roll < 0.01:
            mobile = f"0551-{rng.randrange(10**7):07d}"
        elif roll < 0.015:
            division = rng.choice(["349999", "", " ", "34010", "110101", "440305"])
        elif roll < 0.02:
            rid = rng.choice([None, "", "  ", "unknown"])
        ids.append(rid)
        mobiles.append(mobile)
        divisions.append(division if rng.random() > 0.01 else rng.choice(HEFEI_DISTRICTS) + " ")
        names.append(person.name)
        addresses.append(person.address)
    return {
        "resident_id": pa.array(ids, pa.string()),
        "mobile": pa.array(mobiles, pa.string()),
        "division": pa.array(divisions, pa.string()),
        "name": pa.array(names, pa.string()),
        "address": pa.array(addresses, pa.string()),
    }


def clean_person_columns(n: int, seed: int = 7) -> dict[str, pa.Array]:
    """Columns of an already clean register (the common case of a well-kept system)."""
    return person_columns(n, seed, dirty=0.0)
