"""Run store (store.py) and background workers (jobs.py)."""
from .jobs import JobManager, run_worker
from .store import RunDB, StoreSink, create_run, default_root, list_runs, read_config

__all__ = ["JobManager", "run_worker", "RunDB", "StoreSink", "create_run", "default_root", "list_runs",
           "read_config"]
