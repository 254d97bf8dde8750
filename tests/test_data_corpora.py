"""Corpora: download from a local server, checksum before caching, clear offline errors, tokens."""
import functools
import hashlib
import shutil
import socket
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from seqgan_core.data import DataError, corpora

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"
CAPTIONS_TRAIN = "A man rides a bike.\nTwo dogs play in the park .\nA man's dog, sitting on a bench.\n" \
                 "a cat sleeps on a very very very very very very long sofa with pillows\n"
CAPTIONS_TEST = "a dog rides a skateboard.\na man sits\n"
POEMS = "".join(" ".join(f"{c}{c}{c}{c}{c}，{c}{c}{c}{c}{c}。{c}{c}{c}{c}{c}，{c}{c}{c}{c}{c}。") + "\n"
                for c in "春夏秋冬山水风月花鸟")


class Server:
    """A static file server on 127.0.0.1 that counts the requests it answers."""

    def __init__(self, root: Path):
        self.requests = 0
        outer = self

        class Handler(SimpleHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                outer.requests += 1
                super().do_GET()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(root)))
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02},
                                       daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_mirror(root: Path, files: dict[str, bytes]) -> None:
    for path, data in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(data)


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    """Small made-up corpus files served locally; SOURCES holds their checksums; an empty cache."""
    files = {"data/image_coco.txt": CAPTIONS_TRAIN.encode(), "data/testdata/test_coco.txt": CAPTIONS_TEST.encode(),
             "data/shi.txt": POEMS.encode()}
    write_mirror(tmp_path / "www", files)
    for name, (path, _) in corpora.SOURCES.items():
        monkeypatch.setitem(corpora.SOURCES, name, (path, sha(files[path])))
    monkeypatch.setenv("SEQGAN_CACHE", str(tmp_path / "cache"))
    server = Server(tmp_path / "www")
    monkeypatch.setenv("SEQGAN_DATA_URL", server.url)
    yield server
    server.close()


def test_fetch_streams_with_progress_and_caches(mirror, tmp_path):
    calls = []
    path = corpora.fetch("chinese_poems.txt", progress=lambda done, total: calls.append((done, total)))
    assert path == tmp_path / "cache" / "chinese_poems.txt" and path.read_text(encoding="utf-8") == POEMS
    size = len(POEMS.encode())
    assert calls[-1] == (size, size) and [d for d, _ in calls] == sorted(d for d, _ in calls)
    assert corpora.is_cached("poems") and not corpora.is_cached("coco")
    corpora.download("poems")
    assert mirror.requests == 1                      # the second call is served from the cache


def test_checksum_mismatch_leaves_nothing_in_the_cache(mirror, tmp_path, monkeypatch):
    monkeypatch.setitem(corpora.SOURCES, "chinese_poems.txt", ("data/shi.txt", "0" * 64))
    with pytest.raises(DataError, match="corrupt or not the expected file"):
        corpora.fetch("chinese_poems.txt")
    assert list((tmp_path / "cache").iterdir()) == []


def test_offline_error_names_the_file_and_where_to_put_it(tmp_path, monkeypatch):
    with socket.socket() as s:                       # a port nobody listens on: connection refused
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("SEQGAN_DATA_URL", f"http://127.0.0.1:{port}/mirror")
    monkeypatch.setenv("SEQGAN_CACHE", str(tmp_path / "cache"))
    with pytest.raises(DataError) as err:
        corpora.load_poems({}, 0)
    message = str(err.value)
    assert f"http://127.0.0.1:{port}/mirror/data/shi.txt" in message
    assert str(tmp_path / "cache" / "chinese_poems.txt") in message
    assert list((tmp_path / "cache").iterdir()) == []


def test_missing_file_on_the_server_is_a_data_error(mirror, monkeypatch):
    monkeypatch.setitem(corpora.SOURCES, "chinese_poems.txt", ("data/nothing.txt", "0" * 64))
    with pytest.raises(DataError, match="404"):
        corpora.fetch("chinese_poems.txt")


def test_a_wrong_file_in_the_cache_is_reported(mirror, tmp_path):
    (tmp_path / "cache").mkdir(exist_ok=True)
    (tmp_path / "cache" / "chinese_poems.txt").write_text("edited\n")
    with pytest.raises(DataError, match="delete it"):
        corpora.fetch("chinese_poems.txt")


def test_caption_tokens_match_nltk_word_tokens():
    assert corpora.caption_tokens("A man's dog, sitting on a bench.") == \
        ["a", "man", "'s", "dog", ",", "sitting", "on", "a", "bench", "."]


def test_coco_vocabulary_from_train_and_unknown_test_words(mirror):
    ds = corpora.load_coco({"seq_len": 12}, 0)
    assert ds.train.shape == (3, 12) and ds.test.shape == (2, 12)
    assert ds.info["dropped_too_long"] == 1          # the long sofa caption
    assert ds.vocab[:2] == ["<eos>", "<unk>"] and "skateboard" not in ds.vocab
    assert ds.render(ds.test[0]) == "a dog rides a <unk> ."
    assert ds.render(ds.train[0]) == "a man rides a bike ."
    assert ds.metrics == ("bleu",) and ds.info["test_unk_rate"] > 0
    cut = corpora.load_coco({"seq_len": 12, "too_long": "cut"}, 0)
    assert cut.train.shape == (4, 12) and cut.info["cut_too_long"] == 1


def test_poems_split_is_fixed_and_punctuation_optional(mirror):
    a, b = corpora.load_poems({}, seed=0), corpora.load_poems({}, seed=7)
    assert a.seq_len == 24 and a.train.shape[0] + a.test.shape[0] == 10 and a.test.shape[0] == 1
    assert (a.train == b.train).all()               # the run seed does not move the split
    assert a.render(a.train[0]).count("，") == 2 and a.joiner == ""
    bare = corpora.load_poems({"punctuation": False, "split_seed": 1}, seed=0)
    assert bare.seq_len == 20 and "，" not in bare.vocab


def test_bad_options_fail_before_any_download(mirror):
    with pytest.raises(DataError, match="too_long"):
        corpora.load_coco({"too_long": "wrap"}, 0)
    assert mirror.requests == 0


@pytest.mark.skipif(not SHARED.is_dir(), reason="the shared development data is not here")
def test_the_real_files_and_checksums(tmp_path, monkeypatch):
    """The published files, served locally, pass the checksums in SOURCES and load at the expected sizes."""
    by_name = {"coco_captions_train.txt": "data/image_coco.txt",
               "coco_captions_test.txt": "data/testdata/test_coco.txt", "chinese_poems.txt": "data/shi.txt"}
    for name, path in by_name.items():
        (tmp_path / "www" / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(SHARED / name, tmp_path / "www" / path)
    server = Server(tmp_path / "www")
    monkeypatch.setenv("SEQGAN_DATA_URL", server.url)
    monkeypatch.setenv("SEQGAN_CACHE", str(tmp_path / "cache"))
    try:
        coco, poems = corpora.load_coco({}, 0), corpora.load_poems({}, 0)
    finally:
        server.close()
    assert coco.train.shape == (9998, 32) and coco.test.shape == (9997, 32) and coco.vocab_size == 4661  # + <start>
    assert poems.train.shape == (14755, 24) and poems.test.shape == (1639, 24)
