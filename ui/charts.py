"""Plotly figures of a run, built from plain numbers; no Streamlit calls here.

Figures are made from dicts without a template (Streamlit's theme styles them in the browser), which
keeps each one to a few milliseconds. Every figure carries a `uirevision` so that zoom and legend choices
survive the once-a-second refresh; the caller also gives each chart a stable key.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.colors import get_colorscale, unlabel_rgb

from seqgan_core.contract import METRICS, label

from . import series as S

Q_SCALE = "RdBu"                   # red: D says generated; white: unsure; blue: D says real
FONT = {"size": 15}                # readable on a projector
COLORS = {"nll/oracle": "#d62728", "nll/test": "#1f77b4", "loss/mle": "#7f7f7f", "d/loss": "#9467bd",
          "d/acc_real": "#1f77b4", "d/acc_fake": "#d62728", "d/train_acc": "#7f7f7f",
          "g/reward_mean": "#2ca02c", "g/reward_last": "#98df8a", "g/entropy": "#ff7f0e",
          "div/distinct2": "#17becf", "div/unique": "#8c564b", "real": "#1f77b4", "fake": "#d62728"}
class _Labels(dict):
    """Metric labels from the engine's contract (any metric it knows, now or later)."""

    def __missing__(self, name):
        return label(name)

    def get(self, name, default=None):
        return label(name) if name in METRICS else (default if default is not None else name)


LABELS = _Labels()
EOS_TEXT = "<eos>"
BOUNDED = {"Q": [0, 1.02], "score": [0, 1.02]}   # y titles of quantities that live in [0, 1]
SHARES = ("g/reward_mean", "g/reward_last", "d/acc_real", "d/acc_fake", "d/train_acc")   # also in [0, 1]


def _layout(title: str, uirevision: str, x_title: str, y_title: str, height: int = 330, legend: bool = True,
            **extra) -> dict:
    """The shared layout: title, legend above the plot, projector-sized fonts, the caller's uirevision."""
    # The legend sits between the title and the plot: below the plot it collides with the axis title. Its
    # rows are counted for a narrow chart (half of a 1024-pixel page), so it never reaches the title.
    return {"title": {"text": title, "font": {"size": 17}, "y": 0.98, "yanchor": "top"}, "uirevision": uirevision,
            "height": height, "font": FONT, "margin": {"l": 10, "r": 10, "t": 50, "b": 10},
            "showlegend": legend,
            "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0, "font": {"size": 13}},
            "xaxis": {"title": {"text": x_title}}, "yaxis": {"title": {"text": y_title}}, **extra}


LEGEND_ROW_PX, LEGEND_WIDTH_PX = 24, 250


def legend_room(fig: go.Figure) -> go.Figure:
    """Top margin for the title plus the legend's rows, packed into the width of a narrow chart."""
    if fig.layout.showlegend is False:
        return fig
    names = [t.name for t in fig.data if t.name and t.showlegend is not False]
    rows, used = (1 if names else 0), 0
    for name in names:
        w = 55 + 8 * len(name)                      # sample line + text at the legend's 13 px font
        if used and used + w > LEGEND_WIDTH_PX:
            rows, used = rows + 1, 0
        used += w
    height = fig.layout.height or 330
    fig.update_layout(margin={"t": 50 + LEGEND_ROW_PX * rows}, height=height + LEGEND_ROW_PX * max(rows - 1, 0))
    return fig


def _nice_dtick(span: float, ticks: int = 8) -> int:
    """A whole-number tick step (1, 2, 5, 10, 20, …) giving about `ticks` ticks over span."""
    raw = max(span / ticks, 1.0)
    mag = 10 ** int(np.floor(np.log10(raw)))
    return int(next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw))


def honest_axes(layout: dict, traces: list[dict], y_title: str) -> None:
    """Axes that show change honestly: rounds and epochs on whole-number ticks; a quantity in [0, 1] on
    [0, 1]; any other (nats, a loss) from zero, so a 1 % change is drawn as 1 % of the height."""
    xs = [float(v) for t in traces for v in np.asarray(t.get("x", []), dtype=float).ravel() if np.isfinite(v)]
    if xs:
        layout["xaxis"].update(tickmode="linear", tick0=0, dtick=_nice_dtick(max(xs) - min(xs, default=0)))
    ys = [float(v) for t in traces if t.get("yaxis", "y") == "y"
          for v in np.asarray(t.get("y", []), dtype=float).ravel() if np.isfinite(v)]
    if y_title in BOUNDED:
        layout["yaxis"]["range"] = BOUNDED[y_title]
    elif ys and min(ys) >= 0:
        layout["yaxis"]["range"] = [0, max(max(ys) * 1.05, 1.02 if y_title == "loss / accuracy" else 1e-9)]
    else:
        layout["yaxis"]["rangemode"] = "tozero"


def _marker(x0: float, text: str) -> dict:
    """A dashed vertical line with a label: where the adversarial game starts (as in the paper's figures)."""
    return {"shapes": [{"type": "line", "x0": x0, "x1": x0, "y0": 0, "y1": 1, "yref": "paper",
                        "line": {"dash": "dash", "color": "#444", "width": 2}}],
            "annotations": [{"x": x0, "y": 1, "yref": "paper", "text": text, "showarrow": False,
                             "xanchor": "left", "yanchor": "top", "font": {"size": 13},
                             "bgcolor": "rgba(255,255,255,0.7)"}]}


def _line(x, y, name: str, dash: str | None = None, yaxis: str = "y") -> dict:
    """One metric as a line trace (markers while there are few points)."""
    mode = "lines+markers" if len(x) < 60 else "lines"
    return {"type": "scatter", "x": x, "y": y, "mode": mode, "name": LABELS.get(name, name), "yaxis": yaxis,
            "line": {"color": COLORS.get(name), "dash": dash, "width": 2.5}, "marker": {"size": 6}}


def g_curves(series: S.RunSeries, names: list[str], title: str, adv_start: float, uirevision: str,
             y_title: str, right: tuple[str, ...] = ()) -> go.Figure:
    """Curves over MLE epochs then adversarial rounds (x = E + round), start of the game marked.
    Names in `right` go on a second y axis (e.g. shares in [0, 1] next to nats)."""
    traces = []
    for name in names:
        x, y = S.curve(series, name)
        if len(x):
            traces.append(_line(x, y, name, yaxis="y2" if name in right else "y"))
    extra = _marker(adv_start, "adversarial")
    if right:
        extra["yaxis2"] = {"overlaying": "y", "side": "right", "range": [0, 1.02], "showgrid": False,
                           "tickmode": "array", "tickvals": [0, 0.25, 0.5, 0.75, 1],
                           "title": {"text": "share"}}
    layout = _layout(title, uirevision, "MLE epoch, then E + adversarial round", y_title, **extra)
    honest_axes(layout, traces, y_title)
    return legend_room(go.Figure({"data": traces, "layout": layout}))


def d_curves(series: S.RunSeries, mle_epochs: int, d_rounds: int, uirevision: str) -> go.Figure:
    """D's loss and accuracies over its pre-training rounds, then over the adversarial rounds."""
    traces = []
    for name, dash in (("d/loss", None), ("d/acc_real", "dot"), ("d/acc_fake", "dot"), ("d/train_acc", "dash")):
        xp, yp = S.curve(series, name, ("d_pretrain",))
        xa, ya = S.curve(series, name, ("adversarial",))
        x, y = np.concatenate([xp, xa - mle_epochs + d_rounds]), np.concatenate([yp, ya])
        if len(x):
            traces.append(_line(x, y, name, dash=dash))
    layout = _layout("Discriminator: loss and accuracy", uirevision, "D pre-training round, then R + adversarial round",
                     "loss / accuracy", **_marker(d_rounds, "adversarial"))
    honest_axes(layout, traces, "loss / accuracy")
    return legend_room(go.Figure({"data": traces, "layout": layout}))


def d_histogram(snapshot: dict | None, uirevision: str) -> go.Figure:
    """D's P(real) on a batch of real and of generated sequences, overlaid on a fixed [0, 1] axis."""
    traces = []
    if snapshot:
        for kind, label in (("real", "real data"), ("fake", "generated by G")):
            traces.append({"type": "histogram", "x": snapshot[kind], "name": label, "opacity": 0.6,
                           "xbins": {"start": 0, "end": 1.0001, "size": 0.05},
                           "marker": {"color": COLORS[kind]}})
    step = f" (step {snapshot['step']})" if snapshot else ""
    layout = _layout(f"D's score: real vs G{step}", uirevision, "D(Y) = P(real)", "sequences",
                     barmode="overlay")
    layout["xaxis"]["range"] = [0, 1]
    return legend_room(go.Figure({"data": traces, "layout": layout}))


def q_heatmap(snapshot: dict, uirevision: str) -> go.Figure:
    """Per-token Q of the latest g-step's samples: rows are samples, columns positions t, words written on
    the cells. Colour is Q − b on the centred scale of `q_scale` (the same as the shaded samples), the value
    of Q and of Q − b on hover. Integer axes keep repeated tokens apart."""
    q = np.asarray(snapshot["q"], dtype=float).copy()               # (K, T)
    K, T = q.shape
    scale = q_scale(snapshot["q"], snapshot["tokens"], snapshot.get("baseline"))
    # the columns end with the longest sample's <eos>: empty positions would only narrow the cells
    T = max(1, min(T, max((len(row) + 1 for row in snapshot["tokens"]), default=T)))
    q = q[:, :T]
    # rows are cut at <eos>: the <eos> cell keeps its Q (ending there was G's choice); after it, nothing
    tokens = [(list(row) + ([EOS_TEXT] if len(row) < T else []) + [""] * T)[:T] for row in snapshot["tokens"]]
    for i, row in enumerate(snapshot["tokens"]):
        q[i, len(row) + 1:] = np.nan
    h = scale.half
    # a cell shows as much of its word as fits at a projector's 1024 px (hover shows it all)
    cut = cell_chars(T)
    short = [[w if len(w) <= cut else w[:cut - 1] + "…" for w in row] for row in tokens]
    trace = {"type": "heatmap", "z": q - scale.centres(T), "x": list(range(1, T + 1)), "y": list(range(1, K + 1)),
             "zmin": -h, "zmax": h, "zmid": 0, "colorscale": Q_SCALE, "text": short, "hovertext": tokens,
             "customdata": q,
             "hovertemplate": "sample %{y}, t = %{x}: %{hovertext}<br>Q = %{customdata:.3f}, "
                              f"{scale.symbol} = %{{z:+.3f}}<extra></extra>",
             "colorbar": {"title": {"text": scale.symbol, "side": "right"}, "tickvals": [-h, 0, h],
                          "ticktext": [f"−{h:.{scale.digits}f} lower", "0", f"+{h:.{scale.digits}f} higher"]}}
    if cut >= 3:                                                    # below that the text would overlap
        trace.update(texttemplate="%{text}", textfont={"size": 13 if T <= 12 else 11})
    title = f"Q per token, round {snapshot['round'] + 1}, g-step {snapshot['g_step'] + 1} " \
            f"(N = {snapshot['rollout_num']} roll-outs)<br><sup>colour: {scale.label()}</sup>"
    # grammar runs: a black frame on each ungrammatical sample's first error, the cell Q should drop at
    errors = [(i, e) for i, e in enumerate(snapshot.get("first_error") or []) if e is not None and e < T]
    if errors:
        title += "<br><sup>black frame: the sample's first grammatical error (does Q drop from it on?)</sup>"
    layout = _layout(title, uirevision, "position t", "sample", height=max(260, 46 * K + 110), legend=False)
    layout["margin"]["t"] = 90 if errors else 70
    layout["xaxis"].update(tickmode="linear" if T <= 40 else "auto", dtick=1, tick0=1)
    layout["yaxis"].update(autorange="reversed", tickmode="linear", dtick=1, tick0=1)
    layout["shapes"] = [{"type": "rect", "x0": e + 0.5, "x1": e + 1.5, "y0": i + 0.5, "y1": i + 1.5,
                         "line": {"color": "#000", "width": 3}, "fillcolor": "rgba(0,0,0,0)"} for i, e in errors]
    return go.Figure({"data": [trace], "layout": layout})


# the heatmap's plot width on a 1024 px wide page, sidebar open (537 px in the Live screenshot at 1024x768)
HEATMAP_PX_AT_1024 = 540


def cell_chars(T: int) -> int:
    """Characters of a word that fit in one of T heatmap cells at 1024 px (about 6.5 px each at 11 pt)."""
    return int(HEATMAP_PX_AT_1024 / T / 6.5) if T > 12 else 99


class QScale:
    """Colours for Q that show the differences that exist: the colour is Q − b, with b the baseline the
    run subtracted at each position (or, without one, the median Q of the cells shown), on a symmetric range
    ±half taken from the data (the larger of the 2nd and 98th percentile deviations), so one outlier does
    not wash the rest out. Red: less reward than b; white: as b; blue: more."""

    MIN_HALF = 0.005                # an all-equal batch (a constant reward) is drawn white, not noise

    def __init__(self, centre, half: float, with_baseline: bool):
        self.centre = np.asarray(centre, dtype=float)              # scalar or one value per position
        self.half, self.with_baseline = max(float(half), self.MIN_HALF), with_baseline
        self.digits = 2 if self.half >= 0.05 else 3
        self.symbol = "Q − b" if with_baseline else "Q − median"

    def centres(self, T: int) -> np.ndarray:
        return np.broadcast_to(self.centre, (T,)) if self.centre.ndim else np.full(T, float(self.centre))

    def dev(self, q: float, t: int = 0) -> float:
        """Q at position t (0-based) minus the centre there."""
        c = float(self.centre[min(t, len(self.centre) - 1)]) if self.centre.ndim else float(self.centre)
        return float(q) - c

    def unit(self, q: float, t: int = 0) -> float:
        """Where Q at position t sits on the colour scale: 0 (−half), 0.5 (the centre), 1 (+half)."""
        return min(max(0.5 + self.dev(q, t) / (2 * self.half), 0.0), 1.0)

    def label(self) -> str:
        """What the colour means, in words and with its range."""
        rng = f"range ±{self.half:.{self.digits}f}"
        if self.with_baseline:
            c = self.centre
            b = f"b = {float(c):.3f}" if not c.ndim or np.ptp(c) < 1e-9 else "b per position"
            return f"Q − b ({b}, the baseline this step subtracted), {rng}; red = less reward than b, blue = more"
        return (f"Q − median Q ({float(np.median(self.centre)):.3f}; this run subtracts no baseline), {rng}; "
                "red = less reward than most tokens, blue = more")


def q_scale(q_rows, token_rows, baseline=None) -> QScale:
    """The colour scale of a g-step's samples (see QScale): over the cells that are content, each row's tokens
    and its <eos>; a recorded baseline of zeros means the run subtracted none."""
    T = max((len(r) for r in q_rows), default=1)
    base = np.asarray(baseline if baseline else [], dtype=float)
    with_baseline = bool(len(base)) and bool(np.any(np.abs(base) > 1e-12))
    cells = [(t, float(v)) for row, toks in zip(q_rows, token_rows) for t, v in enumerate(row[:len(toks) + 1])]
    values = np.array([v for _, v in cells]) if cells else np.zeros(1)
    if with_baseline:
        centre = base if np.ptp(base) > 1e-9 else float(base[0])
        centres = np.broadcast_to(centre, (T,)) if np.ndim(centre) else np.full(T, centre)
        dev = np.array([v - centres[min(t, T - 1)] for t, v in cells]) if cells else np.zeros(1)
    else:
        centre = float(np.median(values))
        dev = values - centre
    half = max(abs(np.percentile(dev, 2)), abs(np.percentile(dev, 98)))
    return QScale(centre, half, with_baseline)


def q_tokens(words: list[str], q: list[float], scale: "QScale", error: int | None, uirevision: str) -> go.Figure:
    """One sample's Q token by token: a bar per word on [0, 1], coloured on the heatmap's scale, the centre
    (b or the median) dashed, and the positions from the first grammatical error on shaded."""
    n = len(words)
    x = list(range(1, n + 1))
    units = [scale.unit(v, i) for i, v in enumerate(q[:n])]
    devs = [scale.dev(v, i) for i, v in enumerate(q[:n])]
    bars = {"type": "bar", "x": x, "y": q[:n], "marker": {"color": [q_css(u) for u in units],
                                                         "line": {"color": "#555", "width": 1}},
            "customdata": np.c_[np.array(words, dtype=object), devs], "name": "Q",
            "hovertemplate": "t = %{x}: %{customdata[0]}<br>Q = %{y:.3f}, "
                             + scale.symbol + " = %{customdata[1]:+.3f}<extra></extra>"}
    centre = scale.centres(n)
    line = {"type": "scatter", "x": x, "y": centre, "mode": "lines", "name": scale.symbol.split(" − ")[1],
            "line": {"dash": "dash", "color": "#333", "width": 2}, "hoverinfo": "skip"}
    extra = {}
    if error is not None and error < n:
        extra = {"shapes": [{"type": "rect", "x0": error + 0.5, "x1": n + 0.5, "y0": 0, "y1": 1, "yref": "paper",
                             "fillcolor": "rgba(214,39,40,0.10)", "line": {"color": "#d62728", "width": 2}}],
                 "annotations": [{"x": error + 0.5, "y": 1, "yref": "paper", "xanchor": "left", "yanchor": "top",
                                  "text": "from the first error on", "showarrow": False, "font": {"size": 13},
                                  "bgcolor": "rgba(255,255,255,0.8)"}]}
    layout = _layout("Q of each word of this sample", uirevision, "", "Q", height=330, legend=False, **extra)
    layout["xaxis"].update(tickmode="array", tickvals=x, ticktext=list(words), tickfont={"size": 15},
                           tickangle=0 if n <= 12 else -45)
    layout["yaxis"]["range"] = BOUNDED["Q"]
    layout["margin"]["b"] = 90
    return go.Figure({"data": [bars, line], "layout": layout})


# The colour map as arrays, read once: plotly's own sampler costs a millisecond a call, and the Live page
# shades every token of every sample each second.
_STOPS = np.array([float(stop) for stop, _ in get_colorscale(Q_SCALE)])
_RGB = np.array([unlabel_rgb(color) for _, color in get_colorscale(Q_SCALE)], dtype=float)   # (stops, 3)


def q_css(unit: float) -> str:
    """Background colour at a position on the colour scale (QScale.unit), the same map as the heatmap."""
    u = min(max(float(unit), 0.0), 1.0)
    r, g, b = (np.interp(u, _STOPS, _RGB[:, i]) for i in range(3))
    return f"rgb({r:.0f},{g:.0f},{b:.0f})"


def text_on(unit: float) -> str:
    """Black or white text, whichever reads on that colour (the map is dark at both ends)."""
    return "#fff" if abs(float(unit) - 0.5) > 0.3 else "#111"


def overlay(curves: list[tuple[str, np.ndarray, np.ndarray]], metric: str, uirevision: str,
            adv_starts: set[int]) -> go.Figure:
    """One metric of several runs on one chart: [(run label, x, y), ...]; the adversarial start of each
    distinct pre-training length marked."""
    traces = [{"type": "scatter", "x": x, "y": y, "mode": "lines+markers" if len(x) < 60 else "lines",
               "name": label} for label, x, y in curves]
    marks = [_marker(e, "adversarial" if len(adv_starts) == 1 else f"adversarial from {e}")
             for e in sorted(adv_starts)]
    layout = _layout(f"{LABELS.get(metric, metric)} across runs", uirevision, "MLE epoch, then E + round",
                     LABELS.get(metric, metric), height=420, shapes=[m["shapes"][0] for m in marks],
                     annotations=[m["annotations"][0] for m in marks])
    honest_axes(layout, traces, "Q" if metric in SHARES or metric.startswith(("div/", "valid/", "bleu/"))
                else LABELS.get(metric, metric))
    return legend_room(go.Figure({"data": traces, "layout": layout}))


def completion_scores(scores: list[float], uirevision: str, title: str) -> go.Figure:
    """The N roll-outs' D scores as dots on [0, 1], their mean (the Q estimate) and mean ± 2 standard errors."""
    s = np.asarray(scores, dtype=float)
    mean, se = s.mean(), s.std(ddof=1) / np.sqrt(len(s)) if len(s) > 1 else 0.0
    jitter = np.random.default_rng(0).uniform(-0.3, 0.3, len(s))   # fixed jitter: the dots do not dance
    dots = {"type": "scatter", "x": s, "y": jitter, "mode": "markers", "name": "one roll-out's D score",
            "marker": {"size": 11, "color": "#1f77b4", "opacity": 0.8, "line": {"width": 1, "color": "#fff"}},
            "hovertemplate": "D = %{x:.3f}<extra></extra>"}
    layout = _layout(title, uirevision, "D(completed sequence) = P(real)", "", height=230, legend=False,
                     shapes=[{"type": "rect", "x0": mean - 2 * se, "x1": mean + 2 * se, "y0": -0.5, "y1": 0.5,
                              "fillcolor": "rgba(44,160,44,0.2)", "line": {"width": 0}},
                             {"type": "line", "x0": mean, "x1": mean, "y0": -0.5, "y1": 0.5,
                              "line": {"color": "#2ca02c", "width": 3}}])
    layout["xaxis"]["range"] = [0, 1]
    layout["yaxis"].update(visible=False, range=[-0.6, 0.6])
    return go.Figure({"data": [dots], "layout": layout})


def tightening(scores: list[float], recorded_q: float | None, uirevision: str) -> go.Figure:
    """The Q estimate after the first n of the N roll-outs, with its ±2 standard-error band: how the
    Monte-Carlo average settles as N grows."""
    s = np.asarray(scores, dtype=float)
    n = np.arange(1, len(s) + 1)
    mean = np.cumsum(s) / n
    var = np.maximum(np.cumsum(s ** 2) / n - mean ** 2, 0.0) * n / np.maximum(n - 1, 1)
    se = np.sqrt(var / n)
    band = {"type": "scatter", "x": np.r_[n, n[::-1]], "y": np.r_[mean + 2 * se, (mean - 2 * se)[::-1]],
            "fill": "toself", "fillcolor": "rgba(31,119,180,0.2)", "line": {"width": 0}, "name": "± 2 standard errors",
            "hoverinfo": "skip"}
    line = {"type": "scatter", "x": n, "y": mean, "mode": "lines", "name": "Q estimate from the first n roll-outs",
            "line": {"color": "#1f77b4", "width": 3}}
    traces = [band, line]
    if recorded_q is not None:
        traces.append({"type": "scatter", "x": [1, len(s)], "y": [recorded_q] * 2, "mode": "lines",
                       "name": "Q used in training", "line": {"dash": "dash", "color": "#d62728"}})
    layout = _layout("How the estimate tightens as N grows", uirevision, "n roll-outs averaged", "Q", height=340)
    layout["xaxis"]["type"] = "log" if len(s) > 16 else "linear"
    return legend_room(go.Figure({"data": traces, "layout": layout}))


def q_by_position(recorded: list[float] | None, rerolled: list[float], se: list[float], uirevision: str,
                  n: int) -> go.Figure:
    """Q at every position of one sample: the re-rolled estimate with its error bars, next to the Q the
    training step used."""
    t = list(range(1, len(rerolled) + 1))
    traces = [{"type": "scatter", "x": t, "y": rerolled, "mode": "markers+lines", "name": f"re-rolled, N = {n}",
               "error_y": {"type": "data", "array": [2 * e for e in se], "visible": True},
               "line": {"color": "#1f77b4"}}]
    if recorded is not None:
        traces.append({"type": "scatter", "x": t, "y": recorded, "mode": "markers+lines", "name": "used in training",
                       "line": {"color": "#d62728", "dash": "dash"}})
    layout = _layout("Q at every position (bars: ± 2 standard errors)", uirevision, "position t", "Q", height=340)
    if len(t) <= 40:
        layout["xaxis"].update(tickmode="linear", dtick=1)
    return legend_room(go.Figure({"data": traces, "layout": layout}))


def piano_roll(notes: list[tuple[int, int, int]], steps: int, name_of, uirevision: str) -> go.Figure:
    """A melody as bars: one per note, x = time step, y = piano key (named, e.g. A4)."""
    fig = go.Figure()
    if notes:
        fig.add_bar(x=[length for _, length, _ in notes], base=[start for start, _, _ in notes],
                    y=[midi for _, _, midi in notes], orientation="h", width=0.8, marker_color="#2a6fb0",
                    text=[name_of(m) for _, _, m in notes], textposition="inside", insidetextanchor="start",
                    hovertemplate="step %{base}, %{x} step(s): %{text}<extra></extra>")
        keys = sorted({m for _, _, m in notes})
        fig.update_yaxes(tickvals=keys, ticktext=[name_of(m) for m in keys], range=[keys[0] - 1.5, keys[-1] + 1.5])
    fig.update_layout(_layout("Piano roll", uirevision, "time step (eighth notes)", "key", height=260,
                              legend=False))
    fig.update_xaxes(range=[-0.5, steps + 0.5], dtick=4)
    return fig
