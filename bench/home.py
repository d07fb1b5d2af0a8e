"""A throwaway ``EXHUB_HOME`` whose source file points the ``sql`` connector at the register."""

from __future__ import annotations

import os
from pathlib import Path

from bench import config

SOURCE_TEMPLATE = """\
# 合肥市公安局 人口基础信息系统 (the benchmark's legacy PostgreSQL register).
id: {source_id}
department: {{id: public_security, name: 合肥市公安局}}
system: 人口基础信息系统
connector: sql
options:
  url: {url}
schedule: "@daily"
max_connections: 2
streams:
  - name: residents
    source: {table}
    target: person_registry@1
    cursor: gxsj
    mapping:
      resident_id: sfzh
      name: xm
      gender:
        from: xb
        map: {{"1": male, "2": female, "0": unknown, "9": unknown}}
        map_unmapped: reject
      birth_date: csrq
      ethnicity: mz
      household_division: hjdz_xzqh
      address: zz
      mobile: lxdh
      marital_status:
        from: hyzk
        map: {{"10": unmarried, "20": married, "21": married, "22": married, "23": married,
              "30": widowed, "40": divorced, "90": unknown}}
        map_unmapped: reject
      education: whcd
      pension_balance: yljzhye
      registered_on: djrq
      household_status:
        from: hkzt
        map: {{"1": normal, "2": cancelled, "3": moved_out}}
        map_unmapped: reject
      created_at: cjsj
      updated_at: gxsj
"""


def write_home(home: Path, *, batch_size: int | None = None) -> Path:
    """Write ``exhub.yaml`` and both source files (main and small table) into ``home``."""
    (home / "sources").mkdir(parents=True, exist_ok=True)
    settings = [f"schemas_dir: {config.SCHEMAS}"]
    if batch_size:
        settings.append(f"batch_size: {batch_size}")
    (home / "exhub.yaml").write_text("\n".join(settings) + "\n")
    for source_id, table in (
        (config.SOURCE_ID, config.TABLE),
        (config.SMALL_SOURCE_ID, config.SMALL_TABLE),
    ):
        text = SOURCE_TEMPLATE.format(source_id=source_id, url=config.sqlalchemy_url(), table=table)
        (home / "sources" / f"{source_id}.yaml").write_text(text, encoding="utf-8")
    return home


def exhub_env(home: Path) -> dict[str, str]:
    """The environment of an ``exhub`` child process working in ``home``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXHUB_")}
    env["EXHUB_HOME"] = str(home)
    env["PYTHONPATH"] = str(config.REPO)
    return env
