"""The Learn page's parts: Algorithm 1 one step at a time, each formula filled in with the selected run's
own numbers, and what three classic failure modes look like in its charts."""
from __future__ import annotations

import math

import numpy as np
import streamlit as st

from . import charts, series as S


def phase_value(series: S.RunSeries, name: str, phase: str, last: bool = True) -> float | None:
    """The last (or first) value of a metric recorded in one phase."""
    part = series.by_name.get(name)
    if part is None:
        return None
    part = part[part["phase"] == phase]
    if not len(part):
        return None
    return float(part["value"].iloc[-1 if last else 0])


def fmt(value: float | None, digits: int = 3) -> str:
    """A number for the text, or words saying the run has not recorded it (never a bare dash)."""
    return "not measured yet" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def players(cfg: dict) -> None:
    """The two networks, with this run's sizes."""
    g, d = cfg["generator"], cfg["discriminator"]
    st.markdown(
        f"**Two networks play.** The generator $G_\\theta$ is an LSTM (embedding {g['emb_dim']}, hidden "
        f"{g['hidden_dim']}) that writes a sequence one token at a time, each token drawn from its predicted "
        f"distribution. The discriminator $D_\\phi$ is a CNN (windows {d['filter_sizes']}) that reads a whole "
        "sequence and outputs the probability that it came from the data rather than from $G$.")


def step_mle(series: S.RunSeries, cfg: dict) -> None:
    """Lines 1–2: MLE pre-training, with the run's last loss and NLL-oracle."""
    st.markdown("**Lines 1–2 · Teach G by imitation (MLE).** G sees real prefixes and learns to predict the next "
                "token; this is ordinary language-model training, with teacher forcing.")
    st.latex(r"\min_\theta\; -\frac{1}{T}\sum_{t=1}^{T}\log G_\theta\!\left(y_t \mid Y_{1:t-1}\right),"
             r"\qquad Y \in \text{training data}")
    E = cfg["schedule"]["pretrain_g_epochs"]
    loss, nll = phase_value(series, "loss/mle", "mle"), phase_value(series, "nll/oracle", "mle")
    said = [f"the last MLE loss was **{loss:.3f}** nats per token"] if loss is not None else []
    said += [f"G's samples ended pre-training at NLL-oracle **{nll:.3f}**"] if nll is not None else []
    st.markdown(f"This run: **{E}** epochs; " + (" and ".join(said) if said else
                                                "no MLE loss or NLL-oracle was recorded for them") + ".")


def step_d(series: S.RunSeries, cfg: dict) -> None:
    """Lines 4–5: D pre-training, with the run's D loss and accuracies after it."""
    st.markdown("**Lines 4–5 · Teach D to tell real from generated.** Fresh samples of G are the negatives, "
                "real sequences the positives; D minimises the usual cross-entropy:")
    st.latex(r"\min_\phi\; -\mathbb{E}_{Y\sim p_\text{data}}\left[\log D_\phi(Y)\right]"
             r" - \mathbb{E}_{Y\sim G_\theta}\left[\log\left(1-D_\phi(Y)\right)\right]")
    s = cfg["schedule"]
    st.markdown(f"This run: **{s['pretrain_d_rounds']}** rounds of {s['num_negatives']:,} fresh negatives, "
                f"{s['pretrain_d_epochs']} epoch(s) each. After them D's loss was "
                f"**{fmt(phase_value(series, 'd/loss', 'd_pretrain'))}**, it recognised "
                f"**{fmt(phase_value(series, 'd/acc_real', 'd_pretrain'), 2)}** of real and "
                f"**{fmt(phase_value(series, 'd/acc_fake', 'd_pretrain'), 2)}** of generated sequences.")


def pick(snap: dict) -> tuple[int, int]:
    """A token of the latest g-step to follow through the formulas."""
    K, T = len(snap["ids"]), len(snap["ids"][0])
    cols = st.columns(2)
    b = cols[0].number_input("sample", 1, K, 1, key="learn.sample") - 1
    t = cols[1].number_input("position t", 1, T, max(1, T // 2), key="learn.t")
    return int(b), int(t)


def step_rollout(snap: dict, b: int, t: int) -> None:
    """Lines 7–8: the Monte-Carlo estimate of Q, filled in for the chosen token."""
    st.markdown("**Lines 7–8 · Score every token by looking ahead.** D only judges whole sequences, so the reward "
                "of token $y_t$ is estimated by letting the roll-out policy $G_\\beta$ finish the sequence $N$ "
                "times from $Y_{1:t}$ and averaging D's verdicts:")
    st.latex(r"Q\!\left(Y_{1:t-1}, y_t\right)=\begin{cases}\dfrac{1}{N}\sum_{n=1}^{N} D_\phi\!\left(Y^{n}_{1:T}\right),"
             r"\; Y^{n}_{1:T}\sim G_\beta(\cdot \mid Y_{1:t}) & t<T\\[4pt] D_\phi(Y_{1:T}) & t=T\end{cases}")
    T, q = len(snap["ids"][0]), snap["q"][b][t - 1]
    token = snap["tokens"][b][t - 1] if t <= len(snap["tokens"][b]) else "<eos>"
    if t < T and b == 0:
        scores = np.asarray(snap["completion_scores"][t - 1])
        shown = " + ".join(f"{v:.2f}" for v in scores[:6]) + (" + …" if len(scores) > 6 else "")
        st.latex(rf"Q(\ldots, y_{{{t}}}=\text{{{_tex(token)}}}) = \frac{{1}}{{{len(scores)}}}\left({shown}\right)"
                 rf" = {scores.mean():.3f}")
    else:
        st.markdown(f"Round {snap['round'] + 1}: token **{token}** at t = {t} of sample {b + 1} got "
                    f"**Q = {q:.3f}** from N = {snap['rollout_num']} roll-outs"
                    + (" (the last token: D's own score)." if t == T else "."))


def step_pg(snap: dict, b: int, t: int, cfg: dict) -> None:
    """Line 9: the policy gradient, with log G(y_t), Q and their product for the chosen token."""
    st.markdown("**Line 9 · Policy gradient.** G raises the log-probability of each token it chose in "
                "proportion to that token's reward (minus a baseline $b$, if one is set):")
    st.latex(r"\nabla_\theta J(\theta)\;\approx\;\sum_{t=1}^{T}"
             r"\nabla_\theta \log G_\theta\!\left(y_t\mid Y_{1:t-1}\right)\,\bigl(Q(Y_{1:t-1},y_t)-b\bigr)")
    s = cfg["schedule"]
    logp, q = snap["logp"][b][t - 1], snap["q"][b][t - 1]
    base = snap.get("baseline") or []
    if not base and s["reward_baseline"] != "none":
        st.info("This run's snapshot predates recorded baselines: the numbers below leave b out.")
    bl = base[t - 1] if base else 0.0
    # two short lines: one long formula is cut off on a 1024-pixel projector
    st.latex(rf"\log G_\theta(y_{{{t}}}\mid Y_{{1:{t - 1}}}) = {logp:.3f}\;(p = {math.exp(logp):.4f}),\qquad "
             rf"Q = {q:.3f},\qquad b = {bl:.3f}")
    st.latex(rf"\log G\cdot (Q-b) = {logp * (q - bl):.3f}")
    whole = -sum(lp * (qq - (base[i] if base else 0.0))
                 for i, (lp, qq) in enumerate(zip(snap["logp"][b], snap["q"][b])))
    norm = ("summed over the batch, as the authors do" if snap.get("loss_norm", s["pg_loss_norm"]) == "sum"
            else "then averaged over the batch's B·T tokens")
    st.markdown(f"The loss this token adds is $-\\log G\\cdot (Q-b)$ = **{-logp * (q - bl):.3f}**; the whole sample "
                f"adds **{whole:.2f}** (baseline: {s['reward_baseline']}, b taken over the run's whole batch; "
                f"{norm}). With no baseline no Q is negative, so every sampled token is pushed up (or left alone at "
                "Q = 0), the more the larger its Q: that alone sharpens G, whatever D says.")


def step_dsteps(series: S.RunSeries, cfg: dict, progress: dict) -> None:
    """Lines 10–12: d-steps with k epochs, and the roll-out policy update."""
    sched = progress.get("schedule") or cfg["schedule"]
    st.markdown(f"**Lines 10–11 · Keep D sharp.** After the g-steps come **{sched['d_steps']}** d-steps: each "
                f"draws {cfg['schedule']['num_negatives']:,} fresh negatives and trains D for k = "
                f"**{sched['k_epochs']}** epochs. Lately D's loss is "
                f"**{fmt(phase_value(series, 'd/loss', 'adversarial'))}**,"
                f" with accuracy **{fmt(phase_value(series, 'd/acc_real', 'adversarial'), 2)}** on real and "
                f"**{fmt(phase_value(series, 'd/acc_fake', 'adversarial'), 2)}** on generated sequences.")
    r = cfg["schedule"]["rollout_delay"]
    st.markdown("**Line 12 · Update the roll-out policy**, $\\beta \\leftarrow \\theta$. "
                + ("This run rolls out with the current G itself (delay r = 0), as the paper does."
                   if r == 0 else
                   f"This run lags it: $\\theta_\\beta \\leftarrow {r}\\,\\theta_\\beta + {1 - r:.2f}\\,\\theta$."))


def change(series: S.RunSeries, name: str, digits: int = 3) -> str:
    """How a metric moved from the end of MLE to now, in words; what is measured when one end is missing
    (a run started from a saved generator records no MLE rows): never a dash standing for a number."""
    before, now = phase_value(series, name, "mle"), S.last_value(series, name)
    if now is None:
        return "has not been measured yet"
    if before is None:
        return f"is **{now:.{digits}f}** now (it was not measured at the end of MLE in this run)"
    return f"went from **{before:.{digits}f}** after MLE to **{now:.{digits}f}** now"


def _exposure_numbers(series: S.RunSeries) -> str:
    """NLL-oracle before and after the adversarial phase; for data without an oracle, what is measured."""
    if "nll/oracle" in series.by_name:
        return f"NLL-oracle {change(series, 'nll/oracle')}."
    text = ("this data set has no oracle, so NLL-oracle cannot be measured; NLL-test (held-out real data) "
            f"{change(series, 'nll/test')}")
    quality = sorted(n for n in series.by_name if n.startswith(("bleu/", "valid/")))
    if quality:
        q = quality[-1]
        text += f", and {charts.LABELS.get(q, q)} of G's own samples {change(series, q)}"
    return text + "."


def pitfalls(series: S.RunSeries, cfg: dict, snap: dict | None, run_id: str) -> None:
    """Exposure bias, mode collapse and reward variance, each with what to look for in this run."""
    E = cfg["schedule"]["pretrain_g_epochs"]
    st.markdown("**Exposure bias.** Under MLE, G always continues *real* prefixes; when it generates, it must "
                "continue its *own*, and one odd token leads it where it never trained. NLL-test is measured on "
                "real prefixes, NLL-oracle on G's free-running samples, so the gap between what they promise is "
                "where exposure bias shows. The adversarial phase trains on G's own samples, which is meant to "
                f"close it: {_exposure_numbers(series)}")
    st.markdown("**Mode collapse.** G can please D by producing a few sequences D likes, over and over. "
                "NLL-oracle alone then *improves*; the warning signs are falling entropy and distinct bigrams and "
                f"rising NLL-test. Here distinct bigrams {change(series, 'div/distinct2')}; NLL-test "
                f"{change(series, 'nll/test')}.")
    st.plotly_chart(charts.g_curves(series, ["g/entropy", "div/distinct2", "div/unique"], "Entropy and diversity", E,
                                    run_id, "nats", right=("div/distinct2", "div/unique")),
                    key="learn.div", width="stretch")
    if snap:
        scores = np.asarray(snap["completion_scores"])            # (T-1, N)
        sd = float(scores.std(axis=1, ddof=1).mean()) if scores.shape[1] > 1 else 0.0
        st.markdown(f"**Reward variance.** Q is an average of only N = {scores.shape[1]} noisy verdicts. In the "
                    f"latest g-step the scores of one prefix's roll-outs spread by **{sd:.3f}** (std) on average, "
                    f"so each Q is uncertain by about **{sd / math.sqrt(scores.shape[1]):.3f}**; the policy gradient "
                    "inherits that noise. Larger N or a baseline reduces it; the Roll-outs page shows it shrink.")


def _tex(token: str) -> str:
    """A token made safe inside \\text{...}: backslashes, ~ and ^ dropped, the other specials escaped."""
    token = token.translate({ord("\\"): None, ord("~"): None, ord("^"): None})
    return "".join("\\" + c if c in "#$%&_{}" else c for c in token)[:20] or "?"
