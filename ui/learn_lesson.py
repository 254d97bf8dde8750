"""The Learn page for a run on the grammar data: the lesson walked through with the run's own numbers.

Six stages (the data and its grammar; MLE samples and where they break; D learning to tell; the Q of one
sample; one policy-gradient step; the controls), each with the run's pause / step buttons (the Live
page's own, so a teacher can stop the game at the stage being explained and step it one unit at a time).
Every sentence that judges the run is computed from its numbers: where SeqGAN did not beat a control,
the page says so.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit as st

from seqgan_core.data.grammar import ADJECTIVES, DETERMINERS, INTRANSITIVE, NOUNS, TRANSITIVE, Grammar, grammar_params
from seqgan_core.runs import RunDB
from seqgan_core.runs.store import reader

from . import charts, learn_view as V, lesson_view as L, live, ribbon, series as S, state as U, tokens

WATCH_S = 2.0
REAL_SHOWN = 5


# --- slow motion ----------------------------------------------------------------------------------------
def run_bar(run: dict, status: str, state: dict) -> str | None:
    """Where the run is, and whether its game can be paused and stepped from this page; the request that
    waits for the end of the current unit, if any."""
    progress = state.get("progress") or {}
    st.html(ribbon.ribbon_html(progress, run["config"]["schedule"], run["config"].get("init_from") or ""))
    if status in ("running", "paused"):
        st.caption("Slow motion: each stage below has the run's own buttons. **Pause** stops the game after the "
                   "current unit; **Step** plays exactly one unit (one g-step or one d-step) and pauses again, "
                   "and the page redraws with the new numbers.")
        waiting = live.waiting_request(Path(run["dir"]), status)
        live.request_banner(waiting, progress)
        return waiting
    st.caption(f"This run is {status}: its numbers below are final. Pause and Step act on a run that is "
               "training: start a lesson run on Setup to play the game in slow motion.")
    return None


def stage_buttons(run: dict, status: str, waiting: str | None, stage: str, what: str) -> None:
    """The run's pause / resume / step / stop at one stage, with what one step shows there."""
    if status not in ("running", "paused"):
        return
    st.caption(what)
    live.control_buttons(Path(run["dir"]), status, waiting, key=f"learn.{stage}")


def watch(run_dir: str, shown: tuple) -> None:
    """Redraw the page when the run pauses, resumes, finishes or completes a step while paused: a stage's
    numbers follow the game without redrawing the page every second while it runs."""
    state = reader(Path(run_dir)).state()
    now = (state.get("status", "queued"), (state.get("progress") or {}).get("step"))
    if now[0] != shown[0] or (now[0] == "paused" and now != shown):
        st.rerun(scope="app")


# --- 1. the data ----------------------------------------------------------------------------------------
def grammar_rules(p: dict) -> str:
    """The run's grammar as rules with its own probabilities (lines short enough for a projector)."""
    po, pt = p["p_object_relative"], p["p_transitive"]
    return "\n".join([
        "S     → NP(n) VP(n)               n: singular or plural, ½ each",
        f"NP(n) → DET(n) [ADJ] N(n) [RC(n)] ADJ: p = {p['p_adjective']:.2f}, RC: p = {p['p_relative']:.2f}",
        f"RC(n) → that VP(n)                p = {1 - po:.2f}  the dog that runs",
        f"      | that NP(m) TV(m)          p = {po:.2f}  the dog that the cats chase",
        f"VP(n) → IV(n)                     p = {1 - pt:.2f}",
        f"      | TV(n) NP(m)               p = {pt:.2f}",
        f"relative clauses nest up to depth {p['max_depth']}",
    ])


def lexicon(p: dict) -> str:
    nouns = NOUNS[:p["nouns"]]
    return "\n".join([
        f"- **determiners**: singular {', '.join(DETERMINERS['sg'])}; plural {', '.join(DETERMINERS['pl'])}",
        f"- **nouns** N(sg)/N(pl): {', '.join(f'{a}/{b}' for a, b in nouns[:6])}"
        + (f", … ({len(nouns)} nouns)" if len(nouns) > 6 else ""),
        f"- **verbs** IV(sg)/IV(pl): {', '.join(f'{a}/{b}' for a, b in INTRANSITIVE[:min(p['verbs'], 4)])}"
        f"{', …' if p['verbs'] > 4 else ''}; TV(sg)/TV(pl): "
        f"{', '.join(f'{a}/{b}' for a, b in TRANSITIVE[:min(p['verbs'], 4)])}{', …' if p['verbs'] > 4 else ''}"
        f" ({p['verbs']} of each)",
        f"- **adjectives**: {', '.join(ADJECTIVES[:min(p['adjectives'], 6)])}"
        + (f", … ({p['adjectives']})" if p["adjectives"] > 6 else "") if p["adjectives"] else "- no adjectives",
    ])


def first_training_sentences(p: dict, k: int = REAL_SHOWN) -> list[list[str]]:
    """The first k training sentences: the data set draws its rows with this generator in this order, so
    these are exactly rows 1..k of the run's training data (drawn again here: a few microseconds)."""
    g = Grammar(p)
    rng = np.random.default_rng(p["grammar_seed"] + 1)
    return [[g.vocab[i] for i in g.sample(rng)] for _ in range(k)]


def stage_data(cfg: dict, series: S.RunSeries) -> None:
    st.subheader("1 · The data: sentences from a grammar")
    p = grammar_params(cfg["data"].get("options") or {})
    st.markdown(f"The run learns from **{p['num_train']:,}** sentences drawn from a small probabilistic grammar of "
                "English (and tests on "
                f"{p['num_test']:,} more). Because the grammar is known, the project computes *exactly* how "
                "likely any sentence is (NLL-oracle) and whether it is grammatical, and if not, **the first word "
                "where it went wrong**. The rules, with this run's probabilities:")
    st.code(grammar_rules(p), language=None)
    st.markdown(lexicon(p))
    st.markdown("The rule a small generator breaks first: the verb agrees with its subject *across* a relative "
                "clause, as in *the dog that the cats chase **sleeps*** (not *sleep*). The first five training "
                "sentences:")
    st.html(tokens.plain(first_training_sentences(p)))


# --- 2. MLE samples ---------------------------------------------------------------------------------------
def adversarial_start(series: S.RunSeries) -> int | None:
    """The first step of the adversarial phase (None before it)."""
    adv = series.frame[series.frame["phase"] == "adversarial"] if len(series.frame) else None
    return int(adv["step"].min()) if adv is not None and len(adv) else None


def mle_samples(db: RunDB, start: int | None) -> tuple[dict | None, str]:
    """G's samples at the end of MLE, and what they are: an evaluation's samples from the MLE phase, else
    the first g-step's samples (drawn by the MLE generator before its first update); else the earliest kept."""
    samples = db.snapshots("samples")
    before = [s for s in samples if start is None or s["step"] < start]
    if before:
        return before[-1], "the last evaluation of MLE pre-training"
    rolls = db.snapshots("rollout")
    first = next((r for r in rolls if r["round"] == 0 and r["g_step"] == 0), None)
    if first:
        return first, "the first g-step of round 1, drawn by the MLE generator before any adversarial update"
    if samples:
        return samples[0], (f"the earliest evaluation the run store still keeps (step {samples[0]['step']}, "
                            "already after some adversarial rounds: the MLE samples are no longer kept)")
    return None, ""


def stage_mle(cfg: dict, series: S.RunSeries, db: RunDB) -> None:
    st.subheader("2 · MLE: a generator that imitates, and where it breaks")
    st.markdown("First G learns by imitation (maximum likelihood): given real prefixes, predict the next word. "
                "Then it writes sentences on its own, continuing its *own* prefixes, and errors creep in.")
    snap, what = mle_samples(db, adversarial_start(series))
    valid = V.phase_value(series, "valid/share", "mle")
    nll = V.phase_value(series, "nll/oracle", "mle")
    if valid is not None:
        st.markdown(f"At the end of MLE, **{valid:.0%}** of G's samples were grammatical"
                    + (f" and their NLL-oracle was **{nll:.3f}** nats per word." if nll is not None else "."))
    if snap is None:
        st.info("No samples of G are recorded yet: they come with its first evaluation.")
        return
    errors = snap.get("first_error") or [None] * len(snap["tokens"])
    k, bad = len(errors), sum(e is not None for e in errors)
    st.markdown(f"Samples from {what}; **{bad} of {k}** break the grammar, the first wrong word outlined in red:")
    st.html(tokens.plain(snap["tokens"], errors))


# --- 3. D -------------------------------------------------------------------------------------------------
def stage_d(cfg: dict, series: S.RunSeries, db: RunDB, run_id: str) -> None:
    st.subheader("3 · D learns to tell real from generated")
    s = cfg["schedule"]
    st.markdown(f"The discriminator reads whole sentences (windows of {', '.join(map(str, cfg['discriminator']['filter_sizes']))}"
                f" words) and says how likely each is real. Before the game it trains for {s['pretrain_d_rounds']} "
                f"round(s) on real sentences against {s['num_negatives']:,} of G's.")
    real, fake = V.phase_value(series, "d/acc_real", "d_pretrain"), V.phase_value(series, "d/acc_fake", "d_pretrain")
    if real is None or fake is None:
        st.info("D has not been trained yet: its accuracy appears after its first pre-training round.")
        return
    acc = (real + fake) / 2
    verdict = ("it can tell them apart, so its scores carry information G can learn from" if acc >= 0.7 else
               "it barely tells them apart, so its scores carry little information for G yet" if acc < 0.6 else
               "it tells them apart only partly")
    text = (f"When round 1 began, D called **{real:.0%}** of held-out real and **{fake:.0%}** of generated "
            f"sentences correctly: accuracy **{acc:.2f}** (0.5 is guessing): {verdict}.")
    bayes = S.last_value(series, "lesson/d_bayes_acc")
    if bayes is not None:
        text += f" No discriminator could do better than **{bayes:.2f}** against this G (the exact Bayes accuracy)."
    st.markdown(text)
    scores = db.snapshots("d_scores")
    if not scores:
        return
    start = adversarial_start(series)
    pre = [x for x in scores if start is None or x["step"] < start]
    first = pre[-1] if pre else scores[0]
    shown = [(first, "when round 1 began" if pre else f"the earliest kept (step {first['step']})")]
    if scores[-1] is not first:
        shown.append((scores[-1], "now"))
    for col, (snap, when) in zip(st.columns(len(shown)), shown):
        fig = charts.d_histogram(snap, f"learn.d.{run_id}")
        fig.update_layout(title={"text": f"D's score, {when}"})
        col.plotly_chart(fig, key=f"learn.dhist.{len(shown)}.{when}.{run_id}", width="stretch")
        r, f = float(np.mean(snap["real"])), float(np.mean(snap["fake"]))
        col.caption(f"mean score: real {r:.2f}, generated {f:.2f} (the further apart, the better D tells them)")


# --- 4. Q of one sample -------------------------------------------------------------------------------------
def default_sample(snap: dict) -> int:
    """The first sample that breaks the grammar with words before and after its first error, else the first."""
    T = len(snap["q"][0])
    for i, e in enumerate(snap.get("first_error") or []):
        if e is not None and 1 <= e < min(T, len(snap["tokens"][i]) + 1):
            return i
    return 0


def stage_q(snap: dict, series: S.RunSeries, run_id: str) -> int:
    """The chosen sample's Q word by word; returns the sample's index."""
    st.subheader("4 · Q: the reward of each word")
    st.markdown(f"In round **{snap['round'] + 1}**, g-step {snap['g_step'] + 1}, each word of G's samples was "
                f"scored by letting G finish the sentence N = {snap['rollout_num']} times from it and averaging D's "
                "verdicts (the Roll-outs page shows the completions). If D has learnt the grammar, Q should drop "
                "where a sentence goes wrong.")
    K = len(snap["q"])
    b = int(st.columns([1, 3])[0].number_input(
        "sample", 1, K, default_sample(snap) + 1, key="learn.sample",
        help="Samples of this g-step; the first that breaks the grammar is chosen first.")) - 1
    words = tokens.until_end(snap["tokens"][b] + [tokens.EOS], 0)
    errors = snap.get("first_error") or []
    e = errors[b] if b < len(errors) else None
    scale = charts.q_scale(snap["q"], snap["tokens"], snap.get("baseline"))
    st.html(tokens.CSS + tokens.shaded(words, snap["q"][b], scale, f"{b + 1}.", e) + tokens.scale_key(scale))
    st.plotly_chart(charts.q_tokens(words, snap["q"][b], scale, e, f"learn.q.{run_id}"), key=f"learn.qbar.{run_id}",
                    width="stretch")
    q = np.asarray(snap["q"][b][:len(words)], dtype=float)
    if e is None:
        st.markdown("This sample is grammatical: there is no error for Q to find. Choose another sample to see one.")
    elif e == 0:
        st.markdown("This sample is wrong from its first word: there is no 'before' to compare with.")
    elif e >= len(words) - 1 and e >= len(snap["tokens"][b]):
        st.markdown("This sample only stops unfinished: there is no wrong word to compare.")
    else:
        before, after = q[:e].mean(), q[e:].mean()
        said = ("lower from the error on: D's reward points at the mistake" if after < before - 0.005 else
                "not lower from the error on: in this sample the reward does not point at the mistake")
        st.markdown(f"The first error is **{words[e]}** (word {e + 1}). Mean Q before it **{before:.3f}**, from it "
                    f"on **{after:.3f}**: Q is {said}.")
    gap_first, gap_now = _first(series, "lesson/gap"), S.last_value(series, "lesson/gap")
    if gap_now is not None:
        st.markdown("Over every ungrammatical sample of a g-step, the **error-localisation gap** (mean Q before the "
                    "first error minus mean Q from it on) "
                    + (f"was **{gap_first:+.3f}** at the first g-step and is **{gap_now:+.3f}** now"
                       if gap_first is not None and len(series.by_name["lesson/gap"]) > 1
                       else f"is **{gap_now:+.3f}**")
                    + ". Above zero, Q blames the right place; a constant reward gives exactly zero.")
    return b


def _first(series: S.RunSeries, name: str) -> float | None:
    part = series.by_name.get(name)
    return float(part["value"].iloc[0]) if part is not None and len(part) else None


# --- 5. one policy-gradient step ------------------------------------------------------------------------------
def stage_pg(snap: dict, b: int, cfg: dict) -> None:
    st.subheader("5 · One policy-gradient step")
    T = len(snap["q"][0])
    errors = snap.get("first_error") or []
    e = errors[b] if b < len(errors) else None
    default = e + 1 if e is not None and e < T else max(1, T // 2)
    t = int(st.columns([1, 3])[0].number_input("position t in this sample", 1, T, default, key="learn.t",
                                                 help="The first error's word is chosen first."))
    words = tokens.until_end(snap["tokens"][b] + [tokens.EOS], 0)
    word = words[t - 1] if t <= len(words) else None
    if word is None:
        st.markdown(f"Position {t} of sample {b + 1} comes after its sentence ended (<eos>): padding, not a "
                    "word. Choose a position up to its end to follow a word.")
    else:
        where = (" — the first grammatical error" if e == t - 1 else " (after the first error)" if e is not None
                 and t - 1 > e else "")
        st.markdown(f"Follow word {t} of sample {b + 1}, **{word}**{where}, through the update of G:")
    V.step_pg(snap, b, t, cfg)


# --- 6. controls ------------------------------------------------------------------------------------------------
def stage_controls(run: dict, runs: list[dict]) -> None:
    st.subheader("6 · Did the adversary help? The controls")
    st.markdown("A falling NLL-oracle is not proof that D helped: policy gradient with positive rewards sharpens G "
                "whatever D says. So runs that differ in one thing only continue from the same start:\n"
                + "\n".join(f"- **{k}**: {v[1]}" for k, v in L.CONTROLS.items()))
    if run["config"]["schedule"].get("reward", "discriminator") != "discriminator" or run["state"].get("branched_from"):
        st.info("This run is itself a control: choose the run it was branched from to see the comparison.")
        return
    have = L.controls_of(run, runs)
    if not have:
        st.info("This run has no controls yet. Start them on the Live page (section 'Controls'): one click "
                "trains them beside this run from its adversarial start.")
        st.page_link("app_pages/live.py", label="Open Live", icon=":material/monitoring:")
        return
    shown = {"SeqGAN (this run)": run, **have}
    rows = {k: L.eval_points(S.run_series(r["dir"], r["state"])) for k, r in shown.items()}
    rows = {k: v for k, v in rows.items() if len(v)}
    taus = st.session_state.get(f"lesson.sweep.{run['id']}", [])
    st.plotly_chart(L.quality_diversity(rows, taus), key=f"learn.qd.{run['id']}", width="stretch",
                    config={"displaylogo": False})
    if not taus:
        st.caption("The temperature sweep of the starting G (the dashed curve) is added on the Live page.")
    lines = L.verdict(rows, "SeqGAN (this run)")
    if not lines:
        st.caption("The verdict appears once SeqGAN and a control have each evaluated in the adversarial phase.")
        return
    st.markdown("\n".join(f"- {line}" for line in lines))
    beaten = sum("**beats**" in line for line in lines)
    if beaten == len(lines):
        st.markdown(f"On this run SeqGAN beat all {len(lines)} control(s) on both axes. One seed: the lesson study "
                    "(benchmarks/lesson_study.md) checks it over three.")
    else:
        st.markdown(f"On this run SeqGAN beat **{beaten} of {len(lines)}** controls on both axes. Where it did not, "
                    "its lower NLL-oracle is not D's doing: that is the lesson of this run.")


# --- the page ---------------------------------------------------------------------------------------------------
def page(run: dict, runs: list[dict]) -> None:
    cfg = run["config"]
    status, state = U.fresh_status(Path(run["dir"]))
    series = S.run_series(run["dir"], state)
    db = RunDB(run["dir"])
    waiting = run_bar(run, status, state)
    stage_data(cfg, series)
    stage_mle(cfg, series, db)
    stage_buttons(run, status, waiting, "mle", "Pause here to read the samples; they change at each evaluation.")
    stage_d(cfg, series, db, run["id"])
    stage_buttons(run, status, waiting, "d", "Step until a d-step has run: the histograms move apart as D learns.")
    snap = db.latest_snapshot("rollout")
    if snap is None:
        st.info("The next stages use the roll-outs of a g-step: they start with the run's adversarial rounds.")
    else:
        b = stage_q(snap, series, run["id"])
        stage_buttons(run, status, waiting, "q", "Step one g-step: a new batch of samples, each word with its Q.")
        stage_pg(snap, b, cfg)
        stage_buttons(run, status, waiting, "pg", "Step one g-step: G takes this step, then the page shows the next.")
    stage_controls(run, runs)
    if status in ("running", "paused"):
        shown = (status, (state.get("progress") or {}).get("step"))
        st.fragment(watch, run_every=WATCH_S)(str(run["dir"]), shown)
