"""What the CLI's `data list` and `data check FILE` print: plain dicts, ready for JSON or a table."""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Union

from .base import registry
from .upload import build


def list_datasets() -> list[dict]:
    """One dict per registered data set: name, title, size hint, source, and whether it works offline now."""
    return [{"name": spec.name, "title": spec.title, "size": spec.size_hint, "source": spec.source,
             "offline": bool(spec.offline())}
            for spec in sorted(registry().values(), key=lambda s: s.name)]


def check_file(path: Union[str, Path], column: Optional[str] = None, tokens: str = "word", **opts) -> dict:
    """The upload report for a file (sequences kept and dropped and why, vocabulary, <unk> rate, length
    histogram); a DataError with a short message for a file that cannot be used. Extra keyword arguments
    are the upload options (seq_len, max_vocab, min_count, ...)."""
    return build(path, options={**opts, "column": column, "tokens": tokens})[1]
