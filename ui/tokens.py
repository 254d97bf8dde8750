"""Sequences as HTML: tokens shaded by their reward Q, or marked as prefix and roll-out."""
from __future__ import annotations

import html

from .charts import QScale, q_css, q_scale, text_on

CSS = """<style>
.sg-seq{font-family:ui-monospace,Menlo,monospace;font-size:1.05rem;line-height:2.1;margin:2px 0;
 overflow-wrap:anywhere}
.sg-tok{display:inline-block;padding:0 5px;margin:0 3px 2px 0;border-radius:4px;border:1px solid #ccc;
 line-height:1.8}
.sg-n{color:#666;display:inline-block;min-width:2.2em}
.sg-pre{background:#e8e8e8;color:#111}
.sg-roll{background:#fff;color:#111;border-style:dashed}
.sg-cur{background:#ffd54f;color:#111;font-weight:700}
.sg-key{font-size:.9rem;color:#333}
.sg-err{outline:3px solid #d62728;outline-offset:1px}
.sg-end{background:#fff;color:#d62728;border-color:#d62728;font-weight:700}
</style>"""


def _tok(text: str, style: str = "", cls: str = "", title: str = "") -> str:
    """One token as an HTML chip."""
    return (f"<span class='sg-tok {cls}' style='{style}' title='{html.escape(title, quote=True)}'>"
            f"{html.escape(text) or '&nbsp;'}</span>")


def shaded(tokens: list[str], q: list[float], scale: QScale, label: str = "", error: int | None = None) -> str:
    """One sequence, each token on the colour of its Q on `scale` (hover shows Q and its deviation); with a
    grammar, the first grammatical error outlined in red (or a red mark where the sentence stops too early
    or unfinished)."""
    cells = []
    for i, (t, v) in enumerate(zip(tokens, q)):
        u = scale.unit(v, i)
        cells.append(_tok(t, f"background:{q_css(u)};color:{text_on(u)}", "sg-err" if i == error else "",
                          f"t={i + 1}  Q={v:.3f}  {scale.symbol}={scale.dev(v, i):+.3f}"
                          + ("  first grammatical error" if i == error else "")))
    if error is not None and error >= len(tokens):
        cells.append(_tok("✗ ends here", cls="sg-end", title="the sentence is not finished where it stops"))
    return f"<div class='sg-seq'><span class='sg-n'>{html.escape(label)}</span>{''.join(cells)}</div>"


def scale_key(scale: QScale) -> str:
    """The colours' key: three chips at −half, 0 and +half, and what the colour means."""
    h, d = scale.half, scale.digits
    chips = "".join(_tok(text, f"background:{q_css(u)};color:{text_on(u)}")
                    for text, u in ((f"−{h:.{d}f}", 0.0), ("0", 0.5), (f"+{h:.{d}f}", 1.0)))
    return f"<div class='sg-key'>{chips} colour: {html.escape(scale.label())} (hover a word for its Q)</div>"


def shaded_block(token_rows: list[list[str]], q_rows: list[list[float]], errors: list | None = None,
                 baseline: list | None = None) -> str:
    """Several sequences shaded by Q on one centred scale (the heatmap's, given the same snapshot), with a
    key to the colours (and to the error marks, given errors: each row's first-error position or None)."""
    scale = q_scale(q_rows, token_rows, baseline)
    errors = errors or [None] * len(token_rows)
    rows = "".join(shaded(t, q, scale, f"{i + 1}.", e)
                   for i, (t, q, e) in enumerate(zip(token_rows, q_rows, errors)))
    key = scale_key(scale)
    if any(e is not None for e in errors):
        key += (f"<div class='sg-key'>{_tok('word', cls='sg-err')} the first grammatical error (the grammar cannot "
                "continue there): does Q drop from it on?</div>")
    return CSS + rows + key


EOS = "<eos>"


def until_end(tokens: list[str], start: int = 0) -> list[str]:
    """The tokens up to and including the first <eos> at or after `start`: what follows the end of a
    sequence is padding, not content."""
    for i in range(start, len(tokens)):
        if tokens[i] == EOS:
            return tokens[:i + 1]
    return tokens


def completion(tokens: list[str], t: int, label: str) -> str:
    """A roll-out: the given prefix y_1..y_t (grey, y_t highlighted) and the tokens G_beta drew after it,
    up to the end of the sequence (<eos>)."""
    cells = [_tok(tok, cls="sg-cur" if i == t - 1 else ("sg-pre" if i < t else "sg-roll"))
             for i, tok in enumerate(until_end(tokens, t))]
    return f"<div class='sg-seq'><span class='sg-n'>{html.escape(label)}</span>{''.join(cells)}</div>"


def completion_key(t: int) -> str:
    """What the columns of a list of completions mean."""
    return (f"<div class='sg-key'><span class='sg-n'>D</span> {_tok('prefix', cls='sg-pre')} "
            f"<span class='sg-tok sg-cur'>y<sub>{t}</sub></span> {_tok('drawn by the roll-out policy', cls='sg-roll')}"
            "</div>")


def plain(token_rows: list[list[str]], errors: list | None = None) -> str:
    """Sequences without shading (samples from an evaluation, before any reward exists); given errors (each
    row's first-error position or None), the first grammatical error outlined as on the shaded samples."""
    errors = errors or [None] * len(token_rows)
    rows = []
    for i, (row, e) in enumerate(zip(token_rows, errors)):
        cells = [_tok(t, cls="sg-pre sg-err" if j == e else "sg-pre",
                      title="first grammatical error" if j == e else "") for j, t in enumerate(row)]
        if e is not None and e >= len(row):
            cells.append(_tok("✗ ends here", cls="sg-end", title="the sentence is not finished where it stops"))
        rows.append(f"<div class='sg-seq'><span class='sg-n'>{i + 1}.</span>{''.join(cells)}</div>")
    key = (f"<div class='sg-key'>{_tok('word', cls='sg-pre sg-err')} the first grammatical error (the grammar "
           "cannot continue there)</div>") if any(e is not None for e in errors) else ""
    return CSS + "".join(rows) + key
