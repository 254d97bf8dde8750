"""Render a folk-melody run's samples so a person can look and listen: for each sample a WAV file and one
PNG with its piano roll above the spectrogram of the synthesised audio (the two must tell the same story).

    python scripts/render_music.py RUN_DIR OUT_DIR [-n 3]
"""
import argparse
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

from seqgan_core.data import music
from seqgan_core.runs.inspect import load_trainer

SR = 22050


def spectrogram(audio: np.ndarray, n_fft: int = 2048, hop: int = 256) -> np.ndarray:
    """Log-magnitude STFT (freq, time), Hann window."""
    win = np.hanning(n_fft)
    frames = [audio[i:i + n_fft] * win for i in range(0, len(audio) - n_fft, hop)]
    return np.log1p(np.abs(np.fft.rfft(np.array(frames), axis=1))).T


def picture(ids, audio, width=800) -> Image.Image:
    roll = music.piano_roll(ids)                       # (T, 88)
    keys = np.flatnonzero(roll.any(0))
    lo, hi = (keys.min() - 2, keys.max() + 3) if len(keys) else (30, 60)
    img = Image.new("RGB", (width, 520), "white")
    d = ImageDraw.Draw(img)
    T = roll.shape[0]
    cell_w, cell_h = width / T, 220 / (hi - lo)
    for start, length, midi in music.notes(ids):
        y = 230 - (midi - 21 - lo + 1) * cell_h
        d.rectangle([start * cell_w, y, (start + length) * cell_w - 2, y + cell_h - 1], fill=(40, 90, 200))
        d.text((start * cell_w + 2, y - 11), music.midi_name(midi), fill="black")
    spec = spectrogram(audio)
    f_max = int(spec.shape[0] * 2000 / (SR / 2))        # show 0..2 kHz, where melody notes live
    spec = spec[:f_max][::-1]
    spec = (255 * spec / max(spec.max(), 1e-9)).astype(np.uint8)
    img.paste(Image.fromarray(spec).resize((width, 270)).convert("RGB"), (0, 245))
    d.text((4, 248), "spectrogram 0-2 kHz", fill="white")
    return img


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("run_dir")
    ap.add_argument("out_dir")
    ap.add_argument("-n", type=int, default=3)
    args = ap.parse_args()
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tr = load_trainer(args.run_dir)
    torch.manual_seed(0)
    for i, ids in enumerate(tr.gen.eval().sample(args.n, tr.ds.seq_len).tolist()):
        audio = music.synthesize(ids, SR)
        (out / f"sample{i}.wav").write_bytes(music.to_wav_bytes(audio, SR))
        picture(ids, audio).save(out / f"sample{i}.png")
        print(f"sample{i}: {' '.join(tr.ds.tokens(ids))}")


if __name__ == "__main__":
    main()
