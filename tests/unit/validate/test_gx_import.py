"""Great Expectations runs a generated suite without loading scipy.stats or altair."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.unit

FRESH_PROCESS = textwrap.dedent(
    """
    import sys
    from tests.unit.validate.test_generated_suites import gx_frame
    from tests.unit.contracts.test_realistic_rows import REGISTRY, ROWS
    from exhub.validate.expectations import run_suite

    ref = sorted(ROWS)[0]
    contract = REGISTRY.get(ref)
    frame, _ = gx_frame(contract, [ROWS[ref]])
    assert run_suite(contract, frame)["success"]
    print(type(sys.modules["scipy.stats"]).__name__, type(sys.modules["altair"]).__name__)
    from scipy import stats
    print(round(float(stats.entropy([0.5, 0.5])), 4), type(sys.modules["scipy.stats"]).__name__)
    """
)


def test_suite_runs_with_the_heavy_imports_deferred_and_they_still_load_on_use():
    # A fresh interpreter: in the test process other tests may have imported scipy already.
    done = subprocess.run(
        [sys.executable, "-c", FRESH_PROCESS], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    deferred, used = done.stdout.splitlines()
    assert deferred == "DeferredModule DeferredModule"
    assert used == "0.6931 module"


def test_probing_module_metadata_does_not_load_a_deferred_module():
    probe = textwrap.dedent(
        """
        import inspect, sys
        from exhub.validate.gx_import import import_gx
        import_gx()
        inspect.stack()  # reads __file__ of every module, as GX does for each Decimal
        print(type(sys.modules["scipy.stats"]).__name__)
        """
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "DeferredModule"
