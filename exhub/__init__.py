"""exhub: inter-department data exchange hub.

Legacy systems in, validated and versioned Iceberg datasets out.
"""

import os

# Library analytics stay off: exhub never phones home. Set before any library is imported.
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
os.environ.setdefault("SCARF_ANALYTICS", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")

__version__ = "0.1.0"
