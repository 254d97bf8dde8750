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
    with open(big, "wb") as f:                       # sparse: 500 MB long, nothing written
        f.truncate(500 * 2**20)

    def no_reading(*args, **kwargs):
        raise AssertionError("the file was read")
    monkeypatch.setattr(upload.Path, "read_bytes", no_reading)
    with pytest.raises(DataError, match=r"500\.0 MB; the limit is 50\.0 MB"):
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
