"""Sum integers with a C extension (fastsum._speedups)."""
from ._speedups import total

__all__ = ["total"]
