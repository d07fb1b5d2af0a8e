"""``schemas/contract.schema.json``: the JSON Schema of a contract, derived from the model.

Editors validate contract YAML against it (``# yaml-language-server: $schema=...``). The file
is generated from ``Contract.model_json_schema(by_alias=True)`` and committed; this test fails
when the model changed and the file was not regenerated. Regenerate with::

    .venv/bin/python tests/unit/contracts/test_meta_schema.py
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from exhub.contracts.models import (
    Contract,
    DriftPolicy,
    FieldSpec,
    Range,
    SemanticType,
    Sensitivity,
    Sharing,
    SharingClass,
    Text,
    UpdateCycle,
)

pytestmark = pytest.mark.unit

SCHEMAS = Path(__file__).resolve().parents[3] / "schemas"
META_SCHEMA = SCHEMAS / "contract.schema.json"
DIALECT = "https://json-schema.org/draft/2020-12/schema"
REGENERATE = ".venv/bin/python tests/unit/contracts/test_meta_schema.py"


def render_meta_schema() -> str:
    """The meta-schema text exactly as it must be committed."""
    schema = {"$schema": DIALECT, **Contract.model_json_schema(by_alias=True)}
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def shipped_contract_files() -> list[Path]:
    return sorted(SCHEMAS.glob("*/*.yaml"))


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    return Draft202012Validator(json.loads(META_SCHEMA.read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def person_doc() -> dict[str, Any]:
    return yaml.safe_load((SCHEMAS / "population" / "person.v1.yaml").read_text(encoding="utf-8"))


def test_meta_schema_is_committed_and_current() -> None:
    assert META_SCHEMA.is_file(), f"{META_SCHEMA} is missing; generate it with: {REGENERATE}"
    committed = META_SCHEMA.read_text(encoding="utf-8")
    assert committed == render_meta_schema(), (
        f"{META_SCHEMA} is out of date with exhub/contracts/models.py; regenerate it with: "
        f"{REGENERATE}"
    )


def test_meta_schema_is_a_valid_json_schema() -> None:
    schema = json.loads(META_SCHEMA.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == DIALECT
    assert schema["title"] == "Contract"
    assert schema["additionalProperties"] is False
    # The YAML key is 'class', not the Python attribute name 'class_'.
    assert "class" in schema["$defs"]["Sharing"]["properties"]


@pytest.mark.parametrize(
    "path", shipped_contract_files(), ids=lambda p: f"{p.parent.name}/{p.name}"
)
def test_shipped_contract_validates_against_meta_schema(
    path: Path, validator: Draft202012Validator
) -> None:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    errors = [
        f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc)
    ]
    assert not errors, f"{path}: " + "; ".join(errors)


@pytest.mark.parametrize(
    ("edit", "where"),
    [
        pytest.param(lambda d: d.update(retention="5y"), "", id="unknown-top-level-key"),
        pytest.param(
            lambda d: d["fields"][0].update(nullable=False), "fields.0", id="unknown-field-key"
        ),
        pytest.param(
            lambda d: d["sharing"].update({"class": "open"}),
            "sharing.class",
            id="bad-sharing-class",
        ),
        pytest.param(
            lambda d: d["fields"][0].update(sensitivity="L5"),
            "fields.0.sensitivity",
            id="bad-grade",
        ),
        pytest.param(lambda d: d.update(drift="append"), "drift", id="bad-drift-policy"),
        pytest.param(
            lambda d: d.update(update_cycle="dayly"), "update_cycle", id="bad-update-cycle"
        ),
        pytest.param(
            lambda d: d["rules"].append({"type": "freshness"}), "rules.3", id="bad-rule-type"
        ),
        pytest.param(lambda d: d.pop("owner"), "", id="missing-owner"),
    ],
)
def test_meta_schema_rejects_what_the_model_rejects(
    edit: Any, where: str, validator: Draft202012Validator, person_doc: dict[str, Any]
) -> None:
    doc = copy.deepcopy(person_doc)
    edit(doc)
    paths = {".".join(map(str, e.absolute_path)) for e in validator.iter_errors(doc)}
    assert where in paths


def documented_names() -> list[str]:
    keys = {
        info.alias or name
        for model in (Contract, FieldSpec, Sharing, Range, Text)
        for name, info in model.model_fields.items()
    }
    values = {
        member.value
        for enum in (SharingClass, Sensitivity, DriftPolicy, UpdateCycle, SemanticType)
        for member in enum
    }
    rule_types = {
        "unique_key",
        "row_count_drop",
        "null_ratio",
        "max_drop",
        "field",
        "max",
    }
    return sorted(keys | values | rule_types)


@pytest.mark.parametrize("name", documented_names())
def test_readme_documents_every_key_and_value(name: str) -> None:
    readme = (SCHEMAS / "README.md").read_text(encoding="utf-8")
    assert f"`{name}`" in readme, f"schemas/README.md does not document `{name}`"


if __name__ == "__main__":
    META_SCHEMA.write_text(render_meta_schema(), encoding="utf-8")
    print(f"wrote {META_SCHEMA}")
