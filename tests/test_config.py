import pytest

from seqgan_core.config import PRESET_HELP, ConfigError, RunConfig, apply_overrides, check, field_paths, preset, \
    validate, warnings_for


def test_defaults_are_the_authors_settings():
    c = RunConfig()
    s = c.schedule
    assert (c.generator.emb_dim, c.generator.hidden_dim, s.batch_size) == (32, 32, 64)
    assert (s.g_lr, s.d_lr, s.grad_clip) == (0.01, 1e-4, 5.0)
    assert (s.pretrain_g_epochs, s.pretrain_d_rounds, s.pretrain_d_epochs, s.adv_rounds) == (120, 50, 3, 200)
    assert (s.g_steps, s.d_steps, s.k_epochs, s.rollout_num) == (1, 5, 3, 16)
    assert c.discriminator.dropout == 0.25 and c.discriminator.l2_reg == 0.2
    assert sum(c.discriminator.num_filters) == 1720


@pytest.mark.parametrize("name", list(PRESET_HELP))
def test_every_preset_is_valid(name):
    assert validate(preset(name), 5000, 20) == []


def test_figure3_schedules():
    got = {n: (preset(n).schedule.g_steps, preset(n).schedule.d_steps, preset(n).schedule.k_epochs)
           for n in ("fig3a", "fig3b", "fig3c", "fig3d")}
    assert got == {"fig3a": (100, 1, 10), "fig3b": (30, 1, 30), "fig3c": (1, 1, 10), "fig3d": (1, 5, 3)}


@pytest.mark.parametrize("overrides, message", [
    ({"rollout_num": 0}, "rollout_num must be ≥ 1"),
    ({"g_steps": 0, "d_steps": 0}, "g_steps and d_steps cannot both be 0"),
    ({"dropout": 1.0}, "drop probability"),
    ({"rollout_delay": 1.5}, "rollout_delay must be in [0, 1)"),
    ({"reward_baseline": "median"}, "reward_baseline must be"),
    ({"device": "gpu"}, "device must be auto, cpu, cuda or cuda:i"),
    ({"batch_size": 0}, "batch_size must be ≥ 1"),
])
def test_validation_messages(overrides, message):
    errs = validate(apply_overrides(preset("tiny"), overrides), 50, 10)
    assert any(message in e for e in errs), errs


@pytest.mark.parametrize("overrides", [{"d_steps": 0, "k_epochs": 0}, {"d_steps": 0, "k_epochs": 3},
                                       {"d_steps": 2, "k_epochs": 0}])
def test_a_schedule_where_d_never_trains_runs_with_a_warning(overrides):
    cfg = apply_overrides(preset("tiny"), overrides)
    assert validate(cfg, 50, 10) == []
    assert any("D never trains" in w for w in warnings_for(cfg))


def test_too_large_for_memory_and_filters_longer_than_sequences():
    errs = validate(preset("paper"), 2_000_000, 400)
    assert any("GB" in e and "cap the vocabulary" in e for e in errs)
    errs = validate(preset("paper"), 5000, 10)
    assert any("widest D filter (20)" in e for e in errs)


def test_overrides_short_dotted_and_typed():
    c = apply_overrides(preset("tiny"), {"g_steps": "3", "schedule.d_lr": "0.5", "fresh_pg_optimizer": "false",
                                         "filter_sizes": "[2, 4]", "data.options.seq_len": "12"})
    assert c.schedule.g_steps == 3 and c.schedule.d_lr == 0.5 and c.schedule.fresh_pg_optimizer is False
    assert c.discriminator.filter_sizes == [2, 4] and c.data.options["seq_len"] == 12
    with pytest.raises(ConfigError, match="g_steps must be a int, got 'many'"):
        apply_overrides(preset("tiny"), {"g_steps": "many"})
    with pytest.raises(ConfigError, match="unknown setting 'gsteps'"):
        apply_overrides(preset("tiny"), {"gsteps": 1})
    assert field_paths()["k_epochs"] == "schedule.k_epochs"


def test_json_round_trip_and_check():
    c = preset("classroom")
    assert RunConfig.from_dict(c.to_dict()) == c
    with pytest.raises(ConfigError):
        check(apply_overrides(c, {"rollout_num": 0}))
    with pytest.raises(ConfigError, match="unknown setting schedule.bogus"):
        RunConfig.from_dict({"schedule": {"bogus": 1}})
