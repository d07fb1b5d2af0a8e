"""The bench's per-thread CPU accounting attributes work to the thread that did it."""

from __future__ import annotations

import threading
import time

from bench.threads import NATIVE, ThreadCpu


def _burn(seconds: float) -> None:
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def test_cpu_is_attributed_to_the_role_of_the_named_thread():
    with ThreadCpu(interval=0.01) as sampler:
        worker = threading.Thread(target=_burn, args=(0.3,), name="conform_0")
        worker.start()
        worker.join()
        _burn(0.1)  # the main thread (its CPU before the sampler started is left out)
    roles = {row["thread"]: row["cpu_s"] for row in sampler.by_role()}
    assert roles["conform"] >= 0.2
    assert 0.08 <= roles["MainThread"] < 0.3
    assert "bench-sampler" not in roles
    assert roles.get(NATIVE, 0.0) < 0.2  # the sampler itself is left out
