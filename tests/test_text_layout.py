"""Text data sets: padding after the first end token is left out of the MLE loss and NLL-test; the start
token has its own id; checkpoints of the old shared start/end layout are refused."""
import copy

import pytest
import torch
import torch.nn.functional as F

from seqgan_core.data.base import SequenceDataset
from seqgan_core.metrics.evaluate import Evaluator, mean_nll
from seqgan_core.models import Generator, pad_mask
from seqgan_core.train import steps

EOS = 0


def padded(rows, T):
    out = torch.full((len(rows), T), EOS, dtype=torch.long)
    for i, r in enumerate(rows):
        out[i, :len(r)] = torch.tensor(r)
    return out


ROWS = [[3, 4, 5], [6], [7, 3, 3, 4, 5, 6], [2, 2]]


def test_pad_mask_counts_up_to_and_including_the_first_end_token():
    y = torch.tensor([[5, 0, 0, 0], [5, 6, 7, 8], [0, 0, 3, 0], [5, 6, 0, 4]])
    assert pad_mask(y, 0).tolist() == [[True, True, False, False], [True] * 4,
                                       [True, False, False, False], [True, True, True, False]]


def test_nll_test_ignores_padding_so_the_padded_length_does_not_change_it():
    """G's prediction of a token depends only on the tokens before it, so once the padding after the first
    end token is left out, NLL-test is the same whatever length the rows are padded to."""
    torch.manual_seed(0)
    g = Generator(10, 8, 8).init_normal(0.5)
    short, long = padded(ROWS, 7), padded(ROWS, 30)
    a, b = mean_nll(g, short, chunk=3, eos_id=EOS), mean_nll(g, long, chunk=3, eos_id=EOS)
    assert a == pytest.approx(b, rel=1e-6)
    # and it is the mean over the counted tokens (each row's tokens plus one end token)
    logp = g.log_probs(short)
    want = -sum(logp[i, :len(r) + 1].sum().item() for i, r in enumerate(ROWS)) / sum(len(r) + 1 for r in ROWS)
    assert a == pytest.approx(want, rel=1e-6)
    assert mean_nll(g, long, eos_id=EOS) != pytest.approx(mean_nll(g, long), rel=1e-3)   # unmasked differs


def test_data_without_an_end_token_is_unchanged():
    torch.manual_seed(1)
    g = Generator(10, 8, 8).init_normal(0.5)
    y = torch.randint(0, 10, (9, 6))
    assert mean_nll(g, y, chunk=4) == pytest.approx(g.nll(y).mean().item(), rel=1e-6)
    logits = g(y)
    assert steps.mle_loss(logits, y).item() == pytest.approx(
        F.cross_entropy(logits.reshape(-1, 10), y.reshape(-1)).item(), rel=1e-6)


def test_mle_loss_ignores_padding():
    torch.manual_seed(2)
    g = Generator(10, 8, 8).init_normal(0.5)
    short, long = padded(ROWS, 7), padded(ROWS, 30)
    a = steps.mle_loss(g(short), short, EOS).item()
    b = steps.mle_loss(g(long), long, EOS).item()
    assert a == pytest.approx(b, rel=1e-6)
    assert a == pytest.approx(mean_nll(g, short, eos_id=EOS), rel=1e-6)


def test_the_mle_step_and_the_evaluator_use_the_mask():
    torch.manual_seed(3)
    g = Generator(10, 8, 8).init_normal(0.5)
    y = padded(ROWS, 30)
    want = steps.mle_loss(g(y), y, EOS).item()
    opt = torch.optim.Adam(g.parameters(), lr=0.01)
    step = steps.make_mle_step(g, opt, 5.0, mode="eager", eos_id=EOS)
    step(y)
    assert step.take().item() == pytest.approx(want, rel=1e-6)      # the loss before the update
    ds = SequenceDataset("t", train=y, test=y, vocab=[str(i) for i in range(10)], eos_id=EOS)
    values, _ = Evaluator(ds, nll_samples=8)(g)
    assert values["nll/test"] == pytest.approx(mean_nll(g, y, eos_id=EOS), rel=1e-6)


# --- the start token's own id -------------------------------------------------------------------------------
import json  # noqa: E402

from seqgan_core import cli  # noqa: E402
from seqgan_core.config import ConfigError, preset  # noqa: E402
from seqgan_core.data import upload  # noqa: E402
from seqgan_core.data.base import get_spec, start_id_of  # noqa: E402
from seqgan_core.data.common import START, START_ID, build_vocab  # noqa: E402
from seqgan_core.runs.store import RunDB, create_run  # noqa: E402
from seqgan_core.train import Trainer  # noqa: E402
from seqgan_core.train.checkpoint import (init_from_problem, layout_problem, load_checkpoint,  # noqa: E402
                                          resolve_asset, save_checkpoint)

WORDS = "the a cat dog sat ran on under mat rug red big small".split()


def text_file(tmp_path, n=300):
    import random
    rng = random.Random(0)
    lines = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 8))) for _ in range(n)]
    path = tmp_path / "lines.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def upload_cfg(path):
    cfg = preset("tiny").replace(device="cpu")
    cfg.data.name, cfg.data.options = "upload", {"path": str(path)}
    return cfg


def test_text_vocabularies_give_the_start_its_own_id():
    vocab = build_vocab([["b", "a", "<start>"], ["a"]])
    assert vocab[:3] == ["<eos>", "<unk>", START] and vocab.index(START) == START_ID
    assert vocab.count(START) == 1
    for name in ("upload", "coco", "poems"):
        assert get_spec(name).start_id == START_ID == start_id_of(name)
    for name in ("oracle", "no_such_data_set"):
        assert start_id_of(name) == 0                    # the synthetic oracle keeps the paper's layout


def test_an_upload_trains_from_its_start_id_and_its_checkpoint_says_so(tmp_path):
    path = text_file(tmp_path)
    ds, _ = upload.build(path)
    assert ds.start_id == START_ID and ds.vocab[START_ID] == START
    assert not (ds.train == START_ID).any() and not (ds.test == START_ID).any()
    tr = Trainer(upload_cfg(path), checkpoint_dir=tmp_path / "ck")
    assert tr.gen.start_token == START_ID and tr.roll.policy.start_token == START_ID
    y = tr.train_data[:32]
    assert (tr.gen._inputs(y)[:, 0] == START_ID).all()
    # the trainer's MLE step leaves out the padding after the first end token
    want = steps.mle_loss(tr.gen(y), y, ds.eos_id).item()
    tr.mle_step(y)
    assert tr.mle_step.take().item() == pytest.approx(want, rel=1e-5)
    tr.checkpoint()
    ck = load_checkpoint(tmp_path / "ck" / "latest.pt")
    assert ck["start_id"] == START_ID and layout_problem(ck, "upload", "x") is None
    Trainer.resume(tmp_path / "ck" / "latest.pt")       # today's checkpoints load


def _old_layout(tmp_path):
    """A text checkpoint as it was before: no start_id, start and end both 0."""
    path = text_file(tmp_path)
    tr = Trainer(upload_cfg(path), checkpoint_dir=tmp_path / "ck")
    tr.checkpoint()
    ck = load_checkpoint(tmp_path / "ck" / "latest.pt")
    del ck["start_id"]
    old = tmp_path / "old.pt"
    save_checkpoint(ck, old)
    return path, old, ck


def test_checkpoints_of_the_shared_start_and_end_layout_are_refused(tmp_path):
    path, old, ck = _old_layout(tmp_path)
    problem = layout_problem(ck, "upload", old)
    assert problem and "shared id 0" in problem and "own id (2)" in problem
    cfg = upload_cfg(path).replace(init_from=str(old))
    assert "shared id 0" in init_from_problem(cfg)        # what Setup and the CLI show before a run
    with pytest.raises(ConfigError, match="shared id 0"):
        Trainer(cfg)
    with pytest.raises(ConfigError, match="shared id 0"):
        Trainer.resume(old)


def test_the_shipped_oracle_checkpoints_still_load():
    from seqgan_core.config import CLASSROOM_CHECKPOINT
    ck = load_checkpoint(resolve_asset(CLASSROOM_CHECKPOINT))
    assert "start_id" not in ck or ck["start_id"] == 0
    assert layout_problem(ck, json.loads(ck["config"])["data"]["name"], "asset") is None
    assert init_from_problem(preset("classroom")) is None


def test_cli_resume_of_an_old_layout_run_fails_the_run_with_one_line(tmp_path, capsys):
    path, old, ck = _old_layout(tmp_path)
    run = tmp_path / "run"
    create_run(upload_cfg(path), run_dir=run)
    save_checkpoint(ck, run / "checkpoints" / "latest.pt")
    assert cli.main(["resume", str(run)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "shared id 0" in err[0]
    assert RunDB(run).state()["status"] == "failed"
    assert "shared id 0" in RunDB(run).state()["error"]


def test_cli_resume_of_an_unreadable_checkpoint_fails_the_run(tmp_path, capsys):
    path = text_file(tmp_path)
    run = tmp_path / "run"
    create_run(upload_cfg(path), run_dir=run)
    (run / "checkpoints").mkdir(exist_ok=True)
    (run / "checkpoints" / "latest.pt").write_bytes(b"not a checkpoint")
    assert cli.main(["resume", str(run)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ")
    assert RunDB(run).state()["status"] == "failed"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_the_masked_mle_step_captured_in_a_cuda_graph_equals_eager():
    from seqgan_core import accel
    dev = torch.device("cuda")
    out = {}
    for mode in ("eager", "graph"):
        torch.manual_seed(0)
        g = Generator(12, 8, 16).init_normal(0.3).to(dev)
        step = steps.make_mle_step(g, accel.adam(g.parameters(), 0.01, dev), 5.0, mode, eos_id=EOS)
        data = padded([ROWS[i % 4][: 1 + i % 5] for i in range(80)], 9).to(dev)
        for i in range(10):
            step(data[i * 8:(i + 1) * 8])
        out[mode] = (g, step.take())
        assert mode == "eager" or step.graph is not None, step.reason
    for a, b in zip(out["eager"][0].parameters(), out["graph"][0].parameters()):
        assert torch.allclose(a, b, atol=1e-5)
    assert torch.allclose(out["eager"][1], out["graph"][1], atol=1e-4)
