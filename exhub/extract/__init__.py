"""Extract stage: connectors into the landing zone."""

from exhub.extract.landing import (
    LandingManifest,
    extract_to_landing,
    iter_landed,
    iter_rejects,
    landing_folder,
)

__all__ = ["LandingManifest", "extract_to_landing", "iter_landed", "iter_rejects", "landing_folder"]
