"""Real text corpora, fetched on first use: COCO image captions and Chinese quatrains.

The files are Texygen's (geek-ai/Texygen at commit 3104e22), the ones its SeqGAN benchmark and the paper's
poem task use. A file is downloaded once into the cache folder ($SEQGAN_CACHE, default
~/.cache/seqgan_studio): streamed into a temporary file next to its final place, checked against its
sha256, and only then renamed into place, so the cache never holds a partial or wrong file. Set
$SEQGAN_DATA_URL to fetch from a mirror (tests serve files from 127.0.0.1).

Tokens: captions are lower-cased and split by nltk's Treebank word tokenizer (`word_tokenize` with
preserve_line=True). Texygen calls `word_tokenize` without preserve_line, which first splits sentences with
the punkt model; punkt's data is a separate download and is usually absent offline, and one caption is one
sentence, so we skip it: the tokens differ only on the ~0.5% of captions with a full stop inside the line,
and they are the same on every machine. Poems are already space-separated characters.
"""
from __future__ import annotations

import hashlib
import http.client
import ipaddress
import os
import unicodedata
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Callable, Optional

from .base import DatasetSpec, SequenceDataset, register
from .common import (EOS_ID, MAX_SEQ_LEN, START_ID, UNK_ID, DataError, build_vocab, cache_dir, choice_option,
                     encode, fit_length, float_option, int_option, merge_options, pad_rows, split_indices,
                     unk_rate)

BASE_URL = "https://raw.githubusercontent.com/geek-ai/Texygen/3104e22/"
# cache file name -> (path under the base URL, sha256 of the bytes)
SOURCES: dict[str, tuple[str, str]] = {
    "coco_captions_train.txt": ("data/image_coco.txt",
                                "2c0fd1f0f43aac6a9dc3926a535516ccf395de535e15ac1fd17cd569420736f5"),
    "coco_captions_test.txt": ("data/testdata/test_coco.txt",
                               "72e25c9fb4d2cd43182ac602c92f6ffc377762147f9709572943b0b09174bcae"),
    "chinese_poems.txt": ("data/shi.txt",
                          "ac03c5fbb07776f0e43cb1ccfc74732f5313ab3d832df81c8e0db327df35e666"),
}
DATASET_FILES = {"coco": ("coco_captions_train.txt", "coco_captions_test.txt"),
                 "poems": ("chinese_poems.txt",)}
CHUNK = 1 << 16
TIMEOUT_S = 30
Progress = Callable[[int, Optional[int]], None]   # (bytes done, total bytes or None when unknown)

COCO_DEFAULTS = {"seq_len": 32, "too_long": "drop", "max_vocab": None, "min_count": 1}
POEM_DEFAULTS = {"punctuation": True, "test_fraction": 0.1, "split_seed": 0, "max_vocab": None,
                 "min_count": 1}
QUATRAIN_CHARS = 20            # four lines of five characters; with punctuation each line ends in one mark


def base_url() -> str:
    url = os.environ.get("SEQGAN_DATA_URL") or BASE_URL
    return url if url.endswith("/") else url + "/"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def is_cached(dataset: str) -> bool:
    """Are all the files of a data set ("coco", "poems") in the cache, so it loads offline?"""
    return all((cache_dir() / name).is_file() for name in DATASET_FILES[dataset])


def _opener(url: str) -> urllib.request.OpenerDirector:
    """No proxy for a loopback host (a local mirror or a test server), the environment's proxies otherwise."""
    host = urllib.parse.urlsplit(url).hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    return urllib.request.build_opener(urllib.request.ProxyHandler({})) if loopback \
        else urllib.request.build_opener()


def _download(url: str, dest: Path, progress: Optional[Progress]) -> str:
    """Stream url into dest, reporting progress; returns the sha256 of what was written."""
    digest = hashlib.sha256()
    with _opener(url).open(url, timeout=TIMEOUT_S) as resp, open(dest, "wb") as out:
        length = resp.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        done = 0
        for chunk in iter(lambda: resp.read(CHUNK), b""):
            out.write(chunk)
            digest.update(chunk)
            done += len(chunk)
            if progress:
                progress(done, total)
    return digest.hexdigest()


def fetch(name: str, progress: Optional[Progress] = None,
          sources: Optional[dict[str, tuple[str, str]]] = None) -> Path:
    """Path of a corpus file in the cache, downloading and verifying it first if it is not there."""
    path_in_repo, expected = (sources or SOURCES)[name]
    target = cache_dir() / name
    if target.is_file():
        if sha256_file(target) != expected:
            raise DataError(f"{target} is not the expected file (its checksum differs); "
                            f"delete it and try again")
        return target
    url = base_url() + path_in_repo
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{name}.{os.getpid()}.part")   # same folder, so the rename is atomic
    try:
        got = _download(url, tmp, progress)
        if got != expected:
            raise DataError(f"the download of {name} from {url} is corrupt or not the expected file "
                            f"(sha256 {got[:12]}..., expected {expected[:12]}...); nothing was saved")
        os.replace(tmp, target)
    except (urllib.error.URLError, http.client.HTTPException, OSError) as err:   # offline, 404, cut off, disk full
        reason = err if isinstance(err, urllib.error.HTTPError) else getattr(err, "reason", err)
        raise DataError(f"could not download {name} ({reason}). Download {url} yourself and save it as "
                        f"{target}") from None
    finally:
        tmp.unlink(missing_ok=True)
    return target


def download(dataset: str, progress: Optional[Progress] = None) -> list[Path]:
    """Fetch every file of a data set, for a UI that shows a progress bar before it loads the data set
    (progress restarts at 0 for each file)."""
    return [fetch(name, progress) for name in DATASET_FILES[dataset]]


def read_lines(path: Path) -> list[str]:
    """Non-empty lines, stripped."""
    text = path.read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip()]


def caption_tokens(line: str) -> list[str]:
    from nltk.tokenize import word_tokenize   # imported here: nltk is slow to import and only needed now
    return word_tokenize(line.lower(), preserve_line=True)


def poem_tokens(line: str, punctuation: bool) -> list[str]:
    chars = line.split()
    return chars if punctuation else [c for c in chars if not unicodedata.category(c).startswith("P")]


def _vocab_options(opts: dict) -> tuple[Optional[int], int]:
    max_vocab = None if opts["max_vocab"] is None else int_option(opts, "max_vocab", 1, 10_000_000)
    return max_vocab, int_option(opts, "min_count", 1, 1_000_000)


def _encode_text(name: str, train_toks, test_toks, seq_len: int, too_long: str, opts: dict,
                 info: dict, joiner: str) -> SequenceDataset:
    """Length rule, vocabulary from train, test with <unk>, padded tensors: the shared end of both loaders."""
    train_toks, train_dropped, train_cut = fit_length(train_toks, seq_len, too_long)
    test_toks, test_dropped, test_cut = fit_length(test_toks, seq_len, too_long)
    vocab = build_vocab(train_toks, *_vocab_options(opts))
    train_ids, test_ids = encode(train_toks, vocab), encode(test_toks, vocab)
    info.update({"train_sequences": len(train_ids), "test_sequences": len(test_ids),
                 "dropped_too_long": train_dropped + test_dropped, "cut_too_long": train_cut + test_cut,
                 "vocab_size": len(vocab), "train_unk_rate": unk_rate(train_ids),
                 "test_unk_rate": unk_rate(test_ids)})
    return SequenceDataset(name=name, train=pad_rows(train_ids, seq_len), test=pad_rows(test_ids, seq_len),
                           vocab=vocab, eos_id=EOS_ID, unk_id=UNK_ID, start_id=START_ID,
                           metrics=("bleu",), joiner=joiner, info=info)


def load_coco(options: dict, seed: int) -> SequenceDataset:
    """COCO captions, Texygen's 10,000 train / 10,000 test lines. The seed is unused: the split is fixed."""
    opts = merge_options(options, COCO_DEFAULTS, "coco")
    seq_len = int_option(opts, "seq_len", 1, MAX_SEQ_LEN)
    too_long = choice_option(opts, "too_long", ("drop", "cut"))
    _vocab_options(opts)                               # check the options before a download
    train = [caption_tokens(x) for x in read_lines(fetch("coco_captions_train.txt"))]
    test = [caption_tokens(x) for x in read_lines(fetch("coco_captions_test.txt"))]
    info = {"source": base_url() + SOURCES["coco_captions_train.txt"][0], "tokens": "nltk words, lower case"}
    return _encode_text("coco", train, test, seq_len, too_long, opts, info, joiner=" ")


def load_poems(options: dict, seed: int) -> SequenceDataset:
    """Chinese quatrains, split by split_seed (not the run seed, so every run is scored on the same test)."""
    opts = merge_options(options, POEM_DEFAULTS, "poems")
    punctuation = opts["punctuation"]
    if not isinstance(punctuation, bool):
        raise DataError(f"option punctuation must be true or false, got {punctuation!r}")
    test_fraction = float_option(opts, "test_fraction", 0.01, 0.5)
    split_seed = int_option(opts, "split_seed", 0, 2**32 - 1)
    _vocab_options(opts)
    poems = [poem_tokens(x, punctuation) for x in read_lines(fetch("chinese_poems.txt"))]
    if len(poems) < 2:
        raise DataError("the poem file holds fewer than two poems")
    train_idx, test_idx = split_indices(len(poems), test_fraction, split_seed)
    seq_len = QUATRAIN_CHARS + (4 if punctuation else 0)
    info = {"source": base_url() + SOURCES["chinese_poems.txt"][0], "tokens": "characters"}
    return _encode_text("poems", [poems[i] for i in train_idx], [poems[i] for i in test_idx],
                        seq_len, "drop", opts, info, joiner="")


register(DatasetSpec(
    name="coco", title="COCO image captions",
    description="Short English captions of photos (Texygen's benchmark split). Word tokens, lower case.",
    source=BASE_URL + "data/image_coco.txt (and data/testdata/test_coco.txt)",
    offline=lambda: is_cached("coco"),
    load=load_coco, start_id=START_ID,
    options_help={"seq_len": "longest caption in tokens", "too_long": "drop or cut longer captions",
                  "max_vocab": "keep only the most frequent words (null: all)",
                  "min_count": "drop words seen fewer times (they become <unk>)"},
    size_hint="10,000 train + 10,000 test captions, up to 32 words; download 1.1 MB"))

register(DatasetSpec(
    name="poems", title="Chinese poems (quatrains)",
    description="16,394 classical quatrains: four lines of five characters, the paper's poem corpus.",
    source=BASE_URL + "data/shi.txt", offline=lambda: is_cached("poems"), load=load_poems, start_id=START_ID,
    options_help={"punctuation": "keep the commas and full stops (24 tokens) or not (20)",
                  "test_fraction": "share of poems held out for testing",
                  "split_seed": "seed of the train/test split",
                  "max_vocab": "keep only the most frequent characters (null: all)",
                  "min_count": "drop characters seen fewer times (they become <unk>)"},
    size_hint="16,394 poems of 24 characters; download 1.6 MB"))
