"""Uploads: what a user's file becomes, and a clear message for every kind of bad file."""
import pytest
import torch

from seqgan_core.data import DataError, load, upload
from seqgan_core.data.report import check_file, list_datasets

LINES = ["the cat sat on the mat", "the dog sat on the log", "a cat and a dog", "the mat is red",
         "a log is brown", "the cat is black", "", "the dog is white", "a red mat", "   "]
TEXT = "\n".join(LINES) + "\n"


def build(data: bytes, name: str = "lines.txt", **opts):
    return upload.build(data, name, opts)


def test_a_plain_text_file_and_its_report():
    ds, report = build(TEXT.encode(), test_fraction=0.25)
    assert report["encoding"] == "utf-8" and report["format"] == "text"
    assert report["sequences_in_file"] == 10 and report["dropped"]["empty"] == 2
    assert report["kept"] == {"train": 6, "test": 2} and report["seq_len"] == 6
    assert report["length_histogram"] == [[3, 1], [4, 4], [5, 1], [6, 2]]
    assert report["vocab_size"] == len(ds.vocab) and ds.vocab[:2] == ["<eos>", "<unk>"]
    assert ds.train.dtype == torch.long and ds.train.shape == (6, 6) and ds.test.shape == (2, 6)
    assert {ds.render(r) for r in ds.train} <= set(LINES)
    again, _ = build(TEXT.encode(), test_fraction=0.25)
    assert torch.equal(ds.train, again.train)       # the split is seeded


@pytest.mark.parametrize("data", [b"", b"\n  \n\t\n", b"\xff\xfe"])
def test_empty_file(data):
    with pytest.raises(DataError, match="empty"):
        build(data)


def test_binary_file_with_nul_bytes():
    with pytest.raises(DataError, match="binary file"):
        build(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))


def test_undecodable_bytes_without_nul():
    with pytest.raises(DataError, match="does not look like a text file"):
        build(bytes(range(1, 256)) * 20)


def test_latin1_text_is_decoded_and_the_report_says_so():
    text = "café crème brûlée\nnaïve résumé façade\nà la carte menu\n"
    ds, report = build(text.encode("latin-1"))
    assert report["encoding"].startswith("latin-1")
    assert {"café", "crème", "naïve", "façade"} <= set(ds.vocab)


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-be", "utf-8-sig"])
def test_text_with_a_byte_order_mark(codec):
    data = TEXT.encode(codec) if codec != "utf-16-be" else b"\xfe\xff" + TEXT.encode("utf-16-be")
    ds, report = build(data)
    plain, _ = build(TEXT.encode())
    assert "byte order mark" in report["encoding"]
    assert ds.vocab == plain.vocab and torch.equal(ds.train, plain.train)


def test_a_huge_file_is_refused_from_its_size_alone(tmp_path, monkeypatch):
    big = tmp_path / "big.txt"
    with open(big, "wb") as f:                       # sparse: 3 GB long, nothing written
        f.truncate(3 * 10**9)

    def no_reading(*args, **kwargs):
        raise AssertionError("the file was read")
    monkeypatch.setattr(upload.Path, "read_bytes", no_reading)
    monkeypatch.setattr(upload, "_open_binary", no_reading)
    with pytest.raises(DataError, match=r"3\.0 GB; the limit is 2\.0 GB: larger files are streamed"):
        upload.build(big)


def test_the_size_limit_is_an_option():
    with pytest.raises(DataError, match="the limit is 100 bytes"):
        build(TEXT.encode(), max_bytes=100)


def test_one_line_only():
    with pytest.raises(DataError, match="only 1 sequence found: put one sequence per line"):
        build(b"just one line of text\n")


def test_a_line_of_a_million_characters_is_dropped_or_cut():
    long_line = "word " * 200_000
    data = (TEXT + long_line + "\n").encode()
    _, report = build(data, seq_len=8)
    assert report["dropped"]["too_long"] == 1 and report["length_histogram"][-1] == [200_000, 1]
    _, report = build(data, seq_len=8, too_long="cut")
    assert report["cut"] == 1 and report["dropped"]["too_long"] == 0
    _, report = build((TEXT + "x" * 1_000_000 + "\n").encode(), tokens="char")
    assert report["dropped"]["too_long"] == 1 and report["seq_len"] == upload.MAX_SEQ_LEN


def test_too_long_everywhere_says_what_to_change():
    with pytest.raises(DataError, match="raise seq_len or set too_long to cut"):
        build(TEXT.encode(), seq_len=2)


def test_emoji_and_right_to_left_text_are_tokens():
    lines = ["مرحبا بالعالم 👋🏽", "שלום עולם 🇮🇱", "hello world 👨‍👩‍👧", "مرحبا עולם 👋🏽 world"]
    ds, _ = build(("\n".join(lines * 3)).encode(), test_fraction=0.25)
    assert {"مرحبا", "שלום", "👋🏽", "🇮🇱", "👨‍👩‍👧"} <= set(ds.vocab)
    assert {ds.render(r) for r in ds.train} == set(lines)
    chars, _ = build(("\n".join(lines * 3)).encode(), tokens="char")
    assert "👨‍👩‍👧" in chars.vocab and {chars.render(r) for r in chars.train} <= set(lines)


CSV = "id,caption,source\n1,a cat on a mat,web\n2,\"a dog, on a log\",web\n3,a red mat,book\n4,,book\n"


def test_csv_column():
    ds, report = build(CSV.encode(), "data.csv", column="caption")
    assert report["format"] == "csv" and report["column"] == "caption"
    assert report["dropped"]["empty"] == 1 and sum(report["kept"].values()) == 3
    assert "," in ds.vocab                           # the quoted comma is text, not a separator


def test_csv_cell_over_several_lines_is_one_sequence():
    _, report = build(b'text\n"two\nlines"\none line\n', "d.csv")
    assert report["sequences_in_file"] == 2 and report["length_histogram"] == [[2, 2]]


def test_csv_without_the_column_lists_the_columns():
    with pytest.raises(DataError, match="no column 'text'; its columns are: id, caption, source"):
        build(CSV.encode(), "data.csv", column="text")
    with pytest.raises(DataError, match="choose one of: id, caption, source"):
        build(CSV.encode(), "data.csv")


def test_csv_with_semicolons():
    ds, report = build(CSV.replace(",", ";").replace('"a dog; on a log"', "a dog on a log").encode(), "d.csv",
                       column="caption")
    assert sum(report["kept"].values()) == 3


def test_a_vocabulary_cap_that_leaves_nothing():
    with pytest.raises(DataError, match="no token occurs at least 50 times"):
        build(TEXT.encode(), min_count=50)
    with pytest.raises(DataError, match="no training sequences left.*raise max_vocab"):
        build(TEXT.encode(), max_vocab=1, max_unk=0.0)


def test_vocabulary_cap_gives_unknown_tokens():
    ds, report = build(TEXT.encode(), max_vocab=3, max_unk=1.0)
    assert len(ds.vocab) == 6 and report["unk_rate"]["train"] > 0.3     # 3 words + <eos>, <unk>, <start>


def test_bad_options():
    with pytest.raises(DataError, match="tokens must be one of word, char"):
        build(TEXT.encode(), tokens="letters")
    with pytest.raises(DataError, match="unknown option"):
        build(TEXT.encode(), colum="x")


def test_saved_upload_is_stored_by_content_and_loads_through_the_registry(tmp_path):
    first = upload.save_upload(TEXT.encode(), "my lines.txt", tmp_path / "uploads")
    assert first == upload.save_upload(TEXT.encode(), "my lines.txt", tmp_path / "uploads")
    assert first.name.endswith("_my_lines.txt") and first.read_bytes() == TEXT.encode()
    other = upload.save_upload(b"other\ntext\n", "my lines.txt", tmp_path / "uploads")
    assert other != first
    assert upload.save_upload(b"a\n", "../数据.CSV", tmp_path / "uploads").name.endswith("_upload.csv")
    ds = load("upload", {"path": str(first), "tokens": "char"}, seed=0)
    assert ds.joiner == "" and ds.metrics == ("bleu",)
    with pytest.raises(DataError, match="file not found"):
        load("upload", {"path": str(tmp_path / "gone.txt")})
    with pytest.raises(DataError, match="upload a .txt or .csv file first"):
        load("upload", {})


def test_check_file_and_list_datasets(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text(CSV, encoding="utf-8")
    report = check_file(path, column="caption", tokens="char")
    assert report["tokens"] == "char" and report["file"] == "d.csv"
    with pytest.raises(DataError, match="its columns are"):
        check_file(path, column="nope")
    names = {d["name"]: d for d in list_datasets()}
    assert {"brackets", "arithmetic", "coco", "poems", "upload", "folk_music"} <= set(names)
    assert names["brackets"]["offline"] and set(names["upload"]) == {"name", "title", "size", "source", "offline"}


# --- large files: streamed, a seeded uniform sample of their lines kept ------------------------------------
def numbered_lines(n):
    words = ["red", "blue", "cat", "dog", "sat", "ran", "mat", "log"]
    return [f"line {i} {words[i % 8]} {words[(i * 3) % 8]} {words[(i * 5) % 7]}" for i in range(n)]


def kept_numbers(ds):
    """The line numbers of the kept lines (character tokens: every digit is in the vocabulary)."""
    return sorted(int(ds.render(row).split()[1]) for row in torch.cat([ds.train, ds.test]).tolist())


@pytest.mark.parametrize("source", ["path", "bytes"])
def test_a_file_over_the_sample_cap_is_sampled_reproducibly(tmp_path, source):
    lines = numbered_lines(4000)
    data = ("\n".join(lines) + "\n").encode()
    path = tmp_path / "big.txt"
    path.write_bytes(data)
    src = str(path) if source == "path" else data
    cap = len(data) // 4
    ds, report = upload.build(src, "big.txt", {"sample_bytes": cap, "tokens": "char", "test_fraction": 0.1})
    k = report["sampled"]["kept"]
    assert report["sampled"]["of"] == report["sequences_in_file"] == 4000
    assert k == int(4000 * cap / len(data)) and 900 <= k <= 1000
    assert report["note"].startswith(f"kept {k:,} of 4,000 lines")
    assert report["kept"]["train"] + report["kept"]["test"] == k
    numbers = kept_numbers(ds)
    assert len(set(numbers)) == k                                 # distinct lines of the file
    # uniform over the file, not its head: every quarter of the file is represented about equally
    quarters = [sum(q * 1000 <= x < (q + 1) * 1000 for x in numbers) for q in range(4)]
    assert min(quarters) > k / 4 * 0.7, quarters
    again, _ = upload.build(src, "big.txt", {"sample_bytes": cap, "tokens": "char"})
    assert kept_numbers(again) == numbers                         # the same seed keeps the same lines
    other, _ = upload.build(src, "big.txt", {"sample_bytes": cap, "tokens": "char", "split_seed": 1})
    assert kept_numbers(other) != numbers
    whole, report = upload.build(src, "big.txt", {"tokens": "char"})  # under the default cap: every line
    assert "sampled" not in report and len(kept_numbers(whole)) == 4000


def test_streaming_reads_as_the_whole_file_does(tmp_path):
    """Encodings, line ends and CSV columns come out of the streaming reader as out of the in-memory one."""
    text = "café crème\r\nnaïve résumé\rà la carte\n\nthe end\n" * 50
    for data in (text.encode("utf-8"), text.encode("latin-1"), text.encode("utf-16")):
        whole, rep_whole = upload.build(data, "t.txt", {})
        streamed, rep = upload.build(data, "t.txt", {"sample_bytes": len(data) - 1})
        assert rep["encoding"] == rep_whole["encoding"]
        assert rep["sequences_in_file"] == rep_whole["sequences_in_file"] == 250
        assert set(streamed.vocab) <= set(whole.vocab)
    csv_text = "id,caption\n" + "".join(f'{i},"a cat, number {i}"\n' for i in range(300))
    _, rep = upload.build(csv_text.encode(), "d.csv", {"column": "caption", "sample_bytes": 2000})
    assert rep["column"] == "caption" and rep["sampled"]["of"] == 300 and rep["note"].split(":")[0].endswith("rows")
    with pytest.raises(DataError, match="its columns are"):
        upload.build(csv_text.encode(), "d.csv", {"column": "nope", "sample_bytes": 2000})


def test_a_large_binary_file_is_still_refused(tmp_path):
    with pytest.raises(DataError, match="binary file"):
        upload.build(b"text line\n" * 100 + b"\x00\x01\x02" * 100, "b.txt", {"sample_bytes": 100})
    with pytest.raises(DataError, match="does not look like a text file"):
        upload.build(bytes(range(1, 256)) * 40, "b.txt", {"sample_bytes": 100})
    with pytest.raises(DataError, match="empty"):
        upload.build(b"\n \n" * 100, "b.txt", {"sample_bytes": 100})


def test_the_cli_data_check_says_what_it_kept(tmp_path, capsys):
    from seqgan_core import cli
    path = tmp_path / "big.txt"
    path.write_text("\n".join(numbered_lines(2000)) + "\n", encoding="utf-8")
    monkey = upload.UPLOAD_DEFAULTS["sample_bytes"]
    upload.UPLOAD_DEFAULTS["sample_bytes"] = path.stat().st_size // 2
    try:
        assert cli.main(["data", "check", str(path)]) == 0
    finally:
        upload.UPLOAD_DEFAULTS["sample_bytes"] = monkey
    out = capsys.readouterr().out
    assert "note: kept 1,000 of 2,000 lines" in out or "note: kept 999 of 2,000 lines" in out, out


def test_one_length_cap():
    from seqgan_core.data import common, corpora, formal, music
    assert upload.MAX_SEQ_LEN is common.MAX_SEQ_LEN == 200 and formal.MAX_SEQ_LEN is common.MAX_SEQ_LEN
    with pytest.raises(DataError, match="between 1 and 200"):
        corpora.load_coco({"seq_len": 201}, 0)
    with pytest.raises(DataError, match="between 4 and 200"):
        music._check_options({"seq_len": 201})


def _preview_app(preview):
    from ui.datasets import _show_preview
    _show_preview(preview)


def test_the_setup_preview_says_what_it_kept(tmp_path):
    from streamlit.testing.v1 import AppTest

    from ui.datasets import load_preview
    path = tmp_path / "big.txt"
    path.write_text("\n".join(numbered_lines(2000)) + "\n", encoding="utf-8")
    preview = load_preview("upload", {"path": str(path), "sample_bytes": path.stat().st_size // 4}, seed=0)
    at = AppTest.from_function(_preview_app, args=(preview,), default_timeout=30).run()
    assert not at.exception
    notes = [i.value for i in at.info]
    assert len(notes) == 1 and notes[0].startswith(f"kept {preview['report']['sampled']['kept']:,} of 2,000 lines")


def test_sizes_are_said_in_the_browsers_units():
    """The file picker shows decimal megabytes; a message about the same file must use the same units."""
    from seqgan_core.data.upload import _size_text
    assert _size_text(62_914_560) == "62.9 MB" and _size_text(2 * 10**9) == "2.0 GB" and _size_text(999) == "999 bytes"
