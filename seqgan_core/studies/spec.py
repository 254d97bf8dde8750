"""A study spec: a base configuration (a preset and `--set`-style overrides) and axes. Read from TOML or
JSON; nothing in it names a server path (the study's folder and its runs get ids the store makes).

    name = "table1_classroom"          # letters, digits, _ and -
    preset = "classroom"
    metric = "nll/oracle"              # what `study table` reports by default
    reference = "method=seqgan"        # the cell every other is tested against (default: the last)
    [set]                              # base overrides, as `train --set`
    device = "cpu"
    [axes]
    method = ["mle", "seqgan"]         # names from studies.methods.METHODS
    g_steps = [1, 5]                   # any setting: a list of values
    seed = [0, 1, 2]                   # seeds: repeats of every cell
    [axes.schedule]                    # a named axis: label -> overrides
    a = { g_steps = 100, d_steps = 1, k_epochs = 10 }
    [resources]                        # per run, for the Ray executor
    num_cpus = 1
    num_gpus = 0

Cells are the product of every axis but seed. Overrides apply in order: preset, [set], method, the other
axes in the order written, seed; then the method's dependent settings (MLE's extra epochs).
"""
from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..config import ConfigError, RunConfig, apply_overrides, check, preset
from .methods import finish_method, method_overrides

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,59}$")
TOP_KEYS = {"name", "description", "preset", "set", "axes", "metric", "reference", "resources"}


@dataclass
class StudySpec:
    name: str
    preset: str = "tiny"
    set: dict = field(default_factory=dict)
    axes: dict = field(default_factory=dict)        # axis -> list of values, or {label: overrides}
    metric: str = "nll/oracle"
    reference: str = ""
    description: str = ""
    resources: dict = field(default_factory=lambda: {"num_cpus": 1, "num_gpus": 0})

    def to_dict(self) -> dict:
        return {"name": self.name, "description": self.description, "preset": self.preset, "set": self.set,
                "axes": self.axes, "metric": self.metric, "reference": self.reference,
                "resources": self.resources}

    @property
    def seeds(self) -> list[int]:
        return list(self.axes.get("seed", [0]))


@dataclass
class Member:
    cell: str              # e.g. "method=seqgan,schedule=a"
    values: dict           # axis -> label
    seed: int
    cfg: RunConfig


def load_spec(path: str | Path) -> StudySpec:
    path = Path(path)
    text = path.read_text()
    if path.suffix == ".toml":
        import tomllib
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{path.name}: {e}") from None
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise ConfigError(f"{path.name}: {e}") from None
    return spec_from_dict(data)


def spec_from_dict(data: dict) -> StudySpec:
    if not isinstance(data, dict):
        raise ConfigError("a study spec is a table of settings")
    unknown = set(data) - TOP_KEYS
    if unknown:
        raise ConfigError(f"unknown study key '{sorted(unknown)[0]}' (known: {', '.join(sorted(TOP_KEYS))})")
    spec = StudySpec(**data)
    if not isinstance(spec.name, str) or not NAME.match(spec.name):
        raise ConfigError("study name must be 1–60 letters, digits, _ or - (it becomes part of the study id)")
    if not isinstance(spec.axes, dict) or not isinstance(spec.set, dict):
        raise ConfigError("set and axes must be tables")
    for axis, values in spec.axes.items():
        if not NAME.match(axis) and "." not in axis:
            raise ConfigError(f"axis name '{axis}' must be a setting or a plain name")
        if not values:
            raise ConfigError(f"axis '{axis}' has no values")
        if axis == "seed" and not all(isinstance(s, int) and not isinstance(s, bool) for s in values):
            raise ConfigError("seeds must be whole numbers")
    if not isinstance(spec.resources, dict) or set(spec.resources) - {"num_cpus", "num_gpus"}:
        raise ConfigError("resources takes num_cpus and num_gpus")
    expand(spec)        # refuse a spec any of whose runs could not start
    return spec


def _axis_options(axis: str, values) -> list[tuple[str, dict]]:
    """(label, overrides) for each value of an axis."""
    if isinstance(values, dict):                      # a named axis: label -> overrides
        for label, ov in values.items():
            if not isinstance(ov, dict) or not NAME.match(str(label)):
                raise ConfigError(f"axis '{axis}': each value is a name with a table of settings")
        return [(str(label), dict(ov)) for label, ov in values.items()]
    if not isinstance(values, list):
        raise ConfigError(f"axis '{axis}' must be a list of values or a table of named settings")
    if axis == "method":
        return [(str(m), method_overrides(str(m))) for m in values]
    return [(json.dumps(v) if not isinstance(v, str) else v, {axis: v}) for v in values]


def expand(spec: StudySpec) -> list[Member]:
    """Every run of the study, cell by cell, seeds innermost."""
    base = apply_overrides(preset(spec.preset), spec.set)
    axes = [(a, _axis_options(a, v)) for a, v in spec.axes.items() if a != "seed"]
    members = []
    for combo in itertools.product(*[opts for _, opts in axes]):
        values = {a: label for (a, _), (label, _) in zip(axes, combo)}
        cell = ",".join(f"{a}={label}" for a, label in values.items()) or "all"
        cfg = base
        for _, ov in combo:
            cfg = apply_overrides(cfg, ov)
        for seed in spec.seeds:
            run_cfg = apply_overrides(cfg, {"seed": seed, "name": f"{spec.name} {cell} seed={seed}"})
            method = values.get("method")
            if method:
                # MLE's extra epochs follow the schedule the adversarial methods of this cell would run
                adv = apply_overrides(base, {k: v for _, ov in combo for k, v in ov.items()
                                             if k not in method_overrides(method)})
                run_cfg = finish_method(method, run_cfg, adv.schedule.adv_rounds, adv.schedule.g_steps)
            check(run_cfg)
            members.append(Member(cell, values, seed, run_cfg))
    return members
