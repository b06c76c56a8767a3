"""Data loaders: md5 refusal, the missing-data message, idx decoding, variants and provenance records."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from bench import data

needs_data = pytest.mark.skipif(not (data.data_dir() / "mnist").is_dir(), reason="datasets/ not pulled (dvc pull)")


def test_missing_file_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setenv("BENCH_DATA_DIR", str(tmp_path))
    with pytest.raises(data.DataMissingError) as err:
        data.verified("mnist/train-images-idx3-ubyte.gz", "mnist")
    msg = str(err.value)
    assert "dvc pull" in msg and "train-images-idx3-ubyte.gz" in msg and "BENCH_DATA_DIR" in msg


def test_md5_mismatch_is_refused_naming_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("BENCH_DATA_DIR", str(tmp_path))
    bad = tmp_path / "ptb" / "ptb.train.txt"
    bad.parent.mkdir()
    bad.write_text("not the real file\n")
    with pytest.raises(data.DataIntegrityError, match=r"md5 mismatch for .*ptb.train.txt.*refusing"):
        data.verified("ptb/ptb.train.txt", "ptb")
    with pytest.raises(data.DataIntegrityError):
        data.load_ptb()


def test_idx_decoding(tmp_path):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    raw = struct.pack(">BBBB", 0, 0, 8, 3) + struct.pack(">iii", 2, 3, 4) + images.tobytes()
    path = tmp_path / "x.gz"
    path.write_bytes(gzip.compress(raw))
    np.testing.assert_array_equal(data._read_idx(path), images)


def test_unknown_dataset_and_variant():
    with pytest.raises(ValueError, match="unknown dataset"):
        data.load("imagenet")
    with pytest.raises(ValueError, match="variant"):
        data.load_cifar10("png")


@needs_data
def test_mnist_loads_with_variant_and_md5():
    data.reset_loaded()
    ds = data.load("mnist")
    assert ds.train.x.shape == (60000, 1, 28, 28) and ds.test.x.shape == (10000, 1, 28, 28)
    assert ds.train.x.dtype.is_floating_point is False and ds.num_classes == 10
    assert ds.variant == "MNIST (canonical idx)"
    rec = data.loaded_datasets()["mnist"]
    assert rec["md5"]["mnist/train-images-idx3-ubyte.gz"] == "f68b3c2dcbeaaa9fbdd348bbdeb94873"
    assert ds.mean[0] == pytest.approx(0.1307, abs=1e-3)


@needs_data
def test_ptb_word_ids():
    ds = data.load("ptb")
    assert len(ds.vocab) == 10000 and ds.vocab[:3] == ["the", "<unk>", "<eos>"]
    assert len(ds.splits["train"]) == 929589 and int(ds.splits["valid"].x.max()) < 10000
