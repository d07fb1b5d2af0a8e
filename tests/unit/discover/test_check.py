"""``sources check`` in-process: one batch per stream, masked sample, mapping gaps."""

from __future__ import annotations

import re
import shutil

import pytest

from exhub.contracts import ContractRegistry
from exhub.discover.check import check_source, mask, truncate
from exhub.errors import ConfigError, SourceUnreachableError
from exhub.settings import SHIPPED_SCHEMAS
from exhub.sources import load_source

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def registry() -> ContractRegistry:
    return ContractRegistry(SHIPPED_SCHEMAS)


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("张三丰", "张*丰"),
        ("张三", "张*"),
        ("x", "*"),
        ("340104198001010011", "3" + "*" * 16 + "1"),
    ],
)
def test_mask_keeps_first_and_last_character(value, masked):
    assert mask(value) == masked


def test_truncate_long_values():
    assert truncate("a" * 100) == "a" * 39 + "…"


def test_check_reads_one_batch_and_masks_protected_fields(world, registry):
    source = load_source(world.sources_dir / "ps_hukou.yaml")
    report = check_source(source, registry, batch_size=50)
    assert report.ok and report.problems() == []
    (stream,) = report.streams
    assert stream.rows_read == 50 and stream.rejects == 0
    assert [c["name"] for c in stream.columns][:2] == ["SFZH", "XM"]
    # PII, the L3 ethnicity (民族), and LXDH: unmapped, but its values look like mobiles
    assert set(stream.masked_columns) == {"SFZH", "XM", "CSRQ", "MZ", "ZZ", "LXDH"}
    assert len(stream.sample) == 5
    first = stream.sample[0]
    assert first["SFZH"].count("*") == 16 and first["XB"] in ("1", "2", "X")
    assert stream.as_dict()["mapping"] == {
        "checked": True,
        "all_columns_present": True,
        "missing": [],
    }


def test_check_masks_graded_sensitive_fields_that_are_not_pii(world, tmp_path):
    """L3/L4 fields are masked as in the datasets, whether or not they are PII."""
    schemas = tmp_path / "schemas"
    shutil.copytree(SHIPPED_SCHEMAS, schemas)
    for version in (schemas / "population").glob("person.v*.yaml"):
        text = version.read_text(encoding="utf-8")
        graded = re.sub(r"(- name: gender\n(?:    .*\n)*?    sensitivity: )L2", r"\1L3", text)
        assert graded != text
        version.write_text(graded, encoding="utf-8")
    source = load_source(world.sources_dir / "ps_hukou.yaml")
    report = check_source(source, ContractRegistry(schemas), batch_size=50)
    (stream,) = report.streams
    assert "XB" in stream.masked_columns
    assert all(row["XB"] == "*" for row in stream.sample)  # one-character codes


def test_missing_mapped_column_is_named_with_its_mapping_key(world, registry, tmp_path):
    path = tmp_path / "ps_hukou.yaml"
    text = (world.sources_dir / "ps_hukou.yaml").read_text(encoding="utf-8")
    path.write_text(text.replace("mobile: LXDH", "mobile: SJHM"), encoding="utf-8")
    report = check_source(load_source(path), registry)
    (stream,) = report.streams
    assert stream.missing == [{"field": "mobile", "column": "SJHM"}]
    assert "LXDH" in stream.masked_columns  # unmapped, but its values look like mobiles
    assert not report.ok
    assert "mapping 'mobile' reads column 'SJHM'" in report.problems()[0]


def test_unknown_table_is_a_stream_problem(world, registry, tmp_path):
    path = tmp_path / "ps_hukou.yaml"
    text = (world.sources_dir / "ps_hukou.yaml").read_text(encoding="utf-8")
    path.write_text(text.replace("source: T_RK_JBXX", "source: T_RK_NOPE"), encoding="utf-8")
    report = check_source(load_source(path), registry)
    assert "T_RK_NOPE" in report.streams[0].error and not report.ok


def test_csv_source_reports_rejects(world, registry):
    report = check_source(load_source(world.sources_dir / "mz_marriage.yaml"), registry)
    (stream,) = report.streams
    assert stream.rows_read + stream.rejects == 75 and stream.rejects == 3
    assert "登记日期" in stream.unused_columns


def test_unreachable_database_raises(world, registry, tmp_path):
    path = tmp_path / "ps_hukou.yaml"
    text = (world.sources_dir / "ps_hukou.yaml").read_text(encoding="utf-8")
    path.write_text(text.replace("hukou.db", "gone.db"), encoding="utf-8")
    with pytest.raises(SourceUnreachableError):
        check_source(load_source(path), registry)


def test_unset_secret_reference_is_a_config_error(world, registry, tmp_path, monkeypatch):
    monkeypatch.delenv("EXHUB_TEST_DB_URL", raising=False)
    path = tmp_path / "ps_hukou.yaml"
    text = (world.sources_dir / "ps_hukou.yaml").read_text(encoding="utf-8")
    url_line = next(line for line in text.splitlines() if "url:" in line)
    path.write_text(text.replace(url_line, "  url: ${EXHUB_TEST_DB_URL}"), encoding="utf-8")
    with pytest.raises(ConfigError, match="EXHUB_TEST_DB_URL"):
        check_source(load_source(path), registry)
