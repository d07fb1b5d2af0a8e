"""A dataset's owner and sharing class come from its newest registered contract version: a
source still on an older version does not turn them back (found by review)."""

from __future__ import annotations

import shutil

import pytest

from exhub.engine.sync import register
from exhub.settings import SHIPPED_SCHEMAS
from exhub.sources import config_hash, load_source
from tests.support import hukou_hub

pytestmark = pytest.mark.unit


def test_an_older_version_does_not_change_owner_or_sharing(hub_home):
    schemas = hub_home / "schemas"
    shutil.copytree(SHIPPED_SCHEMAS, schemas)
    v2 = schemas / "population" / "person.v2.yaml"
    v2.write_text(
        v2.read_text(encoding="utf-8").replace("owner: public_security", "owner: civil_affairs"),
        encoding="utf-8",
    )
    hub, source, path, _ = hukou_hub(hub_home, scale=0.05, schemas_dir=str(schemas))
    newer = hub_home / "ps_hukou_v2.yaml"
    newer.write_text(
        path.read_text(encoding="utf-8").replace("id: ps_hukou", "id: ps_hukou_v2")
        .replace("person@1", "person@2"),
        encoding="utf-8",
    )  # fmt: skip
    register(hub, load_source(newer), config_hash(newer))
    register(hub, source, config_hash(path))  # the v1 source, registered again after v2
    record = hub.repository.get_dataset("person")
    assert (record.current_version, record.owner_department_id) == (2, "civil_affairs")
    assert [v.version for v in hub.repository.list_schema_versions("person")] == [1, 2]
