"""The Q colour scale shared by the heatmap and the shaded samples: centred on the baseline (or the median
Q), with a symmetric range taken from the data, so that the differences that exist can be seen."""
import re

import numpy as np

from ui.charts import q_css, q_heatmap, q_scale
from ui.tokens import shaded_block


def _snap(q, tokens, baseline=None):
    snap = {"q": q, "tokens": tokens, "round": 2, "g_step": 0, "rollout_num": 8}
    if baseline is not None:
        snap["baseline"] = baseline
    return snap


def _rgb(css: str) -> np.ndarray:
    return np.array([float(v) for v in re.findall(r"[\d.]+", css)])


def _chip_colours(html: str) -> list[np.ndarray]:
    """The background of every shaded word, in order (the key's chips come after the rows)."""
    rows = html.split("<div class='sg-key'>")[0]
    return [_rgb(c) for c in re.findall(r"background:(rgb\([^)]*\))", rows)]


def test_heatmap_is_centred_on_the_baseline_with_a_range_from_the_data():
    """Q within 0.47–0.53 of a batch whose baseline is 0.5: on a fixed [0, 1] scale every cell is the same
    pale colour; here the colour range is ±0.03 around b, said on the chart."""
    q = [[0.47, 0.50, 0.53, 0.51], [0.49, 0.52, 0.48, 0.50]]
    fig = q_heatmap(_snap(q, [["the", "dog", "runs"], ["a", "cat", "sleeps", "x"]], [0.5] * 4), "r")
    trace = fig.data[0]
    assert trace.zmid == 0 and abs(trace.zmax - 0.03) < 0.005 and trace.zmin == -trace.zmax
    assert trace.colorbar.title.text == "Q − b"
    assert f"range ±{trace.zmax:.3f}" in fig.layout.title.text and "b = 0.500" in fig.layout.title.text
    z = np.array(trace.z, dtype=float)
    assert abs(z[0, 0] + 0.03) < 1e-9 and abs(z[0, 2] - 0.03) < 1e-9                  # colour: Q − b
    assert np.array(trace.customdata, dtype=float)[0, 2] == 0.53                        # hover: Q itself
    assert "Q = %{customdata:.3f}" in trace.hovertemplate and "%{hovertext}" in trace.hovertemplate
    assert list(trace.text[0][:4]) == ["the", "dog", "runs", "<eos>"]                  # words, not ids


def test_heatmap_frames_each_ungrammatical_samples_first_error():
    snap = _snap([[0.6, 0.5, 0.2, 0.1], [0.6, 0.6, 0.6, 0.6], [0.3, 0.3, 0.3, 0.3]],
                 [["the", "dogs", "runs"], ["a", "cat", "sleeps"], ["x", "y", "z"]])
    snap["first_error"] = [2, None, 0]                               # 0-based positions; None: grammatical
    fig = q_heatmap(snap, "r")
    frames = sorted((s.x0, s.y0) for s in fig.layout.shapes)
    assert frames == [(0.5, 2.5), (2.5, 0.5)]                       # column t = e + 1, row = sample + 1
    assert all(s.x1 - s.x0 == 1 and s.y1 - s.y0 == 1 for s in fig.layout.shapes)
    assert "first grammatical error" in fig.layout.title.text
    assert not q_heatmap(_snap(snap["q"], snap["tokens"]), "r").layout.shapes         # no grammar, no frames


def test_range_is_robust_to_an_outlier_and_centred_on_the_median_without_a_baseline():
    rng = np.random.default_rng(0)
    q = (0.6 + rng.uniform(-0.05, 0.05, (10, 10))).round(4)
    q[3, 3] = 0.0                                                   # one roll-out D hated
    scale = q_scale(q.tolist(), [["w"] * 9] * 10, [0.0] * 10)      # a baseline of zeros: none subtracted
    assert scale.symbol == "Q − median" and abs(float(scale.centre) - np.median(q)) < 1e-9
    assert 0.03 < scale.half < 0.06                                 # the spread of the many, not the one


def test_per_position_baseline_colours_q_minus_b_at_each_position():
    q = [[0.40, 0.80], [0.30, 0.70]]
    scale = q_scale(q, [["a", "b"], ["c", "d"]], [0.35, 0.75])
    assert scale.dev(0.40, 0) == 0.40 - 0.35 and abs(scale.dev(0.70, 1) + 0.05) < 1e-12
    assert "b per position" in scale.label()


def test_shaded_words_use_the_heatmaps_scale():
    """The same snapshot gives each word the colour of its heatmap cell; the ends of the data's range get the
    ends of the colour map (on a fixed [0, 1] scale Q = 0.47 and 0.53 would both be near white)."""
    q, toks, base = [[0.47, 0.50, 0.53]], [["the", "dog", "runs"]], [0.5] * 3
    html = shaded_block(toks, q, None, base)
    colours = _chip_colours(html)
    assert len(colours) == 3
    trace = q_heatmap(_snap(q, toks, base), "r").data[0]
    z = np.array(trace.z, dtype=float)[0]
    for i in range(3):                                              # the heatmap's position on its map
        assert np.allclose(colours[i], _rgb(q_css((z[i] - trace.zmin) / (trace.zmax - trace.zmin))), atol=1)
    low, mid, high = colours
    assert low[0] > low[2] + 50 and high[2] > high[0] + 50 and mid.min() > 230     # red, white, blue
    assert max(low.max(), high.max()) < 120                                            # the map's dark ends
    assert f"range ±{trace.zmax:.3f}" in html and "Q − b" in html


def test_an_all_equal_batch_is_drawn_white_not_noise():
    html = shaded_block([["a", "b", "c"]], [[0.5, 0.5, 0.5]])
    assert all(c.min() > 230 for c in _chip_colours(html))
    assert "range ±0.005" in html


def test_long_rows_show_each_words_start_and_the_whole_word_on_hover():
    words = ["children", "that", "the", "foxes", "chase"] * 5
    trace = q_heatmap(_snap([[0.5] * 26], [words]), "r").data[0]
    assert list(trace.text[0][:2]) == ["ch…", "th…"] and trace.hovertext[0][0] == "children"
    assert len(trace.x) == 26                                       # 25 words and <eos>


def test_heatmap_columns_end_at_the_longest_samples_eos():
    trace = q_heatmap(_snap([[0.5] * 28, [0.5] * 28], [["a", "dog"], ["the", "red", "cat"]]), "r").data[0]
    assert len(trace.x) == 4 and list(trace.text[1]) == ["the", "red", "cat", "<eos>"]
