"""Import Great Expectations without the modules exhub's suites never use.

GX imports ``scipy.stats`` and ``altair`` at module level for expectations exhub never
generates (KL divergence, Kolmogorov-Smirnov tests) and their charts: about half of GX's
import time (1.1 CPU-s of 2.3 on the benchmark machine) and 78 MB of memory, paid by every
sync. They are registered as placeholders that import the real module on first use, so
nothing breaks if some code path does need them; it only pays then.

``importlib.util.LazyLoader`` cannot do this on Python 3.11: the import system reads the
module's ``__spec__`` when a second import finds it, and that read loads it.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
import types
from typing import Any

from exhub import gc_pause

DEFERRED = ("scipy.stats", "altair")
# Reading these means the module is really being used (submodule import, star import).
LOADING_DUNDERS = {"__path__", "__all__", "__version__"}
_lock = threading.RLock()  # re-entrant: a deferred import may touch another placeholder


class DeferredModule(types.ModuleType):
    """Stands in for a module until an attribute is read from it, then imports it."""

    def __getattr__(self, attr: str) -> Any:
        # GX calls inspect.stack() (while converting Decimals), which reads ``__file__`` of
        # every module in sys.modules: metadata probes must not load the real module.
        if attr.startswith("__") and attr not in LOADING_DUNDERS:
            raise AttributeError(attr)
        return getattr(self._real(), attr)

    def _real(self) -> types.ModuleType:
        with _lock:
            current = sys.modules.get(self.__name__)
            if current is None or current is self:
                sys.modules.pop(self.__name__, None)
                current = importlib.import_module(self.__name__)
        return current


def defer_unused_modules() -> None:
    """Register placeholders for GX's unused heavy imports (no-op once they are loaded)."""
    with _lock:
        for name in DEFERRED:
            if name not in sys.modules and importlib.util.find_spec(name.split(".")[0]):
                sys.modules[name] = DeferredModule(name)


def import_gx() -> types.ModuleType:
    """``great_expectations`` with its expectations registered, heavy extras deferred."""
    defer_unused_modules()
    import great_expectations
    import great_expectations.expectations
    from great_expectations.execution_engine import pandas_execution_engine

    # GX fingerprints every DataFrame it validates below this size (an md5 of a pandas hash
    # of each row, kept as a batch marker): 0.05 s of the person register's 0.2 s suite on
    # 50,000 rows, to identify a frame that exists for one run. GX has no setting for it.
    pandas_execution_engine.HASH_THRESHOLD = 0
    return great_expectations


_prewarm_lock = threading.Lock()
_prewarming: threading.Thread | None = None


def prewarm() -> threading.Thread:
    """Import Great Expectations in the background while the run extracts and conforms.

    Its import alone takes seconds of mostly-Python work; overlapping it with Arrow work
    (which releases the GIL) takes it off the run's critical path. ``run_suite`` then finds
    the module loaded (or waits on the import lock). Once per process: later calls return
    the same thread.
    """
    global _prewarming
    with _prewarm_lock:
        if _prewarming is None:
            _prewarming = threading.Thread(target=_import_gx, name="gx-prewarm", daemon=True)
            _prewarming.start()
        return _prewarming


def is_loaded() -> bool:
    """Great Expectations is imported in full in this process (no import still running)."""
    with _prewarm_lock:
        importing = _prewarming is not None and _prewarming.is_alive()
    return not importing and "great_expectations.expectations" in sys.modules


def _import_gx() -> None:
    with gc_pause.paused():
        import_gx()
