"""`python -m seqgan_core bench`: roll-out speed against the authors' loop and against the floor, training
throughput, per-preset round cost and peak memory, all measured in one run on this machine.

The floor is what any roll-out must at least do: D on the B·N·(T−1) completed sequences, and drawing
B·N·T(T−1)/2 tokens (output layer + sampling), each as one pass with its best chunk size.
"""
from __future__ import annotations

import platform
import resource
import time
from typing import Callable

import torch

from .config import PRESET_HELP, preset
from .device import resolve_device
from .estimate import estimate
from .models import Discriminator, Generator, sample_categorical
from .rollout import rollout_q, rollout_q_loop


def _sync(dev):
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def _time(fn: Callable, dev, repeats: int = 1) -> float:
    _sync(dev)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        _sync(dev)
        best = min(best, time.perf_counter() - t0)
    return best


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@torch.no_grad()
def _floor(gen: Generator, disc: Discriminator, B, N, T, dev, repeats) -> dict:
    """Best single-pass time of the roll-out's unavoidable work, over a few chunk sizes."""
    V, H = gen.vocab_size, gen.hidden_dim
    n_seq, n_tok = B * N * (T - 1), B * N * T * (T - 1) // 2
    seqs = torch.randint(0, V, (n_seq, T), device=dev)
    h = torch.randn(n_tok, H, device=dev)
    disc.eval()
    d_best, d_chunk = min((_time(lambda c=c: disc.score(seqs, chunk=c), dev, repeats), c)
                          for c in (128, 256, 512, 1024) + ((4096, 16384) if dev.type == "cuda" else ()))

    def draw(chunk):
        for i in range(0, n_tok, chunk):
            sample_categorical(gen.out(h[i:i + chunk]))

    s_best, s_chunk = min((_time(lambda c=c: draw(c), dev, repeats), c)
                          for c in (256, 512, 1024, 2048) + ((8192, 32768) if dev.type == "cuda" else ()))
    return {"d_forward_s": d_best, "d_chunk": d_chunk, "sampling_s": s_best, "sampling_chunk": s_chunk,
            "floor_s": d_best + s_best, "sequences_scored": n_seq, "tokens_sampled": n_tok}


def bench_rollout(dev, quick: bool, log) -> dict:
    B, N, T, V = (16, 4, 20, 1000) if quick else (64, 16, 20, 5000)
    cfg = preset("paper")
    d = cfg.discriminator
    torch.manual_seed(0)
    gen = Generator(V, 32, 32).init_normal(0.1).to(dev).eval()
    disc = Discriminator(V, d.emb_dim, d.filter_sizes if not quick else [2, 3, 4, 5, 10],
                         d.num_filters if not quick else [100] * 5, d.dropout, d.l2_reg).to(dev).eval()
    y = gen.sample(B, T)
    repeats = 3 if dev.type == "cuda" or quick else 2
    rss0 = _peak_rss_mb()
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats(dev)
    log(f"roll-out: B={B} N={N} T={T} V={V}, D with {disc.out.in_features} pooled features")
    t_fast = _time(lambda: rollout_q(gen, disc, y, N), dev, repeats)
    peak = (torch.cuda.max_memory_allocated(dev) / 2**20) if dev.type == "cuda" else _peak_rss_mb()
    log(f"  vectorised {t_fast:.2f} s")
    floor = _floor(gen, disc, B, N, T, dev, repeats)
    log(f"  floor {floor['floor_s']:.2f} s (D {floor['d_forward_s']:.2f} + sampling {floor['sampling_s']:.2f})")
    t_loop = _time(lambda: rollout_q_loop(gen, disc, y, N), dev, 1)
    log(f"  authors' loop {t_loop:.2f} s")
    return {"B": B, "N": N, "T": T, "V": V, "vectorised_s": t_fast, "authors_loop_s": t_loop,
            "speedup_vs_loop": t_loop / t_fast, "vs_floor": t_fast / floor["floor_s"], **floor,
            "peak_memory_mb": peak, "peak_memory_kind": "cuda max allocated" if dev.type == "cuda" else
            "process max RSS", "rss_before_mb": rss0}


def bench_training(dev, quick: bool, log) -> dict:
    cfg = preset("paper")
    d = cfg.discriminator
    V, T, B = (1000, 20, 64) if quick else (5000, 20, 64)
    torch.manual_seed(0)
    gen = Generator(V, 32, 32).init_normal(0.1).to(dev)
    disc = Discriminator(V, d.emb_dim, d.filter_sizes, d.num_filters, d.dropout, d.l2_reg).to(dev)
    from .train import steps
    g_opt = torch.optim.Adam(gen.parameters(), lr=0.01)
    d_opt = torch.optim.Adam(disc.parameters(), lr=1e-4)
    n_batches = 5 if quick else 20
    data = torch.randint(0, V, (B * n_batches, T), device=dev)
    steps.mle_epoch(gen, g_opt, data[:B], B, 5.0)  # warm-up
    t_mle = _time(lambda: steps.mle_epoch(gen, g_opt, data, B, 5.0), dev)
    half = len(data) // 2
    steps.d_train(disc, d_opt, data[:B], data[B:2 * B], 1, B)
    t_d = _time(lambda: steps.d_train(disc, d_opt, data[:half], data[half:], 1, B), dev)
    res = {"mle_tokens_per_s": data.numel() / t_mle, "d_train_sequences_per_s": len(data) / t_d}
    log(f"training: MLE {res['mle_tokens_per_s']:.0f} tokens/s, D {res['d_train_sequences_per_s']:.0f} seq/s")
    return res


def bench_presets(dev, log) -> dict:
    """Seconds per adversarial round and for the whole run, from measured components (estimate.py)."""
    out = {}
    for name in PRESET_HELP:
        cfg = preset(name)
        cfg.device = str(dev)
        est = estimate(cfg)
        out[name] = {"round_s": est["round"], "total_s": est["total"], "g_step_s": est["g_step"],
                     "d_step_s": est["d_step"]}
        log(f"preset {name}: {est['round']:.1f} s per round, {est['total'] / 60:.1f} min in all (estimated)")
    return out


def run_bench(quick: bool = False, device: str = "auto", log=print) -> dict:
    dev = resolve_device(device)
    res = {"device": str(dev), "device_name": torch.cuda.get_device_name(dev) if dev.type == "cuda" else
           platform.processor() or platform.machine(), "threads": torch.get_num_threads(),
           "torch": torch.__version__, "quick": quick}
    res["rollout"] = bench_rollout(dev, quick, log)
    res["training"] = bench_training(dev, quick, log)
    if not quick:
        res["presets"] = bench_presets(dev, log)
    return res
