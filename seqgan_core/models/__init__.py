"""Generator, discriminator and oracle networks; no I/O here."""
from .discriminator import Discriminator
from .generator import Generator, sample_categorical
from .oracle import load_authors_oracle, random_oracle

__all__ = ["Discriminator", "Generator", "sample_categorical", "load_authors_oracle", "random_oracle"]
