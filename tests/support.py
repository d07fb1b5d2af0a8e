"""Helpers for tests that drive the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

EXHUB = [sys.executable, "-m", "exhub.cli.main"]


def run_exhub(
    *args: str, home: Path, env: dict[str, str] | None = None, check: bool = False
) -> subprocess.CompletedProcess:
    """Run the real ``exhub`` CLI in a subprocess."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("EXHUB_")}
    environ.update({"EXHUB_HOME": str(home), "COLUMNS": "200", **(env or {})})
    result = subprocess.run(
        [*EXHUB, *args],
        cwd=home,
        env=environ,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"exhub {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def hukou_hub(home: Path, *, scale: float, **settings: object):
    """A hub on a generated demo world with the household register (``ps_hukou``) registered.

    Returns (hub, source, source file, world); ``settings`` override the hub's settings.
    """
    from exhub.demo.world import build_world
    from exhub.engine.hub import Hub
    from exhub.engine.sync import register
    from exhub.settings import load_settings
    from exhub.sources import config_hash, load_source

    world = build_world(home / "world", scale=scale)
    path = world.sources_dir / "ps_hukou.yaml"
    update = {"sources_dir": str(world.sources_dir), **settings}
    hub = Hub(load_settings(home).model_copy(update=update))
    source = load_source(path)
    register(hub, source, config_hash(path))
    return hub, source, path, world


def published_hub(home: Path, **settings: object):
    """A hub with person (conditional, public_security; two sources) and legal_entity
    (unconditional, market_regulation) published from a generated world."""
    from exhub.engine.sync import register, sync_stream
    from exhub.sources import config_hash, load_source

    hub, source, path, world = hukou_hub(home, scale=0.05, **settings)
    sync_stream(hub, source, source.streams[0], source_file=path)
    for name in ("sj_enterprise", "mz_marriage"):
        other_path = world.sources_dir / f"{name}.yaml"
        other = load_source(other_path)
        register(hub, other, config_hash(other_path))
        sync_stream(hub, other, other.streams[0], source_file=other_path)
    return hub


def event_after_call(monkeypatch, owner: object, name: str):
    """A ``threading.Event`` set each time ``owner.name`` has returned (patched for the test)."""
    import threading

    done = threading.Event()
    real = getattr(owner, name)

    def call_then_set(*args, **kwargs):
        result = real(*args, **kwargs)
        done.set()
        return result

    monkeypatch.setattr(owner, name, call_then_set)
    return done
