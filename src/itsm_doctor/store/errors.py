"""The store's one error type, in its own module so every part of the store can raise it."""

from __future__ import annotations

__all__ = ["StoreError"]


class StoreError(Exception):
    """A store request that cannot be honoured (unknown patient, immutable visit, bad status)."""
