"""A user's own text: a .txt file (one sequence per line) or a .csv file (one column), as a data set.

What it does with a file, in order, and reports back (see `build`):
1. Size: a path is checked with stat() before anything is read; bytes by their length. A file over
   `max_bytes` (MAX_FILE_BYTES, 2 GB) is refused: reading it twice would take minutes. A file over
   `sample_bytes` (50 MB) is streamed, never held whole: a first pass checks and counts its lines (or CSV
   rows), a second keeps a seeded uniform sample of them (split_seed) of about `sample_bytes`, which is
   all a run loads; the report says "kept k of n lines". Steps 2 to 7 then apply to what was kept.
2. Decoding: a BOM decides (UTF-8, UTF-16, UTF-32). Without one: NUL bytes mean binary (refused); valid
   UTF-8 is read as UTF-8; anything else is read as Windows-1252, the superset of Latin-1 that Windows
   editors write, and the report says so. Text whose decoded characters are more than 2% control codes is
   refused as binary whatever the encoding.
3. Sequences: the lines of a text file, or the chosen column of a CSV (the first row names the columns;
   the delimiter is whichever of , ; tab the header uses most). Empty ones are dropped and counted.
4. Tokens: "word" (runs of letters/digits, apostrophes inside words kept, every other symbol alone; an
   emoji with its modifiers stays one token) or "char" (grapheme clusters, whitespace runs kept as one
   space). Any script works, right-to-left included.
5. Length: seq_len (default: the length 99% of sequences fit, at most MAX_SEQ_LEN = 200); longer ones are
   dropped or cut.
6. Split: a seeded shuffle (split_seed, not the run seed, so every run of a file tests on the same lines).
   At least two sequences are needed, one to train and one to test; a one-line file is refused.
7. Vocabulary from the training part: most frequent first, capped by max_vocab / min_count; the rest
   becomes <unk>. Training sequences more than max_unk <unk> are dropped.
"""
from __future__ import annotations

import codecs
import csv
import hashlib
import io
import itertools
import math
import os
import re
from pathlib import Path
from typing import Optional, Union

import numpy as np
import regex

from .base import DatasetSpec, SequenceDataset, register
from .common import (EOS_ID, MAX_SEQ_LEN, START_ID, TEXT_SPECIALS, UNK_ID, DataError, build_vocab,
                     choice_option, encode, fit_length, float_option, int_option, length_counts, merge_options,
                     pad_rows, split_indices, unk_rate)

MAX_FILE_BYTES = 2 * 10**9          # larger files are refused: even streaming them takes too long
DEFAULT_SAMPLE_BYTES = 50 * 10**6   # larger files are sampled down to about this much text
DEFAULT_MAX_BYTES = MAX_FILE_BYTES
STREAM_CHECK_CHARS = 2**20          # a streamed file that fails the control-code test this early stops here
AUTO_LENGTH_SHARE = 0.99
MAX_CONTROL_SHARE = 0.02
UPLOAD_DEFAULTS = {"path": None, "column": None, "tokens": "word", "lower": False, "seq_len": None,
                   "too_long": "drop", "max_vocab": None, "min_count": 1, "max_unk": 0.5,
                   "test_fraction": 0.1, "split_seed": 0, "max_bytes": DEFAULT_MAX_BYTES,
                   "sample_bytes": DEFAULT_SAMPLE_BYTES}
BOMS = [(codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),   # UTF-32 LE starts like UTF-16 LE
        (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")]
BINARY = ("this looks like a binary file (it contains NUL bytes), not text. UTF-16 text without a byte order "
          "mark also looks like this: save it as UTF-8")
CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")   # control codes that are not whitespace
WORD = regex.compile(r"\w+(?:['’]\w+)*|(?=\S)\X")
GRAPHEME = regex.compile(r"\X")
Source = Union[bytes, str, Path]


def _size_text(n: int) -> str:
    """Decimal units, as the browser's file picker shows a file's size (60 MiB reads 62.9 MB there)."""
    if n >= 10**9:
        return f"{n / 10**9:.1f} GB"
    return f"{n / 10**6:.1f} MB" if n >= 10**6 else f"{n:,} bytes"


def source_size(source: Source, max_bytes: int = DEFAULT_MAX_BYTES) -> int:
    """The size in bytes, from stat() for a path (nothing is read); a DataError over max_bytes."""
    if isinstance(source, bytes):
        size = len(source)
    else:
        try:
            size = os.stat(source).st_size
        except OSError:
            raise DataError(f"file not found: {source}") from None
    if size > max_bytes:
        raise DataError(f"the file is {_size_text(size)}; the limit is {_size_text(max_bytes)}: larger files "
                        f"are streamed and sampled, but one this large would take too long to read. Keep a "
                        f"part of it (e.g. `shuf -n 1000000 FILE > part.txt`) and use that")
    return size


def read_bytes(source: Source, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """The file's bytes; a file over the limit is refused from its size alone, before it is read."""
    source_size(source, max_bytes)
    return source if isinstance(source, bytes) else Path(source).read_bytes()


def _decode_bytes(data: bytes) -> tuple[str, str]:
    """(text, encoding used): a BOM decides, else NUL bytes mean binary, else UTF-8, else Windows-1252."""
    for bom, encoding in BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding), f"{encoding.replace('-sig', '')} (byte order mark)"
            except UnicodeDecodeError:
                raise DataError(f"the file starts like {encoding} text but cannot be decoded as such") from None
    if b"\x00" in data:
        raise DataError(BINARY)
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:          # five bytes cp1252 leaves undefined: plain Latin-1 has them all
            text = data.decode("latin-1")
        return text, "latin-1 (not valid UTF-8, read as Windows-1252/Latin-1: check accented letters)"


def decode(data: bytes) -> tuple[str, str]:
    """(text, how it was decoded), following the rules in the module docstring."""
    text, how = _decode_bytes(data)
    if not text.strip():
        raise DataError("the file is empty")
    if len(CONTROL.findall(text)) > MAX_CONTROL_SHARE * len(text):
        raise DataError("this does not look like a text file (too many control characters)")
    return text, how


def _pick_column(names: list, column):
    """The text column of a CSV header (the only one when none is named) and its index."""
    if column is None:
        if len(names) != 1:
            raise DataError(f"the CSV has {len(names)} columns; choose one of: {', '.join(names)}")
        column = names[0]
    if column not in names:
        raise DataError(f"the CSV has no column '{column}'; its columns are: {', '.join(names)}")
    return column, names.index(column)


def _csv_cells(text: str, column: Optional[str]) -> tuple[list[str], str]:
    """(the cells of the chosen column, its name). The header row names the columns."""
    header = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=header.count)
    # The default cell limit (128 KB) is below our file limit. Raised for the process and never lowered
    # again, so concurrent readers in a web server never see a lower limit than they set.
    csv.field_size_limit(max(csv.field_size_limit(), len(text)))
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as err:
        raise DataError(f"could not read the CSV: {err}") from None
    names = [name.strip() for name in rows[0]]
    column, at = _pick_column(names, column)
    return [row[at] if at < len(row) else "" for row in rows[1:]], column


def tokenize(text: str, tokens: str, lower: bool) -> list[str]:
    """Word or character tokens of one sequence."""
    text = text.lower() if lower else text
    if tokens == "word":
        return WORD.findall(text)
    return GRAPHEME.findall(re.sub(r"\s+", " ", text.strip()))


def _auto_seq_len(lengths: list[int]) -> int:
    """The smallest length that AUTO_LENGTH_SHARE of the sequences fit, within 1..MAX_SEQ_LEN."""
    ordered = sorted(lengths)
    fit = ordered[max(0, math.ceil(AUTO_LENGTH_SHARE * len(ordered)) - 1)]
    return max(1, min(fit, MAX_SEQ_LEN))


def _check_options(options: dict) -> dict:
    opts = merge_options(options, UPLOAD_DEFAULTS, "upload")
    choice_option(opts, "tokens", ("word", "char"))
    choice_option(opts, "too_long", ("drop", "cut"))
    if not isinstance(opts["lower"], bool):
        raise DataError(f"option lower must be true or false, got {opts['lower']!r}")
    if opts["column"] is not None and not isinstance(opts["column"], str):
        raise DataError(f"option column must be a column name, got {opts['column']!r}")
    for key, hi in (("seq_len", MAX_SEQ_LEN), ("max_vocab", 10_000_000)):
        if opts[key] is not None:
            int_option(opts, key, 1, hi)
    int_option(opts, "min_count", 1, 1_000_000)
    int_option(opts, "split_seed", 0, 2**32 - 1)
    int_option(opts, "max_bytes", 1, 2**40)
    int_option(opts, "sample_bytes", 1, 2**40)
    float_option(opts, "max_unk", 0.0, 1.0)
    float_option(opts, "test_fraction", 0.01, 0.5)
    return opts


def read_records(source: Source, name: str, opts: dict) -> tuple[list[str], dict]:
    """(the file's sequences as text, the start of the report): size check, decoding, lines or CSV cells.
    A file over sample_bytes is streamed and sampled (see the module docstring)."""
    size = source_size(source, opts["max_bytes"])
    is_csv = Path(name).suffix.lower() in (".csv", ".tsv")
    if size > opts["sample_bytes"]:
        return _sample_records(source, size, name, is_csv, opts)
    data = read_bytes(source, opts["max_bytes"])
    text, encoding = decode(data)
    report = {"file": name, "bytes": len(data), "encoding": encoding, "format": "csv" if is_csv else "text",
              "tokens": opts["tokens"]}
    if is_csv:
        records, report["column"] = _csv_cells(text, opts["column"])
    else:
        records = text.splitlines()
    report["sequences_in_file"] = len(records)
    return records, report


# --- large files: streamed twice, a seeded uniform sample of their records kept ----------------------------
class _Stats:
    """What the first pass learns while it reads: characters, control codes, any non-blank text."""

    def __init__(self):
        self.chars = self.control = 0
        self.text = False
        self.checked_early = False


def _open_binary(source: Source):
    return io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb")


def _lines(raw, encoding: str, stats: _Stats, check_nul: bool):
    """Decoded lines (line ends kept, as csv wants them), checked as decode() checks a whole text."""
    text = io.TextIOWrapper(raw, encoding=encoding, errors="strict", newline="")
    for line in text:
        if check_nul and "\x00" in line:
            raise DataError(BINARY)
        stats.chars += len(line)
        stats.control += len(CONTROL.findall(line))
        stats.text = stats.text or not line.isspace()
        if not stats.checked_early and stats.chars >= STREAM_CHECK_CHARS:
            stats.checked_early = True
            _check_control(stats)
        yield line


def _check_control(stats: _Stats) -> None:
    if stats.control > MAX_CONTROL_SHARE * stats.chars:
        raise DataError("this does not look like a text file (too many control characters)")


def _stream_records(lines, is_csv: bool, column: Optional[str]):
    """(records, column name): the lines of a text file, or one column's cells of a CSV."""
    if not is_csv:
        return (r for line in lines for r in line.splitlines()), None
    first = next(lines, "")
    delimiter = max(",;\t", key=first.count)
    csv.field_size_limit(max(csv.field_size_limit(), 2**31 - 1))   # see _csv_cells
    reader = csv.reader(itertools.chain([first], lines), delimiter=delimiter)
    names = [n.strip() for n in next(reader, [])]
    column, at = _pick_column(names, column)
    return (row[at] if at < len(row) else "" for row in reader), column


def _encodings(source: Source) -> list[tuple[str, str, bool]]:
    """(codec, how the report names it, whether NUL means binary) to try in order, as _decode_bytes."""
    with _open_binary(source) as raw:
        head = raw.read(4)
    for bom, encoding in BOMS:
        if head.startswith(bom):
            return [(encoding, f"{encoding.replace('-sig', '')} (byte order mark)", False)]
    latin = "latin-1 (not valid UTF-8, read as Windows-1252/Latin-1: check accented letters)"
    return [("utf-8", "utf-8", True), ("cp1252", latin, True), ("latin-1", latin, True)]


def _pass(source: Source, encoding: str, check_nul: bool, is_csv: bool, column: Optional[str], visit):
    """Read the file once, calling visit(record) for each record; returns (stats, column name)."""
    stats = _Stats()
    with _open_binary(source) as raw:
        records, column = _stream_records(_lines(raw, encoding, stats, check_nul), is_csv, column)
        try:
            for record in records:
                visit(record)
        except csv.Error as err:
            raise DataError(f"could not read the CSV: {err}") from None
    return stats, column


def _sample_records(source: Source, size: int, name: str, is_csv: bool, opts: dict
                    ) -> tuple[list[str], dict]:
    """Pass 1 finds the encoding (as decode() would), checks the text and counts the records n; pass 2
    keeps k = n * sample_bytes / size of them, a uniform sample drawn by selection sampling (Knuth's
    Algorithm S) from a generator seeded by split_seed: the same file and seed keep the same records."""
    candidates = _encodings(source)
    count = [0]
    for i, (encoding, how, check_nul) in enumerate(candidates):
        count[0] = 0
        try:
            stats, column = _pass(source, encoding, check_nul, is_csv, opts["column"],
                                  lambda r: count.__setitem__(0, count[0] + 1))
            break
        except UnicodeDecodeError:
            if not check_nul:
                raise DataError(f"the file starts like {encoding} text but cannot be decoded as such") from None
            if i == len(candidates) - 1:
                raise
    n = count[0]
    if not stats.text:
        raise DataError("the file is empty")
    _check_control(stats)
    k = min(n, max(2, int(n * opts["sample_bytes"] / size)))
    rng = np.random.default_rng([opts["split_seed"], 1])     # not the split's own stream
    kept: list[str] = []
    state = {"seen": 0, "u": rng.random(0), "at": 0}

    def select(record: str):
        if state["at"] == len(state["u"]):
            state["u"], state["at"] = rng.random(1 << 16), 0
        u = state["u"][state["at"]]
        state["at"] += 1
        if u * (n - state["seen"]) < k - len(kept):          # Algorithm S: each k-subset equally likely
            kept.append(record)
        state["seen"] += 1
    _pass(source, encoding, check_nul, is_csv, opts["column"], select)
    unit = "rows" if is_csv else "lines"
    report = {"file": name, "bytes": size, "encoding": how, "format": "csv" if is_csv else "text",
              "tokens": opts["tokens"], "sequences_in_file": n,
              "sampled": {"kept": len(kept), "of": n, "sample_bytes": opts["sample_bytes"],
                          "split_seed": opts["split_seed"]},
              "note": sample_note(len(kept), n, unit, opts["sample_bytes"], opts["split_seed"])}
    if is_csv:
        report["column"] = column
    return kept, report


def sample_note(kept: int, total: int, unit: str, sample_bytes: int, seed: int) -> str:
    """The one line the Setup page and `data check` show for a sampled file."""
    return (f"kept {kept:,} of {total:,} {unit}: the file is larger than {_size_text(sample_bytes)}, so a run "
            f"trains and tests on a uniform sample of it (seeded by split_seed = {seed}, the same every time)")


def build(source: Source, name: Optional[str] = None, options: Optional[dict] = None
          ) -> tuple[SequenceDataset, dict]:
    """(data set, report) for a file given as bytes or a path; `name` (for bytes) tells .txt from .csv."""
    opts = _check_options(dict(options or {}))
    if not name:
        name = "upload.txt" if isinstance(source, bytes) else Path(source).name
    records, report = read_records(source, name, opts)
    toks = [tokenize(r, opts["tokens"], opts["lower"]) for r in records]
    nonempty = [t for t in toks if t]
    if not nonempty:
        raise DataError(f"the column '{report['column']}' is empty" if "column" in report else
                        "the file has no text in it")
    report["length_histogram"] = length_counts(map(len, nonempty))
    dropped = {"empty": len(toks) - len(nonempty)}
    seq_len = opts["seq_len"] or _auto_seq_len([len(t) for t in nonempty])
    kept, dropped["too_long"], cut = fit_length(nonempty, seq_len, opts["too_long"])
    if len(kept) < 2:
        raise DataError(_too_few_message(len(kept), dropped["too_long"], seq_len))
    train_idx, test_idx = split_indices(len(kept), opts["test_fraction"], opts["split_seed"])
    train_toks = [kept[i] for i in train_idx]
    vocab = build_vocab(train_toks, opts["max_vocab"], opts["min_count"])
    if len(vocab) == len(TEXT_SPECIALS):
        raise DataError(f"no token occurs at least {opts['min_count']} times (min_count): the vocabulary "
                        f"would be empty; lower min_count")
    train_ids, test_ids = encode(train_toks, vocab), encode([kept[i] for i in test_idx], vocab)
    report["unk_rate"] = {"train": unk_rate(train_ids), "test": unk_rate(test_ids)}
    train_ids, dropped["mostly_unknown"] = _drop_mostly_unknown(train_ids, opts)
    joiner = " " if opts["tokens"] == "word" else ""
    report.update({"seq_len": seq_len, "cut": cut, "dropped": dropped, "vocab_size": len(vocab),
                   "kept": {"train": len(train_ids), "test": len(test_ids)},
                   "examples": [joiner.join(vocab[i] for i in row) for row in train_ids[:3]]})
    ds = SequenceDataset(name="upload", train=pad_rows(train_ids, seq_len), test=pad_rows(test_ids, seq_len),
                         vocab=vocab, eos_id=EOS_ID, unk_id=UNK_ID, start_id=START_ID, metrics=("bleu",), joiner=joiner,
                         info={"source": f"upload: {name}", "report": report})
    return ds, report


def _too_few_message(kept: int, too_long: int, seq_len: int) -> str:
    if too_long:
        return (f"only {kept} sequence(s) left after dropping {too_long} longer than {seq_len} tokens; "
                f"raise seq_len or set too_long to cut")
    return (f"only {kept} sequence found: put one sequence per line (or CSV row); at least two are needed, "
            f"one to train on and one to test on")


def _drop_mostly_unknown(train_ids: list[list[int]], opts: dict) -> tuple[list[list[int]], int]:
    """Training sequences with a share of <unk> up to max_unk, and how many were dropped.

    Only training sequences: there <unk> comes from the vocabulary cap and teaches the generator nothing;
    in the test part it also marks words the training part never had, which NLL-test should see."""
    kept = [row for row in train_ids if row.count(UNK_ID) <= opts["max_unk"] * len(row)]
    if not kept:
        raise DataError(f"no training sequences left: all {len(train_ids)} are more than {opts['max_unk']:.0%} "
                        f"<unk> with max_vocab={opts['max_vocab']}, min_count={opts['min_count']}; raise "
                        f"max_vocab or lower min_count")
    return kept, len(train_ids) - len(kept)


def save_upload(data: bytes, name: str, uploads_dir: Union[str, Path],
                max_bytes: int = DEFAULT_MAX_BYTES) -> Path:
    """Store uploaded bytes as <uploads_dir>/<sha256 prefix>_<name> (once per content) and return the path.

    The run's options then carry this path, so the run can be reproduced from the same bytes."""
    read_bytes(data, max_bytes)
    given = Path(name)
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", given.stem).strip("_") or "upload"
    suffix = re.sub(r"[^a-z0-9.]+", "", given.suffix.lower())     # kept: it tells .csv from .txt
    target = Path(uploads_dir) / f"{hashlib.sha256(data).hexdigest()[:16]}_{stem}{suffix}"
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.part")
        tmp.write_bytes(data)
        os.replace(tmp, target)
    return target


def load_upload(options: dict, seed: int) -> SequenceDataset:
    """The registry's loader: options["path"] is a file saved by save_upload (or any path)."""
    if not options.get("path"):
        raise DataError("no file chosen: upload a .txt or .csv file first")
    return build(options["path"], options=options)[0]


register(DatasetSpec(
    name="upload", title="Your own text file",
    description="A .txt file with one sequence per line, or a column of a .csv file; word or character "
                "tokens.",
    source="your file", offline=lambda: True, load=load_upload, start_id=START_ID,
    options_help={"path": "the saved upload", "column": "CSV column to use",
                  "tokens": "word or char", "lower": "lower-case the text",
                  "seq_len": f"longest sequence in tokens (null: 99% of them fit, at most {MAX_SEQ_LEN})",
                  "too_long": "drop or cut longer sequences", "max_vocab": "keep the most frequent tokens",
                  "min_count": "drop tokens seen fewer times (they become <unk>)",
                  "max_unk": "drop sequences with a larger share of <unk>",
                  "test_fraction": "share held out for testing", "split_seed": "seed of the split",
                  "max_bytes": f"largest file accepted (at most {_size_text(MAX_FILE_BYTES)})",
                  "sample_bytes": "larger files are sampled down to about this many bytes of lines"},
    size_hint=f"your file, up to {_size_text(MAX_FILE_BYTES)} (over {_size_text(DEFAULT_SAMPLE_BYTES)}: a "
              f"sample of its lines)"))
