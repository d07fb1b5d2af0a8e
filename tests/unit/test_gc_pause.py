"""The collector is paused while the stack imports, and back on (with the imports frozen) after."""

from __future__ import annotations

import gc
import subprocess
import sys
import textwrap
import threading

import pytest

from exhub import gc_pause

pytestmark = pytest.mark.unit


@pytest.fixture(autouse=True)
def collector_on():
    gc.enable()
    yield
    gc.enable()


def test_overlapping_pauses_restart_the_collector_only_when_the_last_ends():
    gc_pause.hold()
    assert not gc.isenabled()
    gc_pause.hold()  # the prewarm thread's pause, overlapping the CLI's
    gc_pause.release()
    assert not gc.isenabled()
    gc_pause.release()
    assert gc.isenabled()


def test_a_pause_ends_when_its_body_raises():
    with pytest.raises(ValueError), gc_pause.paused():
        raise ValueError("import failed")
    assert gc.isenabled()


def test_a_collector_switched_off_by_the_caller_stays_off():
    gc.disable()
    with gc_pause.paused():
        pass
    assert not gc.isenabled()


def test_an_unmatched_release_is_an_error_not_a_silent_restart():
    with pytest.raises(RuntimeError, match="without a matching hold"):
        gc_pause.release()


def test_what_was_loaded_during_the_pause_is_frozen():
    gc.unfreeze()
    with gc_pause.paused():
        loaded = [{"module": i} for i in range(1000)]
    assert gc.get_freeze_count() >= len(loaded)
    gc.unfreeze()


def test_pauses_from_two_threads_are_counted_under_a_lock():
    start = threading.Barrier(8)

    def pause_many():
        start.wait()
        for _ in range(500):
            with gc_pause.paused():
                pass

    threads = [threading.Thread(target=pause_many) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert gc.isenabled()
    gc.unfreeze()


def test_the_cli_imports_and_the_gx_prewarm_run_with_the_collector_paused():
    probe = textwrap.dedent(
        """
        import gc, sys
        import exhub.validate.gx_import as gx_import
        seen = []
        real = gx_import.import_gx
        def recording():
            seen.append(gc.isenabled())
            return real()
        gx_import.import_gx = recording
        sys.argv = ["exhub", "--help"]
        from exhub.cli import main
        import builtins
        real_import = builtins.__import__
        def watch(name, *args, **kwargs):
            if name == "exhub.cli.app":
                seen.append(gc.isenabled())
            return real_import(name, *args, **kwargs)
        builtins.__import__ = watch
        try:
            main.run()
        except SystemExit:
            pass
        builtins.__import__ = real_import
        gx_import.prewarm().join()
        print(seen, gc.isenabled(), gc.get_freeze_count() > 100_000)
        """
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[False, False] True True"
