"""Discovery on the demo's generated legacy systems, against their hand-written source files."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import yaml

from exhub.discover import discover
from exhub.sources import load_source

pytestmark = pytest.mark.unit

SYSTEMS = {
    # hand-written source id → how discover reaches the same system
    "ps_hukou": "sqlite:///{legacy}/hukou.db",
    "rs_social_insurance": "sqlite:///{legacy}/social_insurance.db",
    "sj_enterprise": "sqlite:///{legacy}/enterprise.db",
    "mz_marriage": "{legacy}/marriage_exports",
}
EXPECTED_TARGETS = {
    "T_RK_JBXX": "person@1",
    "SI_CBRY": "person@1",
    "QY_DJXX": "legal_entity@1",
    "HYDJ_*.csv": "person@1",
}


@pytest.fixture(scope="module")
def discovered(world, legacy, contracts, tmp_path_factory):
    """Each system discovered, written as <id>.yaml and loaded back."""
    out = tmp_path_factory.mktemp("proposed")
    found = {}
    for source_id, target in SYSTEMS.items():
        result = discover(target.format(legacy=legacy), contracts, source_id=f"{source_id}_x")
        path = out / f"{source_id}_x.yaml"
        path.write_text(result.text, encoding="utf-8")
        found[source_id] = (result, load_source(path), path)
    return found


def hand_written(world, source_id):
    return load_source(world.sources_dir / f"{source_id}.yaml")


@pytest.mark.parametrize("source_id", list(SYSTEMS))
def test_proposes_the_contract_the_demo_uses(discovered, source_id):
    _, proposed, _ = discovered[source_id]
    assert len(proposed.streams) == 1
    stream = proposed.streams[0]
    assert stream.target == EXPECTED_TARGETS[stream.source]


def test_maps_at_least_80_percent_of_hand_written_mappings_identically(world, discovered):
    same = total = 0
    for source_id in SYSTEMS:
        expected = hand_written(world, source_id).streams[0]
        proposed = discovered[source_id][1].streams[0]
        assert proposed.source == expected.source
        for field, mapping in expected.mapping.items():
            total += 1
            got = proposed.mapping.get(field)
            same += got is not None and got.from_ == mapping.from_
    assert total == 31
    assert same / total >= 0.8, f"{same}/{total}"


@pytest.mark.parametrize("source_id", list(SYSTEMS))
def test_each_system_is_mostly_mapped_like_the_hand_written_file(world, discovered, source_id):
    expected = hand_written(world, source_id).streams[0].mapping
    proposed = discovered[source_id][1].streams[0].mapping
    same = sum(1 for f, m in expected.items() if f in proposed and proposed[f].from_ == m.from_)
    assert same / len(expected) >= 0.8


def test_code_maps_are_proposed(discovered):
    hukou = discovered["ps_hukou"][1].streams[0].mapping["gender"]
    assert hukou.from_ == "XB"
    assert hukou.map == {"1": "male", "2": "female"}
    assert hukou.map_unmapped == "reject"
    marriage = discovered["mz_marriage"][1].streams[0].mapping["gender"]
    assert marriage.map == {"男": "male", "女": "female"}
    status = discovered["sj_enterprise"][1].streams[0].mapping["status"]
    assert status.map["存续"] == "active" and status.map["注销"] == "cancelled"
    assert "待核" not in status.map  # planted dirt stays a reject


def test_cursor_is_the_update_time_on_sql_and_absent_on_files(discovered):
    assert discovered["ps_hukou"][1].streams[0].cursor == "GXSJ"
    assert discovered["rs_social_insurance"][1].streams[0].cursor == "AAE036"
    assert discovered["mz_marriage"][1].streams[0].cursor is None


def test_mapping_lines_carry_confidence_and_evidence(discovered):
    text = discovered["ps_hukou"][0].text
    line = next(x for x in text.splitlines() if x.strip().startswith("resident_id: SFZH"))
    comment = line.split("#", 1)[1]
    confidence = float(comment.split(":", 1)[0])
    assert 0.5 <= confidence <= 1
    assert "pinyin 身份证号" in comment and "valid GB 11643" in comment
    si = discovered["rs_social_insurance"][0].text
    assert "HRSS code 公民身份号码" in si


def test_unmapped_columns_are_listed(discovered):
    result, proposed, _ = discovered["mz_marriage"]
    assert "登记日期" not in {m.from_ for m in proposed.streams[0].mapping.values()}
    block = result.text.split("# unmapped columns:", 1)[1]
    assert "登记日期" in block
    assert result.rows[0]["unmapped"] == ["登记日期"]


def test_csv_encoding_and_rejects_are_detected(discovered):
    result, proposed, _ = discovered["mz_marriage"]
    assert proposed.connector == "csv"
    assert proposed.options["encoding"] in ("gb18030", "gbk")
    assert "lines decode strictly" in result.text
    assert result.proposals[0].table.rejects == 3  # the planted undecodable lines
    assert "3 record(s) could not be read" in result.text


def test_summary_rows_give_confidence_per_field(discovered):
    rows = discovered["sj_enterprise"][0].rows
    assert rows[0]["target"] == "legal_entity@1"
    assert rows[0]["mapped"]["uscc"]["from"] == "TYSHXYDM"
    assert 0.5 <= rows[0]["mapped"]["uscc"]["confidence"] <= 1


def test_yaml_has_no_sample_personal_values(world, discovered):
    for _, _, path in discovered.values():
        yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    with sqlite3.connect(world.root / "legacy" / "hukou.db") as con:
        first = con.execute("SELECT SFZH, XM, LXDH FROM T_RK_JBXX LIMIT 20").fetchall()
    con.close()
    text = discovered["ps_hukou"][0].text
    for resident_id, name, mobile in first:
        assert resident_id not in text
        assert not name.strip() or name not in text
        assert not mobile or mobile not in text
