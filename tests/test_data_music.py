"""Folk melodies: the encoding, a few real tunes through the cache, piano roll, audio and the MSE."""
import io
import wave

import numpy as np
import pytest
import torch

from seqgan_core.data import DataError, music
from seqgan_core.data.music import HOLD_ID, KEY_OFFSET, REST_ID

A4, B4, C4 = 69 + KEY_OFFSET, 71 + KEY_OFFSET, 60 + KEY_OFFSET


def test_encoding_strikes_holds_and_rests():
    events = [(0.0, 1.0, 69), (1.0, 1.5, 71), (2.0, 2.5, 69), (2.5, 3.0, 69), (3.0, 3.25, 130)]
    ids = music.encode_melody(events, step=0.5).tolist()
    # A4 for a quarter (strike + hold), B4 an eighth, a rest, two separate A4 eighths; off-keyboard -> rest
    assert ids == [A4, HOLD_ID, B4, REST_ID, A4, A4]
    assert music.VOCAB[A4] == "A4" and music.VOCAB[3] == "A0" and music.VOCAB[-1] == "C8"


def test_windows_strike_a_note_they_start_inside_and_skip_silence():
    tune = np.array([A4] + [HOLD_ID] * 5 + [REST_ID] * 5 + [B4], dtype=np.int16)
    wins = music.windows(tune, seq_len=4, max_rest=0.5)
    assert [w.tolist() for w in wins] == [[A4, HOLD_ID, HOLD_ID, HOLD_ID], [A4, HOLD_ID, REST_ID, REST_ID]]


def test_notes_and_piano_roll():
    row = [C4, HOLD_ID, REST_ID, HOLD_ID, A4, A4, HOLD_ID, 0, A4]
    assert music.notes(row) == [(0, 2, 60), (4, 1, 69), (5, 2, 69)]   # a hold after a rest is silent
    roll = music.piano_roll(row)
    assert roll.shape == (9, 88) and roll[:, 69 - 21].tolist() == [0, 0, 0, 0, 1, 1, 1, 0, 0]
    assert roll.sum() == 5


@pytest.mark.parametrize("midi, hz", [(69, 440.0), (60, 261.63), (81, 880.0)])
def test_a_synthesized_note_sounds_at_its_pitch(midi, hz):
    sr = 22050
    audio = music.synthesize([midi + KEY_OFFSET] + [HOLD_ID] * 3, sample_rate=sr, step_seconds=0.25)
    assert audio.dtype == np.float32 and len(audio) == 4 * round(0.25 * sr) and np.abs(audio).max() <= 1.0
    spectrum = np.abs(np.fft.rfft(audio * np.hanning(len(audio))))
    peak = np.fft.rfftfreq(len(audio), 1 / sr)[spectrum.argmax()]
    assert abs(peak - hz) < 2.0


def test_repeated_notes_are_separate_strikes():
    sr, per_step = 8000, 2000
    audio = music.synthesize([A4, A4], sample_rate=sr, step_seconds=per_step / sr)
    assert abs(audio[per_step - 1]) < 0.01          # the release closes the first note before the second


def test_wav_bytes():
    audio = music.synthesize([A4, B4, 0], sample_rate=8000, step_seconds=0.1)
    with wave.open(io.BytesIO(music.to_wav_bytes(audio, 8000))) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()) == (1, 2, 8000, 1600)


def test_music_mse():
    refs = np.array([[A4, HOLD_ID, B4, REST_ID], [C4, C4, C4, C4]])
    assert music.music_mse(refs, refs) == 0.0
    up = np.array([[A4 + 1, HOLD_ID, B4 + 1, REST_ID]])          # a semitone above the nearest reference
    assert music.music_mse(up, refs) == pytest.approx(1.0)
    c5 = np.array([[C4 + 12] * 4])                   # 3, 3, 1, 1 semitones from A4 A4 B4 B4; 12 from C4
    assert music.music_mse(c5, refs) == pytest.approx(5.0)
    assert np.isnan(music.music_mse(np.array([[REST_ID] * 4]), refs))   # nothing to score
    assert music.music_mse(torch.tensor([[REST_ID, C4, 0, 0]]), refs) == 0.0   # rest/eos carry the pitch


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


def test_a_few_real_tunes_load_and_are_cached(cache, monkeypatch):
    monkeypatch.setenv("SEQGAN_CACHE", str(cache))
    seen = []
    opts = {"max_tunes": 6, "seq_len": 16}
    ds = music.load_music(opts, seed=0, progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (6, 6) and len(seen) == 6
    assert ds.train.dtype == torch.long and ds.train.shape[1] == 16 and len(ds.train) > 0 and len(ds.test) > 0
    assert int(ds.train.max()) < len(ds.vocab) and int(ds.train.min()) >= REST_ID
    assert ds.train[:, 0].ne(HOLD_ID).all()          # windows never start with a hold
    assert ds.metrics == ("bleu", "music") and ds.info["tunes_read"] == 6
    assert list((cache / "music").glob("*.npz"))

    def no_parsing(*args):
        raise AssertionError("parsed again")
    monkeypatch.setattr(music, "_melody", no_parsing)
    again = music.load_music(opts, seed=0)           # from the cache
    assert torch.equal(ds.train, again.train) and torch.equal(ds.test, again.test)
    fewer = music.load_music({**opts, "max_tunes": 4}, seed=0)   # a prefix of the cache
    assert fewer.info["tunes_read"] == 4


def test_tune_order_mixes_collections():
    tunes = music.tune_list("both")[:4]
    assert [t[0].split("/")[0] for t in tunes] == ["ryansMammoth", "essenFolksong"] * 2


@pytest.mark.parametrize("opts, message", [({"step": 0.3}, "step"), ({"collection": "bach"}, "collection"),
                                           ({"tempo": 1}, "unknown option")])
def test_bad_options(opts, message):
    with pytest.raises(DataError, match=message):
        music.load_music(opts, seed=0)
