"""Sequences as HTML: tokens shaded by their reward Q, or marked as prefix and roll-out."""
from __future__ import annotations

import html

from .charts import q_css, text_on

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


def shaded(tokens: list[str], q: list[float], label: str = "", error: int | None = None) -> str:
    """One sequence, each token on the colour of its Q (hover shows the value); with a grammar, the first
    grammatical error outlined in red (or a red mark where the sentence stops too early or unfinished)."""
    cells = [_tok(t, f"background:{q_css(v)};color:{text_on(v)}", "sg-err" if i == error else "",
                  f"t={i + 1}  Q={v:.3f}" + ("  first grammatical error" if i == error else ""))
             for i, (t, v) in enumerate(zip(tokens, q))]
    if error is not None and error >= len(tokens):
        cells.append(_tok("✗ ends here", cls="sg-end", title="the sentence is not finished where it stops"))
    return f"<div class='sg-seq'><span class='sg-n'>{html.escape(label)}</span>{''.join(cells)}</div>"


def shaded_block(token_rows: list[list[str]], q_rows: list[list[float]], errors: list | None = None) -> str:
    """Several sequences shaded by Q, with a key to the colours (and to the error marks, given errors:
    each row's first-error position or None)."""
    errors = errors or [None] * len(token_rows)
    rows = "".join(shaded(t, q, f"{i + 1}.", e) for i, (t, q, e) in enumerate(zip(token_rows, q_rows, errors)))
    key = (f"<div class='sg-key'>{_tok('Q = 0', f'background:{q_css(0)};color:#fff')} D is sure it is generated "
           f"{_tok('0.5', f'background:{q_css(0.5)}')} unsure {_tok('Q = 1', f'background:{q_css(1)};color:#fff')}"
           f" D takes it for real</div>")
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


def plain(token_rows: list[list[str]]) -> str:
    """Sequences without shading (samples from an evaluation, before any reward exists)."""
    rows = "".join(f"<div class='sg-seq'><span class='sg-n'>{i + 1}.</span>"
                   f"{''.join(_tok(t, cls='sg-pre') for t in row)}</div>" for i, row in enumerate(token_rows))
    return CSS + rows
