"""Run configuration: dataclasses whose defaults are the authors' synthetic-oracle settings.

Every field is documented once, in its `help` metadata; the CLI and the Setup page show that text.
`validate()` returns the problems as sentences a student can act on.
"""
from __future__ import annotations

import copy
import dataclasses
import json
from dataclasses import dataclass, field, fields
from typing import Any


class ConfigError(ValueError):
    """Invalid configuration; str(err) is one line per problem."""


def _f(default, help: str, **kw):
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda d=default: copy.deepcopy(d), metadata={"help": help, **kw})
    return field(default=default, metadata={"help": help, **kw})


PAPER_FILTER_SIZES = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 20]
PAPER_NUM_FILTERS = [100, 200, 200, 200, 200, 100, 100, 100, 100, 100, 160, 160]


@dataclass
class DataConfig:
    name: str = _f("oracle", "Data set name from the registry (python -m seqgan_core data list).")
    options: dict = _f({}, "Options of that data set, e.g. oracle: vocab_size, seq_len, num_train, source.")


@dataclass
class GeneratorConfig:
    emb_dim: int = _f(32, "Generator token-embedding size.")
    hidden_dim: int = _f(32, "Generator LSTM hidden size.")
    init_std: float = _f(0.1, "Std of the N(0, std) init of every generator parameter (authors: 0.1).")
    temperature: float = _f(1.0, "Temperature of the samples you read and export (CLI sample). Training and "
                                  "NLL-oracle always use 1: the policy being trained.")


@dataclass
class DiscriminatorConfig:
    emb_dim: int = _f(64, "Discriminator token-embedding size.")
    filter_sizes: list = _f(PAPER_FILTER_SIZES, "CNN window widths, one per filter bank.")
    num_filters: list = _f(PAPER_NUM_FILTERS, "Number of filters in each bank (same length as filter_sizes).")
    dropout: float = _f(0.25, "Drop probability before the output layer while training D "
                              "(authors: keep-prob 0.75). Off when D scores rewards.")
    l2_reg: float = _f(0.2, "L2 weight on the output layer only (authors: 0.2).")
    precision: str = _f("fp32", "fp32, or bf16: D trains and scores under bfloat16 autocast (faster on a GPU; "
                                "rewards agree with fp32 within 0.01, see tests/test_accel.py).",
                        choices=("fp32", "bf16"))


REWARDS = ("discriminator", "constant", "shuffled", "mle", "bleu")


@dataclass
class ScheduleConfig:
    batch_size: int = _f(64, "Sequences per minibatch (MLE, policy gradient and D).")
    g_lr: float = _f(0.01, "Adam learning rate of the generator's MLE pre-training.")
    pg_lr: float = _f(0.01, "Adam learning rate of the policy-gradient steps (authors: 0.01, as MLE); "
                                "used when PG has its own optimiser (fresh_pg_optimizer).")
    d_lr: float = _f(1e-4, "Adam learning rate of the discriminator.")
    grad_clip: float = _f(5.0, "Global gradient-norm clip of the generator.")
    pretrain_g_epochs: int = _f(120, "MLE pre-training epochs of G over the training data.")
    pretrain_d_rounds: int = _f(50, "D pre-training rounds, each with fresh negatives.")
    pretrain_d_epochs: int = _f(3, "Epochs over real + fresh negatives in each D pre-training round.")
    adv_rounds: int = _f(200, "Adversarial rounds (the outer loop of Algorithm 1).")
    g_steps: int = _f(1, "g-steps: policy-gradient minibatches per round.")
    d_steps: int = _f(5, "d-steps: times per round D gets fresh negatives and trains.")
    k_epochs: int = _f(3, "k: epochs over real + negatives in each d-step.")
    rollout_num: int = _f(16, "N: Monte-Carlo roll-outs per token to estimate Q.")
    rollout_delay: float = _f(0.0, "Roll-out policy delay r: after each round θ_roll ← r·θ_roll + (1−r)·θ. "
                                    "0 = roll out with the current G (the paper); 0.8 = the authors' code's "
                                    "intent, which their graph never applied.")
    reward_baseline: str = _f("none", "Subtracted from Q in the PG loss: none (paper), batch_mean, or "
                                      "position_mean (mean Q at each t over the batch).",
                              choices=("none", "batch_mean", "position_mean"))
    pg_loss_norm: str = _f("sum", "PG loss −Σ log G(y_t)·Q summed over batch and time (authors), or its mean.",
                           choices=("sum", "mean"))
    num_negatives: int = _f(10000, "Generated sequences per D round (balanced with as many real ones).")
    reward: str = _f("discriminator", "The reward of the policy gradient: discriminator (SeqGAN: Monte-Carlo Q "
                                      "from D), constant (0.5 for every token: PG without D, the sharpening "
                                      "control), shuffled (D's Q permuted across the batch at each position: "
                                      "the same rewards, no credit), mle (MLE continued: each g-step is an MLE "
                                      "minibatch of real data instead of PG, as many generator updates) or bleu "
                                      "(PG-BLEU: Monte-Carlo Q from the roll-outs' BLEU-4 against the training "
                                      "data, no D).",
                     choices=REWARDS)
    fresh_pg_optimizer: bool = _f(True, "Give policy gradient its own Adam (authors) instead of reusing the "
                                        "MLE optimiser's state, which derails PG.")
    changes: list = _f([], "Schedule changes made during the run, each {from_round: r, g_steps / d_steps / "
                           "k_epochs / rollout_num: value}, applied from adversarial round r (0-based). The Live "
                           "page records them here, so the config reproduces the run as it was played.")
    ss_rate: float = _f(0.0, "Scheduled sampling: in MLE epoch e each input token is G's own draw instead of the "
                             "true one with probability min(1, ss_rate·e) (paper's baseline: 0.002). 0 = off.")
    mle_continue: bool = _f(False, "With init_from: train MLE on from the checkpoint's epochs up to "
                                   "pretrain_g_epochs instead of skipping MLE (the MLE and scheduled-sampling "
                                   "baselines of a study).")


@dataclass
class EvalConfig:
    eval_every_epochs: int = _f(5, "Evaluate NLL-oracle / NLL-test every this many MLE epochs.")
    eval_every_rounds: int = _f(5, "Evaluate every this many adversarial rounds.")
    nll_samples: int = _f(10000, "Generator samples scored by the oracle for NLL-oracle (paper: ~10k).")
    snapshot_samples: int = _f(8, "Samples kept with their per-token Q in each snapshot.")
    checkpoint_every_rounds: int = _f(10, "Save a checkpoint at least every this many D pre-training or "
                                          "adversarial rounds, and after any round once a checkpoint costs at most "
                                          "5 % of the training since the last one (so every round at classroom and "
                                          "paper scale on a CPU). MLE: at each evaluation; always at phase ends, "
                                          "pause, stop.")


@dataclass
class RunConfig:
    name: str = _f("", "A label for the run (free text).")
    seed: int = _f(0, "Seed of every random choice of the run (oracle data aside: see data options).")
    device: str = _f("auto", "auto, cpu, cuda or cuda:i. Chosen once when the run starts (auto: a free GPU "
                             "if there is one, else the CPU).")
    threads: int = _f(0, "CPU threads of the run's worker; 0 = auto: the cores divided among the CPU runs "
                         "active when it starts.")
    capture: str = _f("auto", "On a GPU, record the MLE and D training steps as CUDA graphs (auto/graph), "
                              "use torch.compile (compile), or run eagerly (off). The arithmetic is the same.",
                      choices=("auto", "graph", "compile", "off"))
    deterministic: bool = _f(False, "Make CUDA runs bit-reproducible (deterministic kernels; slower). CPU runs "
                                    "are reproducible either way.")
    init_from: str = _f("", "Optional checkpoint to start from (e.g. a shipped MLE-pretrained generator); "
                            "its phases already done are skipped.")
    data: DataConfig = field(default_factory=DataConfig)
    generator: GeneratorConfig = field(default_factory=GeneratorConfig)
    discriminator: DiscriminatorConfig = field(default_factory=DiscriminatorConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)

    # --- serialisation -----------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, d: dict) -> "RunConfig":
        """A config from plain JSON data; wrong names or types are refused with the setting's name."""
        if not isinstance(d, dict):
            raise ConfigError("a config must be a JSON object of settings")
        kw = {}
        for key, value in d.items():
            if key in SECTIONS:
                if not isinstance(value, dict):
                    raise ConfigError(f"{key} must be an object of settings")
                known = {f.name: f for f in fields(SECTIONS[key])}
                unknown = set(value) - set(known)
                if unknown:
                    raise ConfigError(f"unknown setting {key}.{sorted(unknown)[0]}")
                for name, v in value.items():
                    _check_type(f"{key}.{name}", v, getattr(SECTIONS[key](), name))
                kw[key] = SECTIONS[key](**value)
            elif key in {f.name for f in fields(cls)}:
                _check_type(key, value, getattr(cls(), key))
                kw[key] = value
            else:
                raise ConfigError(f"unknown setting {key}")
        return cls(**kw)

    def replace(self, **changes) -> "RunConfig":
        return apply_overrides(self, changes)


SECTIONS = {"data": DataConfig, "generator": GeneratorConfig, "discriminator": DiscriminatorConfig,
            "schedule": ScheduleConfig, "eval": EvalConfig}

# Fields a running job may change between rounds (the Live page's controls).
LIVE_FIELDS = ("g_steps", "d_steps", "k_epochs", "rollout_num")


# --- overrides -------------------------------------------------------------------------------------
def field_paths() -> dict[str, str]:
    """Short name -> dotted path for every setting, e.g. 'g_steps' -> 'schedule.g_steps'."""
    paths = {f.name: f.name for f in fields(RunConfig) if f.name not in SECTIONS}
    for sec, sec_cls in SECTIONS.items():
        for f in fields(sec_cls):
            paths.setdefault(f.name, f"{sec}.{f.name}")
            paths[f"{sec}.{f.name}"] = f"{sec}.{f.name}"
    return paths


def field_help(path: str) -> str:
    sec, _, name = path.rpartition(".")
    cls = SECTIONS[sec] if sec else RunConfig
    return next(f.metadata.get("help", "") for f in fields(cls) if f.name == name)


def _check_type(path: str, value: Any, default: Any) -> None:
    """Values must have their default's type (an int is fine where a float is expected)."""
    ok = isinstance(value, type(default))
    if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
        ok = True
    if isinstance(default, int) and not isinstance(default, bool) and isinstance(value, bool):
        ok = False
    if isinstance(default, list) and ok:     # lists of numbers, but schedule.changes: objects (see validate)
        ok = all(isinstance(v, dict) if path == "schedule.changes" else isinstance(v, int) and not isinstance(v, bool)
                 for v in value)
    if not ok:
        raise ConfigError(f"{path} must be a {type(default).__name__}, got {json.dumps(value)}")


def _coerce(text: Any, current: Any, path: str) -> Any:
    if not isinstance(text, str) or isinstance(current, str):
        return text
    try:
        if isinstance(current, bool):
            if text.lower() in ("1", "true", "yes", "on"):
                return True
            if text.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError
        if isinstance(current, int):
            return int(text)
        if isinstance(current, float):
            return float(text)
        return json.loads(text)  # lists and dicts
    except ValueError:
        kind = type(current).__name__
        raise ConfigError(f"{path} must be a {kind}, got '{text}'") from None


def apply_overrides(cfg: RunConfig, overrides: dict[str, Any]) -> RunConfig:
    """A copy of cfg with overrides applied; keys are short ('g_steps') or dotted ('schedule.g_steps').
    'data.options.vocab_size' sets one option of the data set."""
    out = copy.deepcopy(cfg)
    paths = field_paths()
    for key, value in overrides.items():
        if key.startswith("data.options."):
            opt = key[len("data.options."):]
            out.data.options[opt] = _coerce_option(value)
            continue
        if key not in paths:
            raise ConfigError(f"unknown setting '{key}' (see `python -m seqgan_core train --help-settings`)")
        sec, _, name = paths[key].rpartition(".")
        target = getattr(out, sec) if sec else out
        new = _coerce(value, getattr(target, name), paths[key])
        if not isinstance(getattr(target, name), dict):
            _check_type(paths[key], new, getattr(target, name))
        setattr(target, name, new)
    return out


def _coerce_option(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def parse_set_args(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        if "=" not in item:
            raise ConfigError(f"--set takes key=value, got '{item}'")
        k, v = item.split("=", 1)
        out[k.strip()] = v.strip()
    return out


# --- validation ------------------------------------------------------------------------------------
MAX_BYTES = 8 * 2**30  # refuse runs whose estimated working set exceeds this


def validate(cfg: RunConfig, vocab_size: int | None = None, seq_len: int | None = None) -> list[str]:
    """Problems with cfg, one sentence each; [] when it can run."""
    s, g, d, e = cfg.schedule, cfg.generator, cfg.discriminator, cfg.eval
    errs = []

    def need(cond, msg):
        if not cond:
            errs.append(msg)

    for name in ("batch_size", "num_negatives"):
        need(getattr(s, name) >= 1, f"{name} must be ≥ 1")
    for name in ("pretrain_g_epochs", "pretrain_d_rounds", "pretrain_d_epochs", "adv_rounds"):
        need(getattr(s, name) >= 0, f"{name} must be ≥ 0")
    errs += schedule_problems({k: getattr(s, k) for k in LIVE_FIELDS}, s.adv_rounds)[0]
    for c in s.changes:
        ok = isinstance(c, dict) and isinstance(c.get("from_round"), int) and c["from_round"] >= 0 and \
            set(c) - {"from_round"} <= set(LIVE_FIELDS)
        need(ok, f"schedule changes: {c} is not {{from_round: r ≥ 0, g_steps / d_steps / k_epochs / rollout_num}}")
    need(s.g_lr > 0 and s.pg_lr > 0 and s.d_lr > 0, "learning rates must be > 0")
    need(s.grad_clip > 0, "grad_clip must be > 0")
    need(0.0 <= s.rollout_delay < 1.0, "rollout_delay must be in [0, 1): 0 = roll out with the current G")
    need(s.reward_baseline in ("none", "batch_mean", "position_mean"),
         "reward_baseline must be none, batch_mean or position_mean")
    need(s.pg_loss_norm in ("sum", "mean"), "pg_loss_norm must be sum or mean")
    need(s.reward in REWARDS, f"reward must be one of {', '.join(REWARDS)}")
    need(0.0 <= s.ss_rate <= 1.0, "ss_rate must be in [0, 1]")
    need(d.precision in ("fp32", "bf16"), "discriminator precision must be fp32 or bf16")
    need(cfg.capture in ("auto", "graph", "compile", "off"), "capture must be auto, graph, compile or off")
    need(cfg.threads >= 0, "threads must be ≥ 0 (0 = auto)")
    need(g.emb_dim >= 1 and g.hidden_dim >= 1, "generator sizes must be ≥ 1")
    need(g.init_std > 0, "generator init_std must be > 0")
    need(g.temperature > 0, "temperature must be > 0")
    need(d.emb_dim >= 1, "discriminator emb_dim must be ≥ 1")
    need(len(d.filter_sizes) == len(d.num_filters) and len(d.filter_sizes) > 0,
         "filter_sizes and num_filters must be lists of the same, non-zero length")
    need(all(int(x) >= 1 for x in list(d.filter_sizes) + list(d.num_filters)),
         "filter sizes and filter counts must be ≥ 1")
    need(0.0 <= d.dropout < 1.0, "discriminator dropout is a drop probability in [0, 1)")
    need(d.l2_reg >= 0, "l2_reg must be ≥ 0")
    need(e.eval_every_epochs >= 1 and e.eval_every_rounds >= 1, "evaluation intervals must be ≥ 1")
    need(e.nll_samples >= 1, "nll_samples must be ≥ 1")
    need(e.checkpoint_every_rounds >= 1, "checkpoint_every_rounds must be ≥ 1")
    need(_device_ok(cfg.device), "device must be auto, cpu, cuda or cuda:i (i a number)")
    if seq_len is not None:
        need(seq_len >= 2 or s.adv_rounds == 0,
             f"sequences of length {seq_len} cannot be trained adversarially: roll-outs need a prefix and a "
             "continuation (length ≥ 2)")
    if seq_len is not None and d.filter_sizes:
        need(max(d.filter_sizes) <= seq_len,
             f"the widest D filter ({max(d.filter_sizes)}) is longer than the sequences ({seq_len})")
    if vocab_size is not None and seq_len is not None and not errs:
        need_bytes = estimate_memory_bytes(cfg, vocab_size, seq_len)
        need(need_bytes <= MAX_BYTES,
             f"vocabulary {vocab_size} × sequence length {seq_len} with these sizes needs about "
             f"{need_bytes / 2**30:.1f} GB, more than the {MAX_BYTES / 2**30:.0f} GB allowed: "
             "cap the vocabulary or shorten the sequences")
    return errs


def schedule_problems(values: dict, adv_rounds: int = 1) -> tuple[list[str], list[str]]:
    """(errors, warnings) of g_steps, d_steps, k_epochs and rollout_num: the one rule set behind Setup,
    the CLI, the Live form and the trainer's live changes. A schedule in which D never trains (d_steps
    or k = 0) is a legitimate experiment (SeqGAN without the adversary) and only warns."""
    errs, warns = [], []
    try:
        g, d, k, n = (int(values[f]) for f in LIVE_FIELDS)
    except (KeyError, TypeError, ValueError):
        return ["g_steps, d_steps, k_epochs and rollout_num must be whole numbers"], []
    if min(g, d, k) < 0:
        errs.append("g_steps, d_steps and k_epochs must be ≥ 0")
    if n < 1:
        errs.append("rollout_num must be ≥ 1")
    if adv_rounds > 0 and not errs:
        if g + d == 0:
            errs.append("g_steps and d_steps cannot both be 0: an adversarial round would do nothing")
        elif d == 0 or k == 0:
            warns.append("D never trains in the adversarial phase (d-steps or k is 0): G is rewarded by the "
                         "discriminator as pre-training left it — SeqGAN without the adversary")
        if g == 0 and d > 0:
            warns.append("G never trains in the adversarial phase (g-steps is 0): only D learns")
    return errs, warns


def warnings_for(cfg: RunConfig) -> list[str]:
    """What runs but may not be what was meant (shown beside Start and printed by the CLI)."""
    s = cfg.schedule
    return schedule_problems({k: getattr(s, k) for k in LIVE_FIELDS}, s.adv_rounds)[1]


def live_problems(current, changes: dict) -> tuple[list[str], list[str]]:
    """(errors, warnings) of a schedule change during a run (current: the live schedule)."""
    bad = set(changes) - set(LIVE_FIELDS)
    if bad:
        return [f"{', '.join(sorted(bad))} cannot change during a run (only {', '.join(LIVE_FIELDS)})"], []
    values = {k: changes.get(k, getattr(current, k)) for k in LIVE_FIELDS}
    return schedule_problems(values, 1)


def check(cfg: RunConfig, vocab_size: int | None = None, seq_len: int | None = None) -> RunConfig:
    errs = validate(cfg, vocab_size, seq_len)
    if errs:
        raise ConfigError("; ".join(errs))
    return cfg


def _device_ok(dev: str) -> bool:
    if dev in ("auto", "cpu", "cuda"):
        return True
    return dev.startswith("cuda:") and dev[5:].isdigit()


def estimate_memory_bytes(cfg: RunConfig, vocab_size: int, seq_len: int) -> int:
    """Rough peak working set: parameters with Adam state, the data, a roll-out chunk's logits."""
    g, d, s = cfg.generator, cfg.discriminator, cfg.schedule
    g_params = vocab_size * g.emb_dim + 4 * g.hidden_dim * (g.emb_dim + g.hidden_dim + 2) \
        + g.hidden_dim * vocab_size + vocab_size
    nf = sum(d.num_filters)
    d_params = vocab_size * d.emb_dim + sum(n * f * d.emb_dim for n, f in zip(d.num_filters, d.filter_sizes)) \
        + 2 * nf * nf + 2 * nf
    params = 4 * 4 * (2 * g_params + d_params)  # fp32; weights, grads, 2 Adam moments; G + its roll-out copy
    data = 8 * seq_len * (2 * s.num_negatives + 20000)
    rollout = 4 * 4096 * vocab_size * 3  # a chunk of logits, probabilities and their cumsum
    d_acts = 4 * s.batch_size * 4 * seq_len * (nf + d.emb_dim)
    return int(params + data + rollout + d_acts)


# --- presets ---------------------------------------------------------------------------------------
PRESET_HELP = {
    "paper": "The authors' synthetic-oracle experiment: 120 MLE epochs, 50 D rounds, 200 adversarial rounds "
             "(g=1, d=5, k=3, N=16). A GPU job.",
    "fig3a": "Figure 3(a) schedule g=100, d=1, k=10: fast but unstable.",
    "fig3b": "Figure 3(b) schedule g=30, d=1, k=30.",
    "fig3c": "Figure 3(c) schedule g=1, d=1, k=10: stable.",
    "fig3d": "Figure 3(d) schedule g=1, d=5, k=3: stable and the best in the paper.",
    "classroom": "Fits a 50-minute lecture on a laptop CPU: starts from a shipped MLE generator saved at its "
                 "best NLL-test (epoch 3; NLL-oracle 9.355), a small D, 30 short adversarial rounds. Measured "
                 "over seeds 0-2 (Table 1 study): a null result. SeqGAN ends at NLL-oracle 9.287 +/- 0.096, "
                 "MLE continued at 9.238 +/- 0.044 (p = 0.48); a constant reward with no D reaches 9.083 and "
                 "PG-BLEU 8.283 (policy gradient sharpens G whatever the reward), and the MLE generator cooled "
                 "to SeqGAN's NLL-test (tau 0.82) reaches 8.553. The preset shows the mechanics of SeqGAN, "
                 "not a benefit: branch it with reward=constant to show why.",
    "tiny": "Seconds: a toy oracle, for tests and for trying the controls.",
    "lesson": "The readable lesson: English-like grammar sentences with an exact oracle, validity and the first "
              "error of every sample. Starts from a shipped 5-epoch MLE generator (24% grammatical) and a D "
              "that tells it from real data (~0.8 at round 1). Measured over seeds 0-2 (30 rounds): SeqGAN "
              "raises validity to 0.50-0.56 and lowers NLL-oracle 3.69 → 2.50-2.56, while NLL-test worsens "
              "(2.65 → 2.82-2.91); the controls from the same start do not: constant reward 0.05-0.28 valid, "
              "shuffled reward 0.02-0.13, MLE continued 0.29-0.33 (best NLL-test), temperature 0.7-1.2 at most "
              "0.27. A batch-mean baseline keeps the validity (0.48-0.52) at a better NLL-test. Q is lower from "
              "a sample's first error on (gap ~0.2; 0 for constant and shuffled rewards).",
}

CLASSROOM_CHECKPOINT = "assets/pretrained/classroom_mle.pt"
LESSON_CHECKPOINT = "assets/pretrained/lesson_mle.pt"


def preset(name: str) -> RunConfig:
    """A fresh RunConfig for one of PRESET_HELP's names."""
    if name not in PRESET_HELP:
        raise ConfigError(f"unknown preset '{name}'; choose one of: {', '.join(PRESET_HELP)}")
    cfg = RunConfig(name=name)
    fig3 = {"fig3a": (100, 1, 10), "fig3b": (30, 1, 30), "fig3c": (1, 1, 10), "fig3d": (1, 5, 3)}
    if name in fig3:
        cfg.schedule.g_steps, cfg.schedule.d_steps, cfg.schedule.k_epochs = fig3[name]
    elif name == "classroom":
        cfg = _classroom(cfg)
    elif name == "tiny":
        cfg = _tiny(cfg)
    elif name == "lesson":
        cfg = _lesson(cfg)
    return cfg


def _lesson(cfg: RunConfig) -> RunConfig:
    cfg.init_from = LESSON_CHECKPOINT
    # depth-2 relative clauses and the whole lexicon (117 words): agreement over up to 27 words
    cfg.data = DataConfig(name="grammar", options={"max_depth": 2, "seq_len": 28, "p_relative": 0.4, "nouns": 24,
                                                   "verbs": 12, "adjectives": 12})
    cfg.generator = GeneratorConfig(emb_dim=16, hidden_dim=16)
    # D: windows up to 12 words so that it can see an agreement error across a relative clause; no L2 and a
    # 50x higher learning rate than the paper's so that 3 pre-training rounds of one epoch each reach ~0.7
    # held-out accuracy (a converged G at 94% validity allows no D above 0.60, see scripts/make_start.py)
    cfg.discriminator = DiscriminatorConfig(emb_dim=32, filter_sizes=[2, 3, 4, 5, 8, 12], num_filters=[32] * 6,
                                            dropout=0.25, l2_reg=0.0)
    s = cfg.schedule
    s.batch_size, s.pretrain_g_epochs, s.d_lr = 64, 5, 5e-3
    s.pretrain_d_rounds, s.pretrain_d_epochs, s.num_negatives = 3, 1, 3000
    s.adv_rounds, s.g_steps, s.d_steps, s.k_epochs, s.rollout_num = 30, 1, 1, 1, 8
    cfg.eval = EvalConfig(eval_every_epochs=1, eval_every_rounds=3, nll_samples=2000, checkpoint_every_rounds=5)
    return cfg


def _classroom(cfg: RunConfig) -> RunConfig:
    cfg.init_from = CLASSROOM_CHECKPOINT
    cfg.discriminator = DiscriminatorConfig(emb_dim=32, filter_sizes=[2, 3, 4, 5], num_filters=[64] * 4)
    s = cfg.schedule
    s.pretrain_g_epochs, s.pretrain_d_rounds, s.pretrain_d_epochs = 4, 3, 1     # the shipped start: best NLL-test
    s.adv_rounds, s.g_steps, s.d_steps, s.k_epochs = 30, 1, 1, 1
    s.num_negatives = 5000
    cfg.eval = EvalConfig(eval_every_epochs=5, eval_every_rounds=1, nll_samples=5000, checkpoint_every_rounds=5)
    return cfg


def _tiny(cfg: RunConfig) -> RunConfig:
    cfg.data.options = {"vocab_size": 50, "seq_len": 10, "num_train": 512, "num_test": 128}
    cfg.generator = GeneratorConfig(emb_dim=16, hidden_dim=16)
    cfg.discriminator = DiscriminatorConfig(emb_dim=16, filter_sizes=[2, 3], num_filters=[8, 8])
    s = cfg.schedule
    s.batch_size, s.pretrain_g_epochs, s.pretrain_d_rounds, s.pretrain_d_epochs = 32, 3, 2, 1
    s.adv_rounds, s.g_steps, s.d_steps, s.k_epochs, s.rollout_num = 4, 1, 1, 1, 4
    s.num_negatives = 256
    cfg.eval = EvalConfig(eval_every_epochs=1, eval_every_rounds=1, nll_samples=256, snapshot_samples=4,
                          checkpoint_every_rounds=2)
    return cfg
