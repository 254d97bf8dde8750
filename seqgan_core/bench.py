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
from . import accel
from .models import Discriminator, Generator, sample_categorical
from .rollout import rollout_q, rollout_q_loop
from .train import steps


def _sync(dev):
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def _time(fn: Callable, dev, repeats: int = 1) -> float:
    """Best wall time of `repeats` calls, the device synchronised around each."""
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
def bench_rollout(dev, quick: bool, log) -> dict:
    """The vectorised roll-out against its floor and the authors' loop.

    The floor is measured in the same rounds as the roll-out itself (roll-out, D pass, sampling pass,
    then again), and each takes its minimum: on a shared machine, load that comes and goes then hits
    both sides alike. Measured apart, minutes apart, their ratio drifted from 1.2× to 1.55×."""
    B, N, T, V = (16, 4, 20, 1000) if quick else (64, 16, 20, 5000)
    cuda = dev.type == "cuda"
    cfg = preset("paper")
    d = cfg.discriminator
    torch.manual_seed(0)
    gen = Generator(V, 32, 32).init_normal(0.1).to(dev).eval()
    disc = Discriminator(V, d.emb_dim, d.filter_sizes if not quick else [2, 3, 4, 5, 10],
                         d.num_filters if not quick else [100] * 5, d.dropout, d.l2_reg).to(dev).eval()
    disc.packed = bool(accel.chunks(dev)["d_packed"])
    y = gen.sample(B, T)
    rss0 = _peak_rss_mb()
    if cuda:
        torch.cuda.reset_peak_memory_stats(dev)
    log(f"roll-out: B={B} N={N} T={T} V={V}, D with {disc.out.in_features} pooled features")
    n_seq, n_tok = B * N * (T - 1), B * N * T * (T - 1) // 2
    seqs = torch.randint(0, V, (n_seq, T), device=dev)
    h = torch.randn(n_tok, gen.hidden_dim, device=dev)

    def draw(chunk):
        for i in range(0, n_tok, chunk):
            sample_categorical(gen.out(h[i:i + chunk]))

    # the floor's best chunk sizes, found once
    d_rows = (1024, 4096, 16384, 65536) if cuda else (128, 256, 512, 1024)
    s_rows = (2048, 8192, 32768, 131072) if cuda else (256, 512, 1024, 2048)
    d_chunk = min(d_rows, key=lambda c: _time(lambda: disc.score(seqs, chunk=c), dev, 1))
    s_chunk = min(s_rows, key=lambda c: _time(lambda: draw(c), dev, 1))
    rounds = 5 if cuda or quick else 3
    t_fast = t_d = t_s = float("inf")
    for _ in range(rounds):
        t_fast = min(t_fast, _time(lambda: rollout_q(gen, disc, y, N), dev))
        t_d = min(t_d, _time(lambda: disc.score(seqs, chunk=d_chunk), dev))
        t_s = min(t_s, _time(lambda: draw(s_chunk), dev))
    peak = (torch.cuda.max_memory_allocated(dev) / 2**20) if cuda else _peak_rss_mb()
    floor = {"d_forward_s": t_d, "d_chunk": d_chunk, "sampling_s": t_s, "sampling_chunk": s_chunk,
             "floor_s": t_d + t_s, "sequences_scored": n_seq, "tokens_sampled": n_tok}
    log(f"  vectorised {t_fast:.3f} s, floor {t_d + t_s:.3f} s (D {t_d:.3f} + sampling {t_s:.3f}): "
        f"{t_fast / (t_d + t_s):.2f}x the floor")
    t_loop = _time(lambda: rollout_q_loop(gen, disc, y, N), dev, 1)
    log(f"  authors' loop {t_loop:.2f} s: vectorised is {t_loop / t_fast:.1f}x faster")
    return {"B": B, "N": N, "T": T, "V": V, "vectorised_s": t_fast, "authors_loop_s": t_loop,
            "speedup_vs_loop": t_loop / t_fast, "vs_floor": t_fast / floor["floor_s"], **floor,
            "peak_memory_mb": peak, "peak_memory_kind": "cuda max allocated" if cuda else
            "process max RSS", "rss_before_mb": rss0, "rounds": rounds}


def _paper_d(V: int, dev, packed: bool, precision: str = "fp32") -> Discriminator:
    d = preset("paper").discriminator
    disc = Discriminator(V, d.emb_dim, d.filter_sizes, d.num_filters, d.dropout, d.l2_reg).to(dev)
    disc.packed, disc.precision = packed, precision
    return disc


def _d_train_rate(dev, mode: str, packed: bool, precision: str, n_batches: int, V: int, T: int = 20,
                  B: int = 64, repeats: int = 2) -> dict:
    """D training sequences/s through the trainer's own step (CapturedStep), and the one-off cost of
    capture or compilation (first epoch minus a later one)."""
    torch.manual_seed(0)
    disc = _paper_d(V, dev, packed, precision).train()
    step = steps.make_d_step(disc, accel.adam(disc.parameters(), 1e-4, dev), mode)
    x = torch.randint(0, V, (B * n_batches, T), device=dev)
    labels = torch.randint(0, 2, (B * n_batches,), device=dev)

    def epoch():
        for i in range(n_batches):
            step(x[i * B:(i + 1) * B], labels[i * B:(i + 1) * B])
        step.take()
    first = _time(epoch, dev, 1)
    t = _time(epoch, dev, repeats)
    return {"seq_per_s": B * n_batches / t, "ms_per_minibatch": 1000 * t / n_batches,
            "setup_s": max(0.0, first - t), "mode": step.mode, "note": step.reason}


def _mle_rate(dev, mode: str, n_batches: int, V: int, T: int = 20, B: int = 64, repeats: int = 2) -> dict:
    torch.manual_seed(0)
    gen = Generator(V, 32, 32).init_normal(0.1).to(dev)
    step = steps.make_mle_step(gen, accel.adam(gen.parameters(), 0.01, dev), 5.0, mode)
    data = torch.randint(0, V, (B * n_batches, T), device=dev)

    def epoch():
        for i in range(n_batches):
            step(data[i * B:(i + 1) * B])
        step.take()
    first = _time(epoch, dev, 1)
    t = _time(epoch, dev, repeats)
    return {"tokens_per_s": data.numel() / t, "ms_per_minibatch": 1000 * t / n_batches,
            "setup_s": max(0.0, first - t), "mode": step.mode, "note": step.reason}


def bench_training(dev, quick: bool, log, modes: tuple = ()) -> dict:
    """MLE tokens/s, D sequences/s and sampler sequences/s with the trainer's own steps. On a GPU every
    capture mode is measured (eager, CUDA graph, torch.compile), D in fp32 and bf16, and the cost of
    deterministic kernels."""
    cuda = dev.type == "cuda"
    V = 1000 if quick else 5000
    n = (200 if not quick else 20) if cuda else (20 if not quick else 5)
    packed = bool(accel.chunks(dev)["d_packed"])
    res: dict = {}
    modes = modes or (("eager", "graph", "compile") if cuda and not quick else
                      (("eager", "graph") if cuda else ("eager",)))
    if not cuda:
        modes = ("eager",)
    for mode in modes:
        try:
            res[f"d_{mode}"] = _d_train_rate(dev, mode, packed, "fp32", n, V)
            res[f"mle_{mode}"] = _mle_rate(dev, mode, n, V)
        except Exception as e:  # a mode this machine cannot run is reported, not fatal
            res[f"d_{mode}"] = res[f"mle_{mode}"] = {"error": f"{type(e).__name__}: {str(e)[:200]}"}
        log(f"training ({mode}): D {res[f'd_{mode}'].get('seq_per_s', 0):.0f} seq/s, "
            f"MLE {res[f'mle_{mode}'].get('tokens_per_s', 0):.0f} tokens/s")
    best = "graph" if cuda else "eager"
    res["mle_tokens_per_s"] = res[f"mle_{best}"].get("tokens_per_s")
    res["d_train_sequences_per_s"] = res[f"d_{best}"].get("seq_per_s")
    if cuda:
        res["d_graph_bf16"] = _d_train_rate(dev, "graph", packed, "bf16", n, V)
        res["d_graph_other_conv"] = {"packed": not packed, **_d_train_rate(dev, "graph", not packed, "fp32", n, V)}
        accel.set_deterministic(dev, True)
        try:
            res["d_graph_deterministic"] = _d_train_rate(dev, "graph", packed, "fp32", n, V)
        finally:
            torch.use_deterministic_algorithms(False)
            torch.backends.cudnn.deterministic = False
        log(f"  D bf16 {res['d_graph_bf16']['seq_per_s']:.0f} seq/s, deterministic "
            f"{res['d_graph_deterministic']['seq_per_s']:.0f} seq/s")
    torch.manual_seed(0)
    gen = Generator(V, 32, 32).init_normal(0.1).to(dev)
    rows = 10000 if not quick else 1000
    t = _time(lambda: gen.sample(rows, 20), dev, 2)
    res["sampler_sequences_per_s"] = rows / t
    log(f"  MLE {res['mle_tokens_per_s']:.0f} tokens/s, D {res['d_train_sequences_per_s']:.0f} seq/s, "
        f"sampler {res['sampler_sequences_per_s']:.0f} seq/s")
    return res


@torch.no_grad()
def tune_chunks(dev, log, save: bool = True) -> dict:
    """The chunk sizes (and D's convolution layout) that run fastest here, kept for every later run."""
    cuda = dev.type == "cuda"
    V, T, B, N = 5000, 20, 64, 16
    torch.manual_seed(0)
    gen = Generator(V, 32, 32).init_normal(0.1).to(dev).eval()
    disc = _paper_d(V, dev, bool(accel.chunks(dev)["d_packed"])).eval()
    y = gen.sample(B, T)
    seqs = torch.randint(0, V, (B * N * (T - 1) // (1 if cuda else 4), T), device=dev)
    rows = (2048, 8192, 32768, 131072) if cuda else (256, 512, 1024, 2048)
    reps = 3 if cuda else 2
    n_sample = 16384 if cuda else 2048
    out = {
        "sample_rows": min(rows, key=lambda c: _time(lambda: gen.sample(n_sample, T, chunk=c), dev, reps)),
        "score_rows": min(rows, key=lambda c: _time(lambda: disc.score(seqs, chunk=c), dev, reps)),
    }
    with torch.enable_grad():
        conv = {p: _d_train_rate(dev, "graph", p, "fp32", 50 if cuda else 5, V, repeats=reps)["seq_per_s"]
                for p in (False, True)}
    out["d_packed"] = int(conv[True] > conv[False])
    disc.packed = bool(out["d_packed"])
    out["rollout_rows"] = min(rows, key=lambda c: _time(lambda: rollout_q(gen, disc, y, N, chunk_rows=c), dev,
                                                         reps if cuda else 1))
    log(f"chunks: {out} (D seq/s banks {conv[False]:.0f}, packed {conv[True]:.0f})")
    if save:
        log(f"  kept in {accel.save_chunks(dev, out)}")
    return {**out, "d_seq_per_s_banks": conv[False], "d_seq_per_s_packed": conv[True]}


def bench_presets(dev, log) -> dict:
    """Seconds per adversarial round of each preset. On a GPU one real round of each is trained (its
    pre-training skipped); on a CPU, where a paper round takes minutes, they come from measured
    components (estimate.py)."""
    out = {}
    for name in PRESET_HELP:
        cfg = preset(name)
        cfg.device = str(dev)
        if dev.type == "cuda":
            out[name] = {"round_s": _real_round(cfg), "how": "one real round, after a warm-up round"}
        else:
            est = estimate(cfg)
            out[name] = {"round_s": est["round"], "total_s": est["total"], "how": "estimate"}
        log(f"preset {name}: {out[name]['round_s']:.2f} s per round ({out[name]['how']})")
    return out


def _real_round(cfg) -> float:
    from .train import Trainer
    s = cfg.schedule
    cfg.init_from = ""
    s.pretrain_g_epochs, s.pretrain_d_rounds, s.adv_rounds = 0, 0, 2
    cfg.eval.eval_every_rounds = 10**6        # the round itself, not the evaluation
    tr = Trainer(cfg)
    tr._skip_empty_phases()
    times = []
    while tr.pos.phase != "done":
        start_round = tr.pos.index
        t0 = time.perf_counter()
        while tr.pos.phase != "done" and tr.pos.index == start_round:
            tr._unit()
            tr._skip_empty_phases()
        torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    return min(times[1:] or times)


def run_bench(quick: bool = False, device: str = "auto", log=print, modes: tuple = (),
              presets: bool = True) -> dict:
    dev = resolve_device(device)
    res = {"device": str(dev), "device_name": torch.cuda.get_device_name(dev) if dev.type == "cuda" else
           platform.processor() or platform.machine(), "threads": torch.get_num_threads(),
           "torch": torch.__version__, "quick": quick}
    if not quick:
        res["chunks"] = tune_chunks(dev, log)
    res["rollout"] = bench_rollout(dev, quick, log)
    res["training"] = bench_training(dev, quick, log, modes)
    if not quick and presets:
        res["presets"] = bench_presets(dev, log)
    if dev.type == "cuda":
        res["peak_gpu_memory_mb"] = torch.cuda.max_memory_allocated(dev) / 2**20
    return res
