"""Usage and configuration errors: exit code 2, naming the file, line and key."""

from __future__ import annotations

import pytest

from tests.support import run_exhub

pytestmark = pytest.mark.e2e


def test_sync_with_unknown_key_in_settings_names_file_and_key(hub_home):
    (hub_home / "exhub.yaml").write_text("catalog: sqlite:///.exhub/c.db\nwarehose: /tmp/x\n")
    result = run_exhub("sync", "ps_hukou", home=hub_home)
    assert result.returncode == 2
    assert "exhub.yaml:2" in result.stderr
    assert "warehose" in result.stderr
    assert "fix:" in result.stderr


def test_sync_with_bad_value_names_key(hub_home):
    (hub_home / "exhub.yaml").write_text("batch_size: lots\n")
    result = run_exhub("sync", "ps_hukou", home=hub_home)
    assert result.returncode == 2
    assert "exhub.yaml:1" in result.stderr and "batch_size" in result.stderr


def test_sync_with_bad_env_override_names_variable(hub_home):
    result = run_exhub("sync", "ps_hukou", home=hub_home, env={"EXHUB_BATCH_SIZE": "-5"})
    assert result.returncode == 2
    assert "EXHUB_BATCH_SIZE" in result.stderr


def test_sync_unknown_source_lists_known(hub_home):
    result = run_exhub("sync", "nope", home=hub_home)
    assert result.returncode == 2
    assert "no source 'nope'" in result.stderr


def test_query_refuses_writes(hub_home):
    result = run_exhub("query", "DROP TABLE person", home=hub_home)
    assert result.returncode == 2
    assert "only SELECT" in result.stderr


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["demo"],
        ["sync"],
        ["query"],
        ["sources"],
        ["sources", "list"],
        ["sources", "show"],
        ["datasets"],
        ["datasets", "list"],
        ["datasets", "show"],
        ["datasets", "history"],
        ["runs"],
        ["runs", "list"],
        ["runs", "show"],
        ["quarantine", "list"],
        ["quarantine", "export"],
    ],
)
def test_every_command_has_help(hub_home, command):
    result = run_exhub(*command, "--help", home=hub_home)
    assert result.returncode == 0, result.stderr
    assert "Usage" in result.stdout


@pytest.mark.parametrize(
    "command",
    [
        pytest.param(["runs", "show"], id="missing-argument"),
        pytest.param(["sync", "x", "--no-such-option"], id="unknown-option"),
        pytest.param(["query", "SELECT 1", "--format", "xml"], id="bad-choice"),
    ],
)
def test_usage_errors_exit_2_without_a_traceback(hub_home, command):
    result = run_exhub(*command, home=hub_home)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "Usage" in result.stderr or "Error" in result.stderr
