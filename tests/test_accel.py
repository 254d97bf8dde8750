"""The fast paths against plain references: packed D convolution, bf16 rewards, captured steps, reward
controls, thread choice. Tests marked cuda run only where a GPU is present (never needed in CI)."""
import copy

import pytest
import torch

from seqgan_core import accel
from seqgan_core.config import preset
from seqgan_core.models import Discriminator, Generator
from seqgan_core.models.generator import greedy
from seqgan_core.rollout import rollout_q
from seqgan_core.train import Trainer, steps

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def _disc(V=50, dropout=0.25, seed=0):
    torch.manual_seed(seed)
    return Discriminator(V, 16, [1, 2, 3, 5, 8], [4, 6, 6, 5, 3], dropout=dropout)


def test_packed_convolution_equals_one_conv_per_bank():
    d = _disc(dropout=0.0)
    x = torch.randint(0, 50, (32, 8))
    labels = torch.randint(0, 2, (32,))
    grads = {}
    for packed in (False, True):
        d.packed = packed
        d.zero_grad()
        loss, logits = d.loss(x, labels)
        loss.backward()
        grads[packed] = (logits.detach(), {n: p.grad.clone() for n, p in d.named_parameters()})
    assert torch.allclose(grads[False][0], grads[True][0], atol=1e-5)
    for name, g in grads[False][1].items():
        assert torch.allclose(g, grads[True][1][name], atol=1e-5), name


def test_packed_convolution_masks_positions_past_the_end():
    """Break the mask and the widest filter sees padding: the features must differ from the banks'."""
    d = _disc(dropout=0.0).eval()
    x = torch.randint(0, 50, (16, 8))
    d.packed = False
    ref = d.features(x)
    d.packed = True
    assert torch.allclose(d.features(x), ref, atol=1e-5)
    d._valid(8, x.device, torch.float32).fill_(1.0)      # no mask: windows hang over the end
    assert not torch.allclose(d.features(x), ref, atol=1e-4)


def test_bf16_rewards_agree_with_fp32():
    torch.manual_seed(1)
    V, T = 200, 12
    g = Generator(V, 16, 16).init_normal(0.5).eval()
    d = Discriminator(V, 32, [2, 3, 4, 6], [32, 32, 32, 32]).eval()
    opt = torch.optim.Adam(d.parameters(), 1e-3)
    real, fake = torch.randint(0, V // 2, (256, T)), g.sample(256, T)
    steps.d_train(d, opt, real, fake, 2, 64)            # a D that says something
    y = g.sample(16, T)
    q32 = rollout_q(g, d, y, 4, sampler=greedy).q
    d.precision = "bf16"
    q16 = rollout_q(g, d, y, 4, sampler=greedy).q
    assert q32.std() > 0.01                            # the rewards vary, so agreement means something
    assert (q32 - q16).abs().max() < 0.01


def test_captured_step_accumulates_on_the_device_and_resets():
    d = _disc()
    step = steps.make_d_step(d, torch.optim.Adam(d.parameters(), 1e-3))
    assert step.take() is None
    x, labels = torch.randint(0, 50, (8, 8)), torch.randint(0, 2, (8,))
    for _ in range(3):
        step(x, labels)
    total, correct, count = step.take().tolist()
    assert count == 24 and 0 <= correct <= 24 and total > 0
    assert step.take() is None


def test_constant_reward_with_a_baseline_leaves_g_unchanged():
    torch.manual_seed(0)
    g = Generator(30, 8, 8).init_normal(0.5)
    before = copy.deepcopy(g.state_dict())
    y = g.sample(16, 6)
    res = steps.rewards("constant", g, None, y, 4)
    assert torch.all(res.q == steps.CONSTANT_REWARD)
    steps.pg_step(g, torch.optim.Adam(g.parameters(), 0.01), y, res.q, "batch_mean", "sum", 5.0)
    assert all(torch.equal(before[k], v) for k, v in g.state_dict().items())
    # without the baseline the same reward moves G (it sharpens it)
    steps.pg_step(g, torch.optim.Adam(g.parameters(), 0.01), y, res.q, "none", "sum", 5.0)
    assert not all(torch.equal(before[k], v) for k, v in g.state_dict().items())


def test_shuffled_reward_keeps_each_positions_values():
    torch.manual_seed(0)
    g = Generator(30, 8, 8).init_normal(0.5).eval()
    d = _disc(V=30).eval()
    y = g.sample(32, 10)
    torch.manual_seed(3)
    plain = steps.rewards("discriminator", g, d, y, 3).q
    torch.manual_seed(3)
    shuffled = steps.rewards("shuffled", g, d, y, 3).q
    assert torch.allclose(plain.sort(0).values, shuffled.sort(0).values)
    assert not torch.allclose(plain, shuffled)


def test_threads_follow_the_cores_and_the_runs_sharing_them():
    assert accel.threads_for(0, 1, cores=2) == 2
    assert accel.threads_for(0, 2, cores=2) == 1
    assert accel.threads_for(0, 5, cores=2) == 1
    assert accel.threads_for(3, 5, cores=2) == 3


def test_measured_chunks_override_the_defaults(tmp_path, monkeypatch):
    monkeypatch.setattr(accel, "CACHE_FILE", tmp_path / "tuning.json")
    accel._chunk_memo.clear()
    cpu = torch.device("cpu")
    assert accel.chunks(cpu)["sample_rows"] == accel.DEFAULT_CHUNKS["cpu"]["sample_rows"]
    accel.save_chunks(cpu, {"sample_rows": 300, "score_rows": 700, "rollout_rows": 900, "d_packed": 1})
    assert accel.chunks(cpu) == {"sample_rows": 300, "score_rows": 700, "rollout_rows": 900, "d_packed": 1}
    accel._chunk_memo.clear()


# --- on a GPU -------------------------------------------------------------------------------------------
def _train_d(mode, n=20):
    dev = torch.device("cuda")
    d = _disc(dropout=0.0).to(dev)
    d.packed = True
    opt = accel.adam(d.parameters(), 1e-3, dev)
    step = steps.make_d_step(d, opt, mode)
    torch.manual_seed(5)
    x = torch.randint(0, 50, (n * 16, 8), device=dev)
    labels = torch.randint(0, 2, (n * 16,), device=dev)
    for i in range(n):
        step(x[i * 16:(i + 1) * 16], labels[i * 16:(i + 1) * 16])
    return d, step


@cuda
def test_graph_d_step_equals_eager():
    eager, s1 = _train_d("eager")
    graphed, s2 = _train_d("graph")
    assert s2.graph is not None, s2.reason
    for (n, a), b in zip(eager.named_parameters(), graphed.parameters()):
        assert torch.allclose(a, b, atol=1e-5), n
    assert torch.allclose(s1.take(), s2.take(), atol=1e-3)


@cuda
def test_graph_mle_step_equals_eager():
    dev = torch.device("cuda")
    out = {}
    for mode in ("eager", "graph"):
        torch.manual_seed(0)
        g = Generator(40, 8, 16).init_normal(0.3).to(dev)
        step = steps.make_mle_step(g, accel.adam(g.parameters(), 0.01, dev), 5.0, mode)
        data = torch.randint(0, 40, (10 * 8, 6), device=dev)
        for i in range(10):
            step(data[i * 8:(i + 1) * 8])
        out[mode] = (g, step.take())
    for a, b in zip(out["eager"][0].parameters(), out["graph"][0].parameters()):
        assert torch.allclose(a, b, atol=1e-5)
    assert torch.allclose(out["eager"][1], out["graph"][1], atol=1e-4)


@cuda
def test_tiny_run_on_the_gpu_resumes_like_an_uninterrupted_one(tmp_path):
    from tests.test_train import Recorder, Script, _final_state
    cfg = preset("tiny")
    cfg.device = "cuda"
    cfg.deterministic = True
    full = Trainer(cfg, Recorder(), checkpoint_dir=tmp_path / "a")
    assert full.run() == "finished"
    part = Trainer(cfg, Recorder(), Script({6: [("stop", {})]}), checkpoint_dir=tmp_path / "b")
    assert part.run() == "stopped"
    rest = Trainer.resume(tmp_path / "b" / "latest.pt", Recorder(), checkpoint_dir=tmp_path / "b")
    assert rest.run() == "finished"
    a, b = _final_state(full), _final_state(rest)
    assert all(torch.allclose(a[k].float(), b[k].float(), atol=1e-4) for k in a)
