"""Roll-outs: where one token's reward Q comes from: N completions of its prefix, scored by D."""
import streamlit as st

from ui import rollouts_view as V, state

st.title("Roll-outs")
st.caption("To reward token y_t, SeqGAN lets the roll-out policy finish the sequence N times from y_1 … y_t "
           "and asks D how real each finished sequence looks. Q is the average of those N scores.")
runs = state.all_runs()
run = state.require_run(runs, "No runs yet. Start one on the Setup page; roll-outs appear with its first "
                              "adversarial g-step.")

snap = V.pick_snapshot(run["dir"])
if snap is None:
    st.info("This run has no roll-outs yet: they start with the first g-step of the adversarial rounds. "
            "The Live page shows where the run is.")
    st.stop()

left, right = st.columns([1, 2])
with left:
    b, t = V.pick_token(snap, run["id"])
    V.listen(snap, b, run["config"])
with right:
    name_of = V.namer(run["dir"], run["config"])
    st.markdown(f"**Sample {b + 1}, prefix $y_1 \\dots y_{{{t}}}$: the completions training drew**")
    V.recorded(snap, b, t, name_of)

st.subheader("Re-roll with another N")
st.caption("More roll-outs give a steadier Q at a cost that grows linearly with N; fewer give a noisy reward "
           "that makes the policy gradient noisy too.")
V.reroll_section(run["dir"], snap, b, t, name_of)
