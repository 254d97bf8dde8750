"""What the app reads about stored studies, beside results.py: the list of study folders under a runs root,
the paper's published numbers to put beside ours, and results.table as JSON.

The heavy parts of a table (per-sequence NLL-oracle, the temperature-matched control) sample from trained
generators, so the app runs them in a process of their own:

    python -m seqgan_core.studies.report DIR [--metric M] [--ref CELL] [--samples N] [--temperature-match S:T]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from pathlib import Path

from .study import STUDY_FILE, Study

# The paper's Table 1 (Yu et al. 2017): NLL-oracle of 100k samples on the authors' oracle; SeqGAN's
# advantage had p < 1e-6 against each baseline. Keys are our method names; "random" has no method here.
PAPER_TABLE1 = {"random": 10.310, "mle": 9.038, "ss": 8.985, "pg_bleu": 8.946, "seqgan": 8.736}
PAPER_TABLE1_P = 1e-6
# The authors' code's log of its adversarial phase (schedule d at paper scale): round -> NLL-oracle.
PAPER_ADV_LOG = {0: 9.08, 20: 8.96, 50: 8.83, 75: 8.73, 100: 8.70, 150: 8.68}
PAPER_SPECS = {"table1": "table1_classroom", "fig3": "fig3_classroom"}


def stored_studies(root: str | Path) -> list[dict]:
    """Every study folder under root, newest first: id, dir, name, preset, description, created, runs. A
    folder whose study.json does not read is left out (a study being written, or not a study)."""
    out = []
    root = Path(root)
    if not root.is_dir():
        return out
    for d in root.glob("study-*"):
        try:
            data = json.loads((d / STUDY_FILE).read_text())
            spec = data["spec"]
            out.append({"id": d.name, "dir": d, "name": spec["name"], "preset": spec.get("preset", ""),
                        "description": spec.get("description", ""), "created": float(data.get("created", 0)),
                        "runs": len(data.get("members", [])), "axes": spec.get("axes", {})})
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return sorted(out, key=lambda s: s["created"], reverse=True)


def paper_studies(root: str | Path, kind: str) -> list[dict]:
    """Stored studies for the paper's Table 1 (kind 'table1': the shipped spec's name, or any study on the
    paper preset with a method axis) or Figure 3 ('fig3': the name, or the paper preset with a schedule axis)."""
    axis = "method" if kind == "table1" else "schedule"
    return [s for s in stored_studies(root)
            if s["name"] == PAPER_SPECS[kind] or (s["preset"] == "paper" and axis in s["axes"])]


def table_json(study: Study, metric=None, ref=None, samples: int = 0, temperature_match: str = "") -> dict:
    """results.table, with the temperature-matched control's row when asked (SOURCE:TARGET cells)."""
    from . import results
    tab = results.table(study, metric, ref, samples)
    if temperature_match:
        source, sep, target = temperature_match.partition(":")
        if not sep:
            raise ValueError("--temperature-match takes SOURCE:TARGET, e.g. method=mle:method=seqgan")
        tab = results.add_row(tab, results.temperature_matched(study, source, target, tab["metric"]), study)
    return tab


TABLES_DIR = "tables"        # in the study folder: computed tables, so a restart of the app loses none


def stored_table_json(study: Study, metric=None, ref=None, samples: int = 0, temperature_match: str = "") -> dict:
    """table_json, kept in the study folder and read back while its runs are as they were: sampling a study's
    generators takes minutes, and a server restart or a second visitor should not pay them again. The key
    names each run's status and worker start, so a run that finishes, or is resumed, makes a new table."""
    key = json.dumps({"metric": metric, "ref": ref, "samples": samples, "temperature_match": temperature_match,
                      "runs": study.signature()}, sort_keys=True, default=str)
    path = study.dir / TABLES_DIR / f"{hashlib.sha256(key.encode()).hexdigest()[:24]}.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        pass
    out = json.loads(json.dumps(table_json(study, metric, ref, samples, temperature_match), default=str))
    path.parent.mkdir(exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(out))
    os.replace(tmp, path)                  # whole or absent: a reader never sees half a table
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m seqgan_core.studies.report", description="a study's table as JSON")
    p.add_argument("dir")
    p.add_argument("--metric")
    p.add_argument("--ref")
    p.add_argument("--samples", type=int, default=0)
    p.add_argument("--temperature-match", default="", metavar="SOURCE:TARGET")
    args = p.parse_args(argv)
    try:
        out = stored_table_json(Study(args.dir), args.metric, args.ref, max(0, args.samples), args.temperature_match)
    except (ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(json.dumps(out, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
