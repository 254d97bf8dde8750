from pathlib import Path

import pytest
import torch

# The tests' models are tiny: one thread is faster, and on a shared machine a second thread mostly waits
# for the first (spin-waiting, it costs several times the CPU).
torch.set_num_threads(1)

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"


@pytest.fixture
def runs_root(tmp_path, monkeypatch):
    """An empty runs root for the test (the app and the job manager read SEQGAN_RUNS)."""
    root = tmp_path / "runs"
    monkeypatch.setenv("SEQGAN_RUNS", str(root))
    return root


def shared_file(name: str) -> Path:
    """A file of ../shared/datasets, or a skip when this machine does not have it."""
    path = SHARED / name
    if not path.exists():
        pytest.skip(f"{path} not present (development data; CI and dev machines have it)")
    return path
