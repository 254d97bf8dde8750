"""Devices: slots for several GPUs, and a web server that never touches CUDA itself."""
import pytest
import torch

from seqgan_core import device
from seqgan_core.config import ConfigError

TWO_GPUS = {"cuda": [{"index": 0, "name": "GPU A", "free_gb": 70.0, "total_gb": 80.0},
                     {"index": 1, "name": "GPU B", "free_gb": 70.0, "total_gb": 80.0}], "cores": 16}


def test_auto_takes_a_free_gpu_one_run_each_then_waits():
    busy: dict = {}
    first = device.choose_slot("auto", busy, 1, TWO_GPUS)
    busy[first] = 1
    second = device.choose_slot("auto", busy, 1, TWO_GPUS)
    busy[second] = 1
    assert {first, second} == {"cuda:0", "cuda:1"}
    assert device.choose_slot("auto", busy, 1, TWO_GPUS) is None          # both full: it queues
    assert device.choose_slot("auto", busy, 2, TWO_GPUS) in ("cuda:0", "cuda:1")  # more per device allowed
    assert device.choose_slot("cpu", busy, 1, TWO_GPUS) == "cpu"


def test_named_gpu_waits_for_its_own_slot_and_a_missing_one_is_refused():
    assert device.choose_slot("cuda:1", {"cuda:1": 1}, 1, TWO_GPUS) is None
    assert device.choose_slot("cuda", {}, 1, TWO_GPUS) == "cuda:0"
    with pytest.raises(ConfigError, match="does not exist"):
        device.choose_slot("cuda:2", {}, 1, TWO_GPUS)
    assert device.choose_slot("auto", {}, 1, {"cuda": [], "cores": 2}) == "cpu"


def test_device_list_comes_from_the_probe():
    names = [d["name"] for d in device.list_devices(TWO_GPUS)]
    assert names == ["auto", "cpu", "cuda:0", "cuda:1"]
    assert "GPU B" in device.list_devices(TWO_GPUS)[3]["label"]


def test_web_server_never_initialises_cuda(runs_root, monkeypatch):
    """Setup and the scheduler (both run in the web process) must get device facts from the probe
    process: any CUDA call here fails the test."""
    def forbidden(*a, **k):
        raise AssertionError("CUDA queried inside the web server's process")
    for name in ("is_available", "device_count", "mem_get_info", "get_device_name", "init"):
        monkeypatch.setattr(torch.cuda, name, forbidden)
    device._probe_cache.clear()
    from test_app_support import no_exception, open_page
    at = open_page()
    no_exception(at)
    assert device.device_facts()["cores"] >= 1          # answered by the probe process
    from seqgan_core.runs.jobs import JobManager
    JobManager(runs_root).schedule()
