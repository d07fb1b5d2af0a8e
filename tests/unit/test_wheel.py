"""The wheel carries what an installed exhub needs: the shipped schemas and the portal's
templates, found from inside the package (not from a checkout next to it)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]
PROBE = """
from exhub.contracts.loader import ContractRegistry
from exhub.settings import SHIPPED_SCHEMAS
from exhub.serve.pages import TEMPLATES
print(SHIPPED_SCHEMAS.relative_to(SHIPPED_SCHEMAS.parents[1]))
print(len(ContractRegistry(SHIPPED_SCHEMAS).refs()))
print(TEMPLATES.get_template("catalog.html").filename.startswith(str(SHIPPED_SCHEMAS.parents[1])))
"""


def test_an_installed_wheel_finds_its_schemas_and_templates(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path), str(ROOT)],
        check=True, capture_output=True,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("exhub-*.whl")
    installed = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(installed)
    probe = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=tmp_path, env={"PYTHONPATH": str(installed)},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    where, contracts, templates_inside = probe.stdout.split()
    assert where == "exhub/_shipped_schemas"
    assert int(contracts) >= 7  # every shipped schema version
    assert templates_inside == "True"
