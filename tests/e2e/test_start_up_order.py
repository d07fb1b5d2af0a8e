"""`exhub sync` starts reading the source before importing what validating needs.

The probe wraps the real entry point and notes, as the extraction thread is started, which
of the validate/publish modules and Great Expectations are already imported; the sync must
then finish as usual with every row accounted for.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.e2e

PROBE = textwrap.dedent(
    """
    import json, sys, threading
    LATER = ("exhub.engine.stages", "exhub.publish", "pyiceberg", "great_expectations")
    seen = {}
    real_start = threading.Thread.start
    def start(thread):
        if thread.name in ("extract", "gx-prewarm") and thread.name not in seen:
            seen[thread.name] = [m for m in LATER if m in sys.modules]
        return real_start(thread)
    threading.Thread.start = start
    sys.argv = ["exhub", "sync", "ps_hukou", "--format", "json"]
    from exhub.cli.main import run
    try:
        run()
    finally:
        print("PROBE " + json.dumps(seen), file=sys.stderr)
    """
)


def test_the_extraction_starts_before_the_validate_machinery_is_imported(deployment):
    home, _ = deployment
    environ = {k: v for k, v in os.environ.items() if not k.startswith("EXHUB_")}
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=home,
        env=environ | {"EXHUB_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    line = next(x for x in done.stderr.splitlines() if x.startswith("PROBE "))
    seen = json.loads(line.removeprefix("PROBE "))
    assert seen["extract"] == []
    # Great Expectations starts importing once the validate stage's own imports are done.
    assert set(seen["gx-prewarm"]) >= {"exhub.engine.stages", "pyiceberg"}
    (summary,) = json.loads(done.stdout)
    assert summary["status"] == "succeeded"
    assert summary["extracted"] == summary["published"] + summary["quarantined"] > 0
