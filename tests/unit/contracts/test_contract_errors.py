"""A malformed contract fails with a ConfigError naming the file, the line and the key.

Each case writes one broken contract into ``tmp_path/<domain>/`` and loads it the way the
engine does, directly and through the registry.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from exhub.contracts import ContractRegistry, load_contract
from exhub.errors import EXIT_USAGE, ConfigError

pytestmark = pytest.mark.unit

VALID = """\
# a small but complete contract
name: sample
version: 1
domain: testing
title: {zh: 样例数据, en: Sample}
owner: data_resources
sharing:
  class: conditional
  conditions: 依法履职需要，经提供部门审核同意后共享
  legal_basis: 《政务信息资源共享管理暂行办法》（国发〔2016〕51号）
update_cycle: daily
primary_key: [sample_id]
drift: freeze
fields:
  - name: sample_id
    type: string
    required: true
    description: {zh: 编号, en: Identifier}
  - name: amount
    type: decimal(18,2)
    description: {zh: 金额, en: Amount}
  - name: holder_id
    type: string
    semantic: cn_resident_id
    description: {zh: 公民身份号码, en: Resident ID}
    pii: true
    sensitivity: L4
rules:
  - type: unique_key
  - type: null_ratio
    field: amount
    max: 0.2
"""


@dataclass(frozen=True)
class Case:
    """One way to break VALID, and where the error must point."""

    edit: Callable[[str], str]
    says: tuple[str, ...]  # fragments the message must contain (what is wrong)
    lines: tuple[str, ...] = ()  # text on the line(s) the message may point to
    keys: tuple[str, ...] = ()  # acceptable values of ConfigError.key
    file: str = "testing/sample.v1.yaml"


def replace(old: str, new: str) -> Callable[[str], str]:
    def edit(text: str) -> str:
        assert old in text, f"test bug: {old!r} not in the valid contract"
        return text.replace(old, new, 1)

    return edit


CASES = {
    "decimal-precision-too-large": Case(
        replace("    type: decimal(18,2)\n", "    type: decimal(40,2)\n"),
        says=("decimal", "38"),
        lines=("    type: decimal(40,2)",),
        keys=("fields.1.type",),
    ),
    "semantic-on-a-number": Case(
        replace("    type: decimal(18,2)\n", "    type: decimal(18,2)\n    semantic: cn_mobile\n"),
        says=("semantic", "string"),
        lines=("    semantic: cn_mobile",),
        keys=("fields.1.semantic",),
    ),
    "range-min-above-max": Case(
        replace(
            "    type: decimal(18,2)\n", "    type: decimal(18,2)\n    range: {min: 10, max: 1}\n"
        ),
        says=("min", "above max"),
        lines=("    range: {min: 10, max: 1}",),
        keys=("fields.1.range",),
    ),
    "rule-listed-twice": Case(
        replace("  - type: unique_key\n", "  - type: unique_key\n  - type: unique_key\n"),
        says=("twice",),
        lines=("  - type: unique_key",),
        keys=("rules.1",),
    ),
    "unknown-field-key": Case(
        replace("    type: decimal(18,2)\n", "    type: decimal(18,2)\n    nullable: false\n"),
        says=("unknown key", "nullable"),
        lines=("    nullable: false",),
        keys=("fields.1.nullable",),
    ),
    "unknown-top-level-key": Case(
        replace("drift: freeze\n", "drift: freeze\nretention_days: 30\n"),
        says=("unknown key", "retention_days", "known keys"),
        lines=("retention_days: 30",),
        keys=("retention_days",),
    ),
    "type-varchar": Case(
        replace("    type: decimal(18,2)\n", "    type: varchar\n"),
        says=("varchar", "decimal(p,s)"),
        lines=("  - name: amount", "    type: varchar"),
        keys=("fields.1", "fields.1.type"),
    ),
    "pii-graded-too-low": Case(
        replace("    sensitivity: L4\n", "    sensitivity: L1\n"),
        says=("PII", "L3"),
        lines=("  - name: holder_id", "    sensitivity: L1"),
        keys=("fields.2", "fields.2.sensitivity"),
    ),
    "unknown-drift-policy": Case(
        replace("drift: freeze\n", "drift: append\n"),
        says=("drift", "evolve"),
        lines=("drift: append",),
        keys=("drift",),
    ),
    "conditional-without-conditions": Case(
        replace("  conditions: 依法履职需要，经提供部门审核同意后共享\n", ""),
        says=("conditional", "conditions"),
        lines=("sharing:", "  class: conditional"),
        keys=("sharing", "sharing.conditions"),
    ),
    "not-shared-without-legal-basis": Case(
        replace(
            "  class: conditional\n  conditions: 依法履职需要，经提供部门审核同意后共享\n"
            "  legal_basis: 《政务信息资源共享管理暂行办法》（国发〔2016〕51号）\n",
            "  class: not_shared\n",
        ),
        says=("not_shared", "legal_basis"),
        lines=("sharing:", "  class: not_shared"),
        keys=("sharing", "sharing.legal_basis"),
    ),
    "version-in-file-name-differs": Case(
        replace("version: 1\n", "version: 2\n"),
        says=("sample v1", "sample v2", "version"),
        lines=("name: sample", "version: 2"),
        keys=("name", "version"),
    ),
    "name-in-file-name-differs": Case(
        lambda text: text,
        file="testing/specimen.v1.yaml",
        says=("specimen v1", "sample v1", "name"),
        lines=("name: sample",),
        keys=("name",),
    ),
    "domain-differs-from-folder": Case(
        lambda text: text,
        file="population/sample.v1.yaml",
        says=("testing", "population/", "domain"),
        lines=("domain: testing",),
        keys=("domain",),
    ),
    "invalid-yaml": Case(
        replace("owner: data_resources\n", "owner: data: resources\n"),
        says=("invalid YAML",),
        lines=("owner: data: resources",),
    ),
    "file-not-named-name-vN": Case(
        lambda text: text,
        file="testing/sample.yaml",
        says=("<name>.v<N>.yaml",),
    ),
    "primary-key-names-unknown-field": Case(
        replace("primary_key: [sample_id]\n", "primary_key: [sample_no]\n"),
        says=("primary_key", "sample_no"),
        lines=("primary_key: [sample_no]",),
        keys=("primary_key", "primary_key.0"),
    ),
    "primary-key-field-optional": Case(
        replace("primary_key: [sample_id]\n", "primary_key: [amount]\n"),
        says=("primary key", "amount", "required"),
        lines=("primary_key: [amount]",),
        keys=("primary_key", "primary_key.0"),
    ),
    "null-ratio-names-unknown-field": Case(
        replace("    field: amount\n", "    field: amout\n"),
        says=("null_ratio", "amout"),
        lines=("    field: amout",),
        keys=("rules.1.field", "rules.1"),
    ),
}


def write(tmp_path: Path, case: Case) -> tuple[Path, str]:
    text = case.edit(VALID)
    path = tmp_path / case.file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path, text


def load_error(path: Path) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_contract(path)
    return info.value


def test_the_valid_contract_loads(tmp_path: Path) -> None:
    path = tmp_path / "testing" / "sample.v1.yaml"
    path.parent.mkdir()
    path.write_text(VALID, encoding="utf-8")
    contract = load_contract(path)
    assert contract.ref == "sample@1"
    assert ContractRegistry(tmp_path).get("sample@1") == contract


@pytest.mark.parametrize("case", [pytest.param(c, id=i) for i, c in CASES.items()])
def test_error_names_the_file_and_what_is_wrong(tmp_path: Path, case: Case) -> None:
    path, _ = write(tmp_path, case)
    error = load_error(path)
    message = str(error)
    assert str(path) in message
    assert error.context.get("file") == str(path)
    for fragment in case.says:
        assert fragment in message, f"{fragment!r} not in: {message}"
    assert error.fix, "a config error says how to fix it"
    assert error.exit_code == EXIT_USAGE


def located_cases() -> list[object]:
    params = []
    for case_id, case in CASES.items():
        if not case.lines:
            continue
        params.append(pytest.param(case, id=case_id))
    return params


@pytest.mark.parametrize("case", located_cases())
def test_error_names_the_line_and_the_key(tmp_path: Path, case: Case) -> None:
    path, text = write(tmp_path, case)
    error = load_error(path)
    message = str(error)
    expected = {
        number
        for number, line in enumerate(text.splitlines(), start=1)
        if any(line == wanted or line.startswith(wanted + " ") for wanted in case.lines)
    }
    assert expected, "test bug: no expected line found"
    named = {int(n) for n in re.findall(rf"{re.escape(str(path))}:(\d+):", message)}
    assert named & expected, f"expected line {sorted(expected)}, message names {sorted(named)}"
    if case.keys:
        assert error.context.get("key") in case.keys, f"key {error.context.get('key')!r}"
        assert any(key in message for key in case.keys), f"no key of {case.keys} in: {message}"


@pytest.mark.parametrize(
    "case_id", ["unknown-field-key", "type-varchar", "invalid-yaml", "version-in-file-name-differs"]
)
def test_registry_raises_the_same_error(tmp_path: Path, case_id: str) -> None:
    path, _ = write(tmp_path, CASES[case_id])
    direct = str(load_error(path))
    registry = ContractRegistry(tmp_path)
    ref = registry.refs()[0]
    with pytest.raises(ConfigError) as info:
        registry.get(ref)
    assert str(info.value) == direct


def test_registry_does_not_see_a_misnamed_file(tmp_path: Path) -> None:
    # Documented limitation: only <domain>/<name>.v<N>.yaml is a contract. The shipped-schema
    # test checks no misnamed file hides in schemas/.
    path, _ = write(tmp_path, CASES["file-not-named-name-vN"])
    assert path.exists()
    assert ContractRegistry(tmp_path).refs() == []
