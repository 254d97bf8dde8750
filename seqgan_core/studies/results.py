"""A study's results: per cell the final metric of each seed, mean ± spread, Welch t-tests against a
reference cell, curves; exported as CSV, Markdown or LaTeX.

Two t-tests, answering two questions (both Welch's, scipy.stats.ttest_ind(equal_var=False)):
- over seeds: is the method better, given how much training runs differ from seed to seed? (n = seeds)
- over sequences, as the paper did: the per-sequence NLL-oracle of a large sample from each run's final
  generator, pooled over a cell's seeds. Its n is the sample size, so it finds these trained models apart
  almost always; it says nothing about a rerun with other seeds. Read it beside the seed test.
"""
from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Optional

import numpy as np

from ..contract import label
from ..runs.store import RunDB, read_config
from .study import Study


def final_values(study: Study, metric: str) -> dict[str, list[tuple[int, Optional[float]]]]:
    """cell -> [(seed, the run's last recorded value of metric, or None)] for finished runs."""
    out: dict[str, list] = {c: [] for c in study.cells()}
    for m in study.members:
        db = RunDB(m["dir"])
        ok = db.state().get("status") == "finished"
        out[m["cell"]].append((m["seed"], db.latest_values().get(metric) if ok else None))
    return out


def curves(study: Study, metric: str) -> dict[str, list[dict]]:
    """cell -> [{x, mean, std, n}] over the seeds' recorded values of metric at each x."""
    out = {}
    for cell in study.cells():
        by_x: dict[float, list[float]] = {}
        for m in (m for m in study.members if m["cell"] == cell):
            for _, name, _, x, value, _ in RunDB(m["dir"]).metrics_since(-1, [metric]):
                by_x.setdefault(x, []).append(value)
        out[cell] = [{"x": x, "mean": float(np.mean(v)), "std": _std(v), "n": len(v)}
                     for x, v in sorted(by_x.items())]
    return out


def _std(values) -> float:
    return float(np.std(values, ddof=1)) if len(values) > 1 else float("nan")


def welch(a, b) -> dict:
    """Welch's t-test of a against b: t, p (two-sided), and the sizes; p is nan below two values each."""
    from scipy import stats
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if len(a) < 2 or len(b) < 2:
        return {"t": float("nan"), "p": float("nan"), "n_a": len(a), "n_b": len(b)}
    res = stats.ttest_ind(a, b, equal_var=False)
    return {"t": float(res.statistic), "p": float(res.pvalue), "n_a": len(a), "n_b": len(b)}


def sequence_nll(run_dir, n: int, seed: int = 0):
    """Per-sequence NLL-oracle (mean over tokens, nats) of n samples from the run's final generator, drawn
    with a fixed seed. None when the run's data set has no oracle."""
    import torch

    from .. import data
    from ..runs.inspect import load_models
    cfg = read_config(run_dir)
    ds = data.load(cfg.data.name, cfg.data.options, cfg.seed)
    if ds.oracle is None:
        return None
    gen, _, _ = load_models(run_dir)
    oracle = ds.oracle.to("cpu")
    torch.manual_seed(seed)
    out = []
    with torch.no_grad():
        for lo in range(0, n, 2048):
            out.append(oracle.nll(gen.sample(min(2048, n - lo), ds.seq_len)))
    return torch.cat(out).numpy()


def table(study: Study, metric: Optional[str] = None, reference: Optional[str] = None,
          samples: int = 0) -> dict:
    """Rows per cell: mean, std, n and per-seed values of the final metric; p over seeds against the
    reference cell; with samples > 0 (NLL-oracle only) p over per-sequence NLL-oracle of that many samples
    per run."""
    metric = metric or study.spec.metric
    cells = study.cells()
    reference = reference or study.spec.reference or cells[-1]
    if reference not in cells:
        raise ValueError(f"reference cell '{reference}' is not in the study; cells: {', '.join(cells)}")
    finals = final_values(study, metric)
    per_seq = {}
    if samples > 0 and metric == "nll/oracle":
        for cell in cells:
            arrays = [sequence_nll(m["dir"], samples) for m in study.members
                      if m["cell"] == cell and RunDB(m["dir"]).state().get("status") == "finished"]
            arrays = [a for a in arrays if a is not None]
            per_seq[cell] = np.concatenate(arrays) if arrays else np.array([])
    ref_vals = [v for _, v in finals[reference] if v is not None]
    rows = []
    for cell in cells:
        vals = [v for _, v in finals[cell] if v is not None]
        row = {"cell": cell, "n": len(vals), "mean": float(np.mean(vals)) if vals else float("nan"),
               "std": _std(vals), "values": {s: v for s, v in finals[cell]}}
        if cell != reference:
            row["p_seeds"] = welch(vals, ref_vals)["p"]
            if cell in per_seq:
                row["p_sequences"] = welch(per_seq[cell], per_seq[reference])["p"]
                row["seq_mean"] = float(per_seq[cell].mean()) if len(per_seq[cell]) else float("nan")
        elif cell in per_seq:
            row["seq_mean"] = float(per_seq[cell].mean()) if len(per_seq[cell]) else float("nan")
        rows.append(row)
    return {"metric": metric, "reference": reference, "samples": samples, "rows": rows}


# --- the temperature-matched control ------------------------------------------------------------------
MATCH_TAUS = tuple(round(1.0 - 0.05 * i, 2) for i in range(11))       # 1.0, 0.95, ..., 0.5: the sharpening side


def match_tau(taus, values, target: float) -> tuple[float, bool]:
    """The temperature at which `values` (a diversity measure, e.g. NLL-test, at each τ of a grid walked from
    1.0 down) first reaches `target`, linearly interpolated between grid points; (τ, reached). A target
    already met at τ = 1 gives 1.0; one never reached gives the grid's last τ and False."""
    if values[0] >= target:
        return float(taus[0]), True
    for (t0, v0), (t1, v1) in zip(zip(taus, values), zip(taus[1:], values[1:])):
        if v1 >= target:
            return float(t0 + (t1 - t0) * (target - v0) / (v1 - v0)), True
    return float(taus[-1]), False


def temperature_matched(study: Study, source: str, target: str, metric: str = "nll/oracle",
                        match: str = "nll/test", n: int = 2000, taus=MATCH_TAUS) -> dict:
    """The MLE-at-temperature control, per seed: the source cell's final G (e.g. method=mle) sampled at the
    τ ≤ 1 where its `match` value equals the target cell's run of the same seed (e.g. SeqGAN's NLL-test),
    and its `metric` there. Sharpening by temperature costs no training; SeqGAN has to beat it at equal
    diversity for its quality gain to be the adversary's. A table row (cell, values per seed, taus)."""
    from ..metrics import lesson
    from ..train import Trainer
    cells = study.cells()
    for c in (source, target):
        if c not in cells:
            raise ValueError(f"cell '{c}' is not in the study; cells: {', '.join(cells)}")
    want = {s: v for s, v in final_values(study, match)[target] if v is not None}
    values, chosen, missed = {}, {}, []
    for m in study.members:
        if m["cell"] != source or m["seed"] not in want or RunDB(m["dir"]).state().get("status") != "finished":
            continue
        tr = Trainer.resume(Path(m["dir"]) / "checkpoints" / "latest.pt", device="cpu")
        grid = lesson.temperature_sweep(tr.gen, tr.ds, taus, n)
        tau, reached = match_tau(taus, [r[match] for r in grid], want[m["seed"]])
        if not reached:
            missed.append(m["seed"])
        values[m["seed"]] = lesson.temperature_sweep(tr.gen, tr.ds, [tau], n)[0].get(metric)
        chosen[m["seed"]] = tau
    vals = [v for v in values.values() if v is not None]
    return {"cell": f"{source} at τ matching {target}'s {label(match)}", "n": len(vals),
            "mean": float(np.mean(vals)) if vals else float("nan"), "std": _std(vals), "values": values,
            "taus": chosen, "not_reached": missed}


def add_row(tab: dict, row: dict, study: Study) -> dict:
    """tab with one more row (e.g. the temperature-matched control), tested over seeds against the reference."""
    ref = [v for _, v in final_values(study, tab["metric"])[tab["reference"]] if v is not None]
    row = {**row, "p_seeds": welch([v for v in row["values"].values() if v is not None], ref)["p"]}
    return {**tab, "rows": tab["rows"] + [row]}


# --- exports -------------------------------------------------------------------------------------------
def _num(x, digits=3) -> str:
    return "" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def _p(x) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{x:.2g}" if x >= 1e-6 else "< 1e-6"


def to_csv(tab: dict) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    seeds = sorted({s for r in tab["rows"] for s in r["values"]})
    w.writerow(["cell", "metric", "n", "mean", "std", "p_seeds", "p_sequences", "seq_mean",
                *[f"seed_{s}" for s in seeds]])
    for r in tab["rows"]:
        w.writerow([r["cell"], tab["metric"], r["n"], r["mean"], r["std"], r.get("p_seeds", ""),
                    r.get("p_sequences", ""), r.get("seq_mean", ""),
                    *["" if r["values"].get(s) is None else r["values"][s] for s in seeds]])
    return buf.getvalue()


def mean_spread(row: dict) -> str:
    """A cell's mean ± std over seeds; one seed says it has no spread; no seed, empty."""
    if not row["n"]:
        return ""
    spread = f" ± {_num(row['std'])}" if row["n"] > 1 else " (one seed: no spread)"
    return f"{_num(row['mean'])}{spread}"


def _cells(tab: dict) -> tuple[list[str], list[list[str]]]:
    with_seq = any("p_sequences" in r for r in tab["rows"])
    head = ["cell", f"{label(tab['metric'])} (mean ± std)", "seeds", f"p vs {tab['reference']} (seeds)"]
    if with_seq:
        head.append(f"p vs {tab['reference']} ({tab['samples']} sequences per run)")
    body = []
    for r in tab["rows"]:
        cell = r["cell"]
        if r.get("taus"):
            cell += " (τ " + ", ".join(f"{t:.2f}" for _, t in sorted(r["taus"].items())) + ")"
        line = [cell, mean_spread(r), str(r["n"]),
                _p(r.get("p_seeds")) if r["cell"] != tab["reference"] else "(reference)"]
        if with_seq:
            line.append(_p(r.get("p_sequences")) if r["cell"] != tab["reference"] else "(reference)")
        body.append(line)
    return head, body


def to_markdown(tab: dict) -> str:
    head, body = _cells(tab)
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(row) + " |" for row in body]
    return "\n".join(lines) + "\n"


def to_latex(tab: dict) -> str:
    def esc(s: str) -> str:
        for a, b in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("_", r"\_"), ("#", r"\#"),
                     ("±", r"$\pm$"), ("<", r"$<$"), ("–", "--")):
            s = s.replace(a, b)
        return s
    head, body = _cells(tab)
    lines = [r"\begin{tabular}{l" + "r" * (len(head) - 1) + "}", r"\hline",
             " & ".join(esc(h) for h in head) + r" \\", r"\hline"]
    lines += [" & ".join(esc(c) for c in row) + r" \\" for row in body]
    lines += [r"\hline", r"\end{tabular}"]
    return "\n".join(lines) + "\n"
