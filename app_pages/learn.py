"""Learn: on the grammar data, the lesson walked through with the chosen run's numbers; on other data,
Algorithm 1 of SeqGAN step by step, each formula filled in with the run's numbers."""
import streamlit as st

from seqgan_core.runs import RunDB
from ui import learn_lesson, learn_view as V, series, state

st.title("Learn")
runs = state.all_runs()
run = state.require_run(runs, "No runs yet. The page fills in with real numbers once a run exists: start one on "
                              "Setup (the lesson preset walks through SeqGAN on a readable grammar).")
if run["config"]["data"]["name"] == "grammar":
    st.caption("SeqGAN trains a sentence generator as a reinforcement-learning policy whose reward is a "
               "discriminator's opinion. Here is what that does on a grammar whose every rule is known, stage by "
               "stage, with this run's own numbers.")
    learn_lesson.page(run, runs)
    st.stop()
st.caption("SeqGAN trains a text generator as a reinforcement-learning policy whose reward is a "
           "discriminator's opinion. Below, each step of the algorithm with this run's own numbers.")

cfg, run_state = run["config"], run["state"]
metrics = series.run_series(run["dir"], run_state)
snap = RunDB(run["dir"]).latest_snapshot("rollout")

V.players(cfg)
V.step_mle(metrics, cfg)
V.step_d(metrics, cfg)
st.markdown("**Line 6 · Repeat the game.** Each adversarial round is g-steps for G, then d-steps for D.")
if snap is None:
    st.info("The next steps use the roll-outs of a g-step; this run has none yet (they start with its "
            "adversarial rounds).")
else:
    st.markdown(f"Follow one token of round {snap['round'] + 1}'s samples through the next two steps:")
    b, t = V.pick(snap)
    V.step_rollout(snap, b, t)
    V.step_pg(snap, b, t, cfg)
V.step_dsteps(metrics, cfg, run_state.get("progress") or {})

st.subheader("What can go wrong, and how it looks")
V.pitfalls(metrics, cfg, snap, run["id"])
