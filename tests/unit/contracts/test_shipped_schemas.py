"""Every shared schema shipped in ``schemas/`` loads, is listed, and follows the house rules.

The model checks what a single file can get wrong; these tests add what a reviewer would ask
of a shipped schema: bilingual text, types that fit the checks, cited legal bases, and versions
that stay compatible with the version before.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from exhub.contracts import (
    Contract,
    ContractRegistry,
    NullRatioRule,
    Sensitivity,
    SharingClass,
    UniqueKeyRule,
    contract_hash,
    load_contract,
)
from exhub.contracts.loader import CONTRACT_FILE
from exhub.contracts.models import FIELD_NAME
from exhub.errors import ConfigError

pytestmark = pytest.mark.unit

SCHEMAS = Path(__file__).resolve().parents[3] / "schemas"
REGISTRY = ContractRegistry(SCHEMAS)
SHIPPED = {
    "person@1",
    "person@2",
    "legal_entity@1",
    "service_item@1",
    "service_case@1",
    "service_evaluation@1",
    "certificate@1",
}
CJK = re.compile(r"[\u4e00-\u9fff]")
NUMERIC = {"int", "long", "double"}
TEMPORAL = {"date", "timestamp"}
GRADES = list(Sensitivity)


def is_numeric(type_: str) -> bool:
    return type_ in NUMERIC or type_.startswith("decimal(")


def all_refs() -> list[str]:
    return REGISTRY.refs()


@pytest.fixture(scope="module", params=all_refs())
def contract(request: pytest.FixtureRequest) -> Contract:
    return REGISTRY.get(request.param)


def test_registry_lists_every_shipped_schema() -> None:
    refs = REGISTRY.refs()
    assert set(refs) >= SHIPPED, f"missing: {sorted(SHIPPED - set(refs))}"
    assert refs == sorted(refs, key=lambda r: (r.split("@")[0], int(r.split("@")[1])))
    assert len(refs) == len(set(refs))


def test_every_yaml_file_below_schemas_is_a_contract_file() -> None:
    # The registry skips files whose names do not match <name>.v<N>.yaml, and only looks one
    # folder deep; a misnamed or misplaced contract would silently never be found.
    yaml_files = sorted([*SCHEMAS.rglob("*.yaml"), *SCHEMAS.rglob("*.yml")])
    misplaced = [
        str(p.relative_to(SCHEMAS))
        for p in yaml_files
        if p.parent.parent != SCHEMAS or not CONTRACT_FILE.match(p.name)
    ]
    assert not misplaced, f"not <domain>/<name>.v<N>.yaml: {misplaced}"
    assert len(yaml_files) == len(REGISTRY.refs())


@pytest.mark.parametrize("ref", all_refs())
def test_shipped_schema_loads(ref: str) -> None:
    contract = REGISTRY.get(ref)
    assert contract.ref == ref
    path = SCHEMAS / contract.domain / f"{contract.name}.v{contract.version}.yaml"
    assert load_contract(path) == contract


def test_name_without_version_resolves_to_latest() -> None:
    assert REGISTRY.get("person").ref == "person@2"
    assert REGISTRY.get("person@1").ref == "person@1"


@pytest.mark.parametrize("ref", ["nobody@1", "person@9", "person@x", "nobody"])
def test_unknown_ref_is_a_config_error_listing_the_known_ones(ref: str) -> None:
    with pytest.raises(ConfigError) as info:
        REGISTRY.get(ref)
    assert ref in str(info.value)
    assert "person@1" in str(info.value)


def test_every_text_is_bilingual(contract: Contract) -> None:
    texts = {"title": contract.title}
    if contract.description:
        texts["description"] = contract.description
    texts.update({f"fields.{f.name}.description": f.description for f in contract.fields})
    for where, text in texts.items():
        assert CJK.search(text.zh), f"{contract.ref} {where}: zh has no Chinese text"
        assert text.en.strip(), f"{contract.ref} {where}: en is empty"
        assert not CJK.search(text.en), f"{contract.ref} {where}: en contains Chinese text"


def test_checks_fit_the_field_type(contract: Contract) -> None:
    for spec in contract.fields:
        where = f"{contract.ref} field {spec.name}"
        if spec.semantic or spec.values or spec.pattern:
            assert spec.type == "string", f"{where}: semantic/values/pattern need type string"
        if spec.pattern:
            # The model compiles patterns with Python's re; the engine runs them in Arrow (RE2).
            pc.match_substring_regex(pa.array(["x"]), spec.pattern)
        if spec.values:
            assert len(spec.values) == len(set(spec.values)), f"{where}: values repeat"
            bad = [v for v in spec.values if not re.match(FIELD_NAME, v)]
            assert not bad, f"{where}: value-set codes are English snake_case, got {bad}"
        if spec.range is None:
            continue
        bounds = [b for b in (spec.range.min, spec.range.max) if b is not None]
        assert bounds, f"{where}: empty range"
        if is_numeric(spec.type):
            assert all(isinstance(b, float | int) for b in bounds), f"{where}: numeric bounds"
        elif spec.type in TEMPORAL:
            assert all(isinstance(b, str) for b in bounds), f"{where}: quote ISO date bounds"
            parse = date.fromisoformat if spec.type == "date" else datetime.fromisoformat
            bounds = [parse(b) for b in bounds]  # type: ignore[arg-type]
        else:
            pytest.fail(f"{where}: a range on type {spec.type}")
        assert bounds == sorted(bounds), f"{where}: range min above max"


def test_sensitive_data_is_graded_and_not_shared_freely(contract: Contract) -> None:
    semantic_pii = {"cn_resident_id", "cn_mobile"}
    for spec in contract.fields:
        if spec.semantic in semantic_pii:
            assert spec.pii, f"{contract.ref}.{spec.name}: a {spec.semantic} is personal data"
    if contract.sharing.class_ is SharingClass.UNCONDITIONAL:
        top = [f.name for f in contract.fields if f.sensitivity is Sensitivity.L4]
        assert not top, f"{contract.ref}: L4 fields {top} in an unconditionally shared dataset"


def test_restricted_sharing_cites_a_regulation(contract: Contract) -> None:
    if contract.sharing.class_ is SharingClass.UNCONDITIONAL:
        return
    basis = contract.sharing.legal_basis or ""
    assert re.search(r"《[^》]+》", basis), f"{contract.ref}: cite the regulation as 《title》"


def test_dataset_rules_are_meaningful(contract: Contract) -> None:
    assert any(isinstance(r, UniqueKeyRule) for r in contract.rules), (
        f"{contract.ref}: merge on the primary key needs a unique_key rule"
    )
    rule_ids = [rule_id(rule) for rule in contract.rules]
    assert len(rule_ids) == len(set(rule_ids)), f"{contract.ref}: repeated rules {rule_ids}"
    for rule in contract.rules:
        if isinstance(rule, NullRatioRule):
            assert not contract.field(rule.field).required, (
                f"{contract.ref}: null_ratio on required field {rule.field} can never fail"
            )


def rule_id(rule: object) -> str:
    """Dataset rule id as exhub/validate/gate.py names it: ``type`` or ``null_ratio:field``."""
    if isinstance(rule, NullRatioRule):
        return f"{rule.type}:{rule.field}"
    return rule.type  # type: ignore[attr-defined,no-any-return]


def versions_by_name() -> list[tuple[str, int, int]]:
    versions: dict[str, list[int]] = defaultdict(list)
    for ref in all_refs():
        name, _, version = ref.partition("@")
        versions[name].append(int(version))
    return [
        (name, old, new)
        for name, numbers in sorted(versions.items())
        for old, new in zip(sorted(numbers), sorted(numbers)[1:], strict=False)
    ]


@pytest.mark.parametrize(("name", "old", "new"), versions_by_name(), ids=lambda v: str(v))
def test_new_version_is_compatible_with_the_previous(name: str, old: int, new: int) -> None:
    before, after = REGISTRY.get(f"{name}@{old}"), REGISTRY.get(f"{name}@{new}")
    assert new == old + 1, f"{name}: versions skip from v{old} to v{new}"
    assert (after.domain, after.owner) == (before.domain, before.owner)
    assert after.primary_key == before.primary_key
    for spec in before.fields:
        assert spec.name in {f.name for f in after.fields}, f"{name}@{new} drops {spec.name}"
        moved = after.field(spec.name)
        assert moved.type == spec.type, f"{name}@{new}.{spec.name}: type changed"
        assert moved.semantic == spec.semantic, f"{name}@{new}.{spec.name}: semantic changed"
        assert moved.required or not spec.required, f"{name}@{new}.{spec.name}: no longer required"
        assert not moved.required or spec.required, f"{name}@{new}.{spec.name}: newly required"
        assert GRADES.index(moved.sensitivity) >= GRADES.index(spec.sensitivity), (
            f"{name}@{new}.{spec.name}: sensitivity lowered"
        )
        assert moved.pii or not spec.pii, f"{name}@{new}.{spec.name}: lost its PII flag"
    added = [f for f in after.fields if f.name not in {s.name for s in before.fields}]
    assert added, f"{name}@{new} adds nothing"
    assert not [f.name for f in added if f.required], f"{name}@{new}: new fields must be optional"


def test_person_v2_adds_nationality_and_death_date() -> None:
    v1, v2 = REGISTRY.get("person@1"), REGISTRY.get("person@2")
    assert [f.name for f in v2.fields if f.name not in {g.name for g in v1.fields}] == [
        "nationality",
        "death_date",
    ]
    assert v2.field("nationality").type == "string"
    assert "CHN" in v2.field("nationality").description.en
    assert v2.field("death_date").type == "date"
    assert contract_hash(v1) != contract_hash(v2)


@pytest.mark.parametrize(
    ("ref", "field", "type_", "semantic", "required"),
    [
        pytest.param("service_item@1", "item_code", "string", None, True, id="item-code"),
        pytest.param(
            "service_item@1", "promised_time_limit_days", "int", None, True, id="promised"
        ),
        pytest.param("service_item@1", "charges_fee", "boolean", None, True, id="fee"),
        pytest.param(
            "service_item@1", "division", "string", "cn_admin_division", True, id="item-div"
        ),
        pytest.param(
            "service_case@1",
            "applicant_resident_id",
            "string",
            "cn_resident_id",
            False,
            id="case-resident-id",
        ),
        pytest.param(
            "service_case@1", "applicant_uscc", "string", "cn_uscc", False, id="case-uscc"
        ),
        pytest.param("service_case@1", "accepted_at", "timestamp", None, True, id="accepted"),
        pytest.param("service_case@1", "completed_at", "timestamp", None, False, id="completed"),
        pytest.param("service_evaluation@1", "rating", "int", None, True, id="rating"),
        pytest.param("service_evaluation@1", "complaint", "boolean", None, True, id="complaint"),
        pytest.param(
            "certificate@1",
            "holder_resident_id",
            "string",
            "cn_resident_id",
            False,
            id="holder-resident-id",
        ),
        pytest.param("certificate@1", "holder_uscc", "string", "cn_uscc", False, id="holder-uscc"),
        pytest.param("certificate@1", "valid_until", "date", None, False, id="valid-until"),
    ],
)
def test_key_fields_of_the_service_schemas(
    ref: str, field: str, type_: str, semantic: str | None, required: bool
) -> None:
    spec = REGISTRY.get(ref).field(field)
    assert (spec.type, spec.semantic, spec.required) == (type_, semantic, required)


@pytest.mark.parametrize(
    ("ref", "field", "values"),
    [
        pytest.param(
            "service_case@1", "applicant_type", ["person", "legal_entity"], id="applicant"
        ),
        pytest.param(
            "service_case@1",
            "channel",
            ["online", "window", "app", "self_service"],
            id="case-channel",
        ),
        pytest.param("certificate@1", "holder_type", ["person", "legal_entity"], id="holder"),
        pytest.param(
            "service_evaluation@1",
            "rating_level",
            [
                "very_satisfied",
                "satisfied",
                "basically_satisfied",
                "dissatisfied",
                "very_dissatisfied",
            ],
            id="rating-level",
        ),
    ],
)
def test_value_sets_of_the_service_schemas(ref: str, field: str, values: list[str]) -> None:
    assert REGISTRY.get(ref).field(field).values == values


def test_evaluation_rating_is_one_to_five() -> None:
    rating = REGISTRY.get("service_evaluation@1").field("rating").range
    assert rating is not None
    assert (rating.min, rating.max) == (1, 5)


@pytest.mark.parametrize(
    ("ref", "field", "good", "bad"),
    [
        pytest.param(
            "service_item@1",
            "item_code",
            ["11340100003252453W000105004000", "11340100003252453W000105004000001"],
            ["000105004000", "11340100003252453w000105004000", "11340100003252453W"],
            id="item-code",
        ),
        pytest.param(
            "service_case@1",
            "case_number",
            ["340100-2024-000123", "AH34010020240301000017"],
            ["", "#123", "2024 0001"],
            id="case-number",
        ),
        pytest.param(
            "certificate@1",
            "certificate_id",
            ["1.2.156.3005.2.11100000000013127D001.11340100003252453W.340100202400001.001.K"],
            ["", "证照0001", "a b c d e f g"],
            id="certificate-id",
        ),
        pytest.param("person@2", "nationality", ["CHN", "USA"], ["CN", "chn", "中国"], id="nation"),
    ],
)
def test_patterns_accept_real_codes(ref: str, field: str, good: list[str], bad: list[str]) -> None:
    pattern = REGISTRY.get(ref).field(field).pattern
    assert pattern is not None
    assert all(re.fullmatch(pattern, value) for value in good)
    assert not any(re.fullmatch(pattern, value) for value in bad)


def test_contract_hash_is_stable() -> None:
    path = SCHEMAS / "population" / "person.v2.yaml"
    assert contract_hash(load_contract(path)) == contract_hash(REGISTRY.get("person@2"))
