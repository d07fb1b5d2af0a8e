"""Discovery: introspect a legacy system and propose a source file mapped to shared schemas."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from exhub.discover.propose import Discovery, discover

__all__ = ["Discovery", "discover"]


def __getattr__(name: str) -> Any:
    # Loaded on first use: proposing imports the SQL drivers, which `exhub sources check`
    # (a submodule of this package) and every other command must not pay for at start-up.
    if name in __all__:
        from exhub.discover import propose

        return getattr(propose, name)
    raise AttributeError(f"module 'exhub.discover' has no attribute {name!r}")
