"""Imports each data-set module once so that its `register(...)` call runs."""
from . import oracle  # noqa: F401
from . import formal  # noqa: F401
from . import corpora  # noqa: F401
from . import upload  # noqa: F401
from . import music  # noqa: F401
from . import grammar  # noqa: F401
