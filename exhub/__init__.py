"""exhub: inter-department data exchange hub.

Legacy systems in, validated and versioned Iceberg datasets out.
"""

import os

# Library analytics stay off: exhub never phones home. Set before any library is imported.
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
os.environ.setdefault("SCARF_ANALYTICS", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
# numpy's OpenBLAS starts a thread per core that spins after use; exhub does no linear
# algebra, and its own threads already keep the cores busy.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

__version__ = "0.1.0"
