"""Discovery: introspect a legacy system and propose a source file mapped to shared schemas."""

from exhub.discover.propose import Discovery, discover

__all__ = ["Discovery", "discover"]
