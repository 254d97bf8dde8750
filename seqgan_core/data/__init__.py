"""Data sets behind one registry: see base.py."""
from .base import DataError, DatasetSpec, SequenceDataset, get_spec, load, register, registry

__all__ = ["DataError", "DatasetSpec", "SequenceDataset", "get_spec", "load", "register", "registry"]
