"""The Ray executor on a local Ray (ray.init(num_cpus=2)): a tiny study end to end through the same worker
entry point and run store, and a cancel that stops its runs. Skipped when ray is not installed."""
import time

import pytest

ray = pytest.importorskip("ray", reason="ray is not installed (pip install 'ray[default]'): the Ray executor "
                                        "is optional")

from seqgan_core.runs.store import RunDB  # noqa: E402
from seqgan_core.studies import Study, create_study, spec_from_dict  # noqa: E402
from seqgan_core.studies import results  # noqa: E402
from seqgan_core.studies.executors import RayExecutor  # noqa: E402
from test_studies import TINY  # noqa: E402


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, namespace="seqgan", include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def wait_done(study: Study, timeout=400) -> dict:
    end = time.time() + timeout
    while time.time() < end:
        st = study.status()
        if st["done"]:
            return st
        time.sleep(1)
    raise AssertionError(f"study not done: {study.status()}")


def test_tiny_study_end_to_end_on_local_ray(runs_root, local_ray):
    ex = RayExecutor()
    study = Study(create_study(spec_from_dict(TINY), runs_root, executor=ex.info()))
    assert study.executor == {"kind": "ray", "address": None, "parallel": 2}
    ex.start(study)
    st = wait_done(study)
    assert [r["status"] for r in st["runs"]] == ["finished"] * 4, st
    assert all(RunDB(m["dir"]).events(["phase"]) for m in study.members)
    for m in study.members:
        state = RunDB(m["dir"]).state()
        assert state["executor"] == "ray" and state["host"], "trained by a Ray task, which recorded its node"
        assert RunDB(m["dir"]).latest_values()["nll/oracle"] > 0
    tab = results.table(study, samples=0)
    assert [r["n"] for r in tab["rows"]] == [2, 2]


def test_cancel_stops_a_ray_study(runs_root, local_ray):
    spec = spec_from_dict({**TINY, "name": "long", "set": {**TINY["set"], "adv_rounds": 200},
                           "axes": {"method": ["seqgan"], "seed": [0, 1, 2]}})
    ex = RayExecutor()
    study = Study(create_study(spec, runs_root, executor=ex.info()))
    ex.start(study)
    end = time.time() + 200
    while time.time() < end and "running" not in study.status()["counts"]:
        time.sleep(0.5)
    assert "running" in study.status()["counts"]
    study.cancel()
    st = wait_done(study, timeout=200)
    statuses = sorted(r["status"] for r in st["runs"])
    assert set(statuses) == {"stopped"}, st
    # a stopped run resumes from its checkpoint on the cluster
    ex.start(study, [study.members[0]["dir"]])
    first = study.members[0]["dir"]
    end = time.time() + 200
    while time.time() < end and not RunDB(first).events(["resumed"]):
        time.sleep(0.5)
    assert RunDB(first).events(["resumed"]), "the requeued run continued from its checkpoint"
    # a killed worker shows as interrupted (its task sees it end) and can be resumed like a stopped one
    import os
    import signal
    end = time.time() + 100
    while time.time() < end and RunDB(first).state().get("status") != "running":
        time.sleep(0.2)
    os.kill(RunDB(first).state()["pid"], signal.SIGKILL)
    st = wait_done(study, timeout=100)
    assert st["runs"][0]["status"] == "interrupted" and "ended unexpectedly" in st["runs"][0]["error"]
    assert study.restartable() == study.run_dirs()
