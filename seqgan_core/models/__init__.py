"""Generator, discriminator and oracle networks; no I/O here."""
from typing import Optional

from .discriminator import Discriminator
from .generator import Generator, pad_mask, sample_categorical
from .oracle import load_authors_oracle, random_oracle

__all__ = ["Discriminator", "Generator", "build_models", "pad_mask", "sample_categorical", "load_authors_oracle",
           "random_oracle"]


def build_models(cfg, vocab_size: int, device, start_id: int = 0, eos_id: Optional[int] = None):
    """G and D of a run's configuration on its device (the one place models are made from a config).
    start_id: G's first input, the data set's start token (data.base.start_id_of). eos_id: the data set's
    end token, if any: G's samples and D's inputs are cut there (models.generator.finished)."""
    from .. import accel
    g, d = cfg.generator, cfg.discriminator
    gen = Generator(vocab_size, g.emb_dim, g.hidden_dim, start_token=start_id).init_normal(g.init_std).to(device)
    disc = Discriminator(vocab_size, d.emb_dim, d.filter_sizes, d.num_filters, d.dropout, d.l2_reg).to(device)
    gen.eos_id = disc.eos_id = eos_id
    disc.precision = d.precision
    disc.packed = bool(accel.chunks(disc.out.weight.device)["d_packed"])
    return gen, disc
