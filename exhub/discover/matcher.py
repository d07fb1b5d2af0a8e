"""Score source columns against shared-schema fields and pick each table's contract.

A column scores against a field on two kinds of evidence, each kept as text for the YAML
comment: its **name** (pinyin initials, HRSS element codes, Chinese or English spellings of
a concept, or the field's own name and Chinese description) and its **values** (the share of
the sample that passes the field's semantic check, parses as its type, or is a known code of
its value set). Columns are assigned to fields greedily, strongest first, one each; the
contract whose assignments add up highest (plus a bonus when its primary key is filled) wins.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from exhub.contracts import Contract, FieldSpec
from exhub.discover.profile import ColumnProfile, TableSample
from exhub.discover.vocabulary import (
    CODE_STANDARDS,
    CONCEPTS,
    QUALIFIERS,
    Concept,
    label_value,
    qualifier_of,
)

THRESHOLD = 0.5
"""Least confidence for a proposed mapping line; weaker guesses are only hinted at."""
PRIMARY_KEY_BONUS = 1.0
MAX_CODES = 30
"""A column with more distinct values than this is not a code column."""

_PAREN = re.compile(r"[（(][^）)]*[）)]")
_TYPE_CHECKS = {
    "date": ("date_ratio", "parseable dates", 0.45),
    "timestamp": ("datetime_ratio", "date-times", 0.45),
    "int": ("numeric_ratio", "numbers", 0.3),
    "long": ("numeric_ratio", "numbers", 0.3),
    "double": ("numeric_ratio", "numbers", 0.3),
}


@dataclass
class Suggestion:
    """One proposed mapping line: a field filled from a column, with how sure and why."""

    field: str
    column: str
    confidence: float
    evidence: list[str]
    code_map: dict[str, str] | None = None
    unknown_codes: list[tuple[str, int]] = field(default_factory=list)


@dataclass
class Unmapped:
    """A column no field took, with the best (too weak or already taken) guess."""

    column: ColumnProfile
    hint: str | None = None


@dataclass
class StreamProposal:
    """What discovery proposes for one table."""

    table: TableSample
    contract: Contract
    score: float
    suggestions: list[Suggestion]
    unmapped: list[Unmapped]
    cursor: Suggestion | None = None
    runner_up: tuple[str, float] | None = None

    @property
    def missing_required(self) -> list[str]:
        """Required contract fields no column fills."""
        taken = {s.field for s in self.suggestions}
        return [f.name for f in self.contract.fields if f.required and f.name not in taken]

    @property
    def key_filled(self) -> bool:
        """Whether every primary-key field of the contract is mapped."""
        taken = {s.field for s in self.suggestions}
        return all(k in taken for k in self.contract.primary_key)


# --- names ----------------------------------------------------------------------------


def _snake(name: str) -> str:
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name.strip())
    return re.sub(r"[^0-9a-z\u4e00-\u9fff]+", "_", spaced.lower()).strip("_")


def _compact(name: str) -> str:
    return re.sub(r"[^0-9A-Za-z\u4e00-\u9fff]", "", name).upper()


@lru_cache(maxsize=65536)
def _concept_name(column: str, concept: Concept) -> tuple[float, str, str | None]:
    """How well ``column`` spells ``concept``: score, evidence and a qualifier prefix."""
    compact, snake = _compact(column), _snake(column)
    tokens = [t.upper() for t in re.split(r"[_\-\s.]+", column.strip()) if t]
    best: tuple[float, str, str | None] = (0.0, "", None)

    def consider(score: float, evidence: str, prefix: str = "") -> None:
        nonlocal best
        if score > best[0]:
            best = (score, evidence, qualifier_of(prefix))

    for spelling, kind, term in concept.spellings():
        gloss = f" ({kind} {term})" if kind in ("pinyin", "HRSS code") else ""
        if kind in ("pinyin", "HRSS code"):
            exact = 0.95 if kind == "HRSS code" else 0.9
            if compact == spelling:
                consider(exact, f"name {column}{gloss}")
            elif len(tokens) > 1 and tokens[-1] == spelling:
                consider(0.8, f"name {column} ends with {spelling}{gloss}", "".join(tokens[:-1]))
            elif len(tokens) > 1 and spelling in tokens:
                consider(0.5, f"name {column} contains {spelling}{gloss}")
            elif len(spelling) >= 3 and compact.endswith(spelling):
                prefix = compact[: -len(spelling)]
                consider(0.75, f"name {column} ends with {spelling}{gloss}", prefix)
        elif kind == "Chinese":
            if compact == spelling:
                consider(0.95, f"name {column}")
            elif compact.endswith(spelling):
                consider(0.8, f"name {column} ends with {spelling}", compact[: -len(spelling)])
            elif len(spelling) >= 3 and spelling in compact:
                consider(0.6, f"name {column} contains {spelling}")
        elif snake == spelling:
            consider(0.9, f"name {column}")
        elif snake.endswith("_" + spelling):
            consider(0.75, f"name {column} ends with {spelling}", snake[: -len(spelling)])
    return best


def _field_name(column: str, spec: FieldSpec) -> tuple[float, str]:
    """How well ``column`` spells the field itself (its name or Chinese description)."""
    if _snake(column) == spec.name:
        return 0.95, f"name {column} = field {spec.name}"
    described = _PAREN.sub("", spec.description.zh).strip()
    compact = _compact(column)
    if compact and compact == _compact(described):
        return 0.9, f"name {column} = {spec.name}'s description"
    if len(described) >= 3 and described in compact:
        return 0.7, f"name {column} contains {described}"
    return 0.0, ""


def _qualifier_adjustment(qualifier: str | None, spec: FieldSpec) -> float:
    own = next((q for q in QUALIFIERS if spec.name.startswith(q + "_")), None)
    if qualifier is None:
        return -0.05 if own else 0.0
    return 0.05 if own == qualifier else -0.3


# --- values ---------------------------------------------------------------------------


@dataclass
class _ValueEvidence:
    ratio: float
    text: str
    strength: float
    code_map: dict[str, str] | None = None
    unknown: list[tuple[str, int]] = field(default_factory=list)


def _codes(profile: ColumnProfile, spec: FieldSpec) -> _ValueEvidence | None:
    allowed = list(spec.values or [])
    if profile.distinct > MAX_CODES:
        return _ValueEvidence(0.0, f"{profile.distinct}+ distinct values, not a code set", 0.0)
    known, unknown, code_map = 0, [], {}
    numeric = True
    for value, count in profile.counts.most_common():
        canonical = label_value(spec.name, value, allowed)
        if canonical is None:
            unknown.append((value, count))
            continue
        known += count
        numeric = numeric and value.isdigit()
        if value != canonical:
            code_map[value] = canonical
    code_map = dict(sorted(code_map.items()))
    ratio = known / profile.present
    standard = CODE_STANDARDS.get(spec.name, "known labels") if numeric else "known labels"
    return _ValueEvidence(
        ratio,
        f"{ratio:.0%} {standard} of {spec.name}",
        0.4 if numeric else 0.85,
        code_map or None,
        unknown,
    )


def _values(
    profile: ColumnProfile, spec: FieldSpec, concepts: Sequence[Concept]
) -> _ValueEvidence | None:
    if not profile.present:
        return None
    if spec.values:
        return _codes(profile, spec)
    checked = next((c for c in concepts if c.check), None)
    if checked is not None:
        ratio = getattr(profile, checked.check)()
        return _ValueEvidence(ratio, f"{ratio:.0%} {checked.check_label}", checked.strength)
    kind = "double" if spec.type.startswith("decimal") else spec.type
    if kind in _TYPE_CHECKS:
        method, label, strength = _TYPE_CHECKS[kind]
        ratio = getattr(profile, method)()
        return _ValueEvidence(ratio, f"{ratio:.0%} {label}", strength)
    return None


def _combine(name: float, values: _ValueEvidence | None) -> float:
    if values is None:
        return name
    ratio, strength = values.ratio, values.strength
    if name <= 0:
        return strength * ratio if ratio >= 0.8 else 0.0
    if ratio >= 0.5:
        return 1 - (1 - name) * (1 - max(strength, 0.5) * ratio)
    return name * (0.5 + ratio)  # the values contradict the name


def score_pair(profile: ColumnProfile, spec: FieldSpec) -> Suggestion:
    """Score one column against one field, keeping the evidence."""
    concepts = [c for c in CONCEPTS if c.applies_to(spec)]
    name, name_text = _field_name(profile.name, spec)
    qualifier = None
    for concept in concepts:
        score, text, prefix = _concept_name(profile.name, concept)
        if score > name:
            name, name_text, qualifier = score, text, prefix
    if name > 0:
        name = max(0.0, min(1.0, name + _qualifier_adjustment(qualifier, spec)))
    values = _values(profile, spec, concepts)
    confidence = round(_combine(name, values), 2)
    evidence = [t for t in (name_text, values.text if values else "") if t]
    if profile.present == 0:
        evidence.append("no values in the sample")
    suggestion = Suggestion(spec.name, profile.name, confidence, evidence)
    if values is not None and values.ratio >= 0.5:
        suggestion.code_map = values.code_map
        suggestion.unknown_codes = values.unknown
    return suggestion


# --- assignment -----------------------------------------------------------------------


def _assign(table: TableSample, contract: Contract) -> tuple[list[Suggestion], list[Unmapped]]:
    pairs = [score_pair(p, spec) for spec in contract.fields for p in table.columns]
    order = {spec.name: i for i, spec in enumerate(contract.fields)}
    pairs.sort(key=lambda s: -s.confidence)
    taken_fields: set[str] = set()
    taken_columns: set[str] = set()
    chosen: list[Suggestion] = []
    for pair in pairs:
        if pair.confidence < THRESHOLD:
            break
        if pair.field in taken_fields or pair.column in taken_columns:
            continue
        chosen.append(pair)
        taken_fields.add(pair.field)
        taken_columns.add(pair.column)
    chosen.sort(key=lambda s: order[s.field])
    unmapped = []
    for profile in table.columns:
        if profile.name in taken_columns:
            continue
        guess = next((p for p in pairs if p.column == profile.name and p.confidence >= 0.3), None)
        hint = None
        if guess is not None:
            why = "; ".join(guess.evidence)
            hint = f"{guess.field}? {guess.confidence:.2f}: {why}"
            if guess.field in taken_fields:
                hint += " (field already mapped)"
        unmapped.append(Unmapped(profile, hint))
    return chosen, unmapped


def _cursor(table: TableSample, suggestions: list[Suggestion]) -> Suggestion | None:
    """An update-time column whose order is time order: the incremental cursor."""
    by_name = {p.name: p for p in table.columns}
    updated = next((s for s in suggestions if s.field == "updated_at"), None)
    candidates = [updated.column] if updated else []
    stamp = next(c for c in CONCEPTS if c.key == "updated_at")
    candidates += [p.name for p in table.columns if _concept_name(p.name, stamp)[0] >= 0.75]
    for column in dict.fromkeys(candidates):
        profile = by_name[column]
        sortable = profile.iso_sortable_ratio()
        if sortable < 0.95 or profile.present == 0:
            continue
        score, text, _ = _concept_name(column, stamp)
        confidence = round(min(max(score, updated.confidence if updated else 0), sortable), 2)
        kind = "typed timestamps" if profile.is_temporal else "sortable ISO text"
        evidence = [t for t in (text, f"{sortable:.0%} {kind}") if t]
        return Suggestion("cursor", column, confidence, evidence)
    return None


def propose_stream(
    table: TableSample, contracts: Sequence[Contract], *, incremental: bool
) -> StreamProposal:
    """Pick the contract the table fills best and map its columns.

    Args:
        table: the sampled table.
        contracts: every shared schema to consider.
        incremental: whether the connector can read incrementally (propose a cursor).

    Returns:
        The best-scoring proposal; ``runner_up`` names the next contract and its score.
    """
    ranked: list[tuple[float, float, StreamProposal]] = []
    for contract in contracts:
        suggestions, unmapped = _assign(table, contract)
        score = sum(s.confidence for s in suggestions)
        proposal = StreamProposal(table, contract, 0.0, suggestions, unmapped)
        if suggestions and proposal.key_filled:
            score += PRIMARY_KEY_BONUS
        proposal.score = round(score, 2)
        coverage = len(suggestions) / len(contract.fields)
        ranked.append((proposal.score, coverage, proposal))
    ranked.sort(key=lambda r: (-r[0], -r[1], r[2].contract.ref))
    best = ranked[0][2]
    if len(ranked) > 1:
        best.runner_up = (ranked[1][2].contract.ref, ranked[1][0])
    if incremental:
        best.cursor = _cursor(table, best.suggestions)
    return best
