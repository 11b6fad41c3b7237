#!/usr/bin/python3
"""SHD-layout fixtures for tests/shd, run with Debian's python3 + h5py (not the C++ code).

  shd_fixture.py make <path> <float16|float32>
      writes a small file in the public SHD layout with the hard-coded values below
      (the C++ test holds the same literals and compares what read_shd returns);
  shd_fixture.py check <ours.h5> <reference.h5> <float16|float32>
      checks that a file written by write_shd opens in h5py like the reference: the same
      dataset paths, shapes and dtype kinds (times vlen float of the given width, units vlen
      uint16, labels uint16, speaker uint16, keys strings) and the same values.
Exit status 0 on success; a message on stderr otherwise.
"""
import sys

import h5py
import numpy as np

# Hard-coded content: times exactly representable in float16, so both widths hold them exactly.
TIMES = [[0.0, 0.25, 0.25, 1.375], [], [0.5, 0.625, 0.6875]]
UNITS = [[3, 0, 699, 12], [], [100, 100, 7]]
LABELS = [1, 0, 2]
SPEAKER = [4, 2, 4]
KEYS = [b"zero", b"one", b"two"]
GENDER = ["female", "male", "female", "male", "female"]
AGE = [29, 31, 25, 40, 33]
HEIGHT = [1.70, 1.80, 1.65, 1.90, 1.75]


def make(path, width):
    with h5py.File(path, "w") as f:
        times = f.create_dataset("spikes/times", (len(TIMES),), dtype=h5py.vlen_dtype(np.dtype(width)))
        units = f.create_dataset("spikes/units", (len(UNITS),), dtype=h5py.vlen_dtype(np.uint16))
        for i, (t, u) in enumerate(zip(TIMES, UNITS)):
            times[i] = np.asarray(t, dtype=width)
            units[i] = np.asarray(u, dtype=np.uint16)
        f.create_dataset("labels", data=np.asarray(LABELS, dtype=np.uint16))
        f.create_dataset("extra/speaker", data=np.asarray(SPEAKER, dtype=np.uint16))
        # numpy bytes: fixed-length strings; the metadata strings are variable-length (h5py str).
        f.create_dataset("extra/keys", data=np.asarray(KEYS))
        f.create_dataset("extra/meta_info/gender", data=GENDER, dtype=h5py.string_dtype())
        f.create_dataset("extra/meta_info/age", data=np.asarray(AGE, dtype=np.uint8))
        f.create_dataset("extra/meta_info/body_height", data=np.asarray(HEIGHT, dtype=np.float64))


def datasets(f):
    found = {}
    f.visititems(lambda name, obj: found.__setitem__(name, obj) if isinstance(obj, h5py.Dataset) else None)
    return found


def kind(dtype):
    """What a user of h5py sees: ('vlen', base dtype), ('str', None) or ('plain', dtype)."""
    base = h5py.check_vlen_dtype(dtype)
    if h5py.check_string_dtype(dtype) is not None or dtype.kind == "S":
        return ("str", None)
    if base is not None:
        return ("vlen", np.dtype(base))
    return ("plain", dtype)


def fail(message):
    print("shd_fixture check: " + message, file=sys.stderr)
    sys.exit(1)


def as_text(values):
    return [v.decode() if isinstance(v, bytes) else str(v) for v in values]


def check(ours_path, reference_path, width):
    with h5py.File(ours_path, "r") as ours, h5py.File(reference_path, "r") as ref:
        a, b = datasets(ours), datasets(ref)
        if sorted(a) != sorted(b):
            fail(f"dataset paths differ: ours {sorted(a)} reference {sorted(b)}")
        for name in sorted(a):
            if a[name].shape != b[name].shape:
                fail(f"{name}: shape {a[name].shape} vs reference {b[name].shape}")
            ka, kb = kind(a[name].dtype), kind(b[name].dtype)
            if ka[0] != kb[0]:
                fail(f"{name}: dtype {a[name].dtype} ({ka[0]}) vs reference {b[name].dtype} ({kb[0]})")
            if ka[0] != "str" and ka[1].kind != kb[1].kind:
                fail(f"{name}: dtype kind {ka[1]} vs reference {kb[1]}")
        expected = {
            "spikes/times": ("vlen", np.dtype(width)),
            "spikes/units": ("vlen", np.dtype(np.uint16)),
            "labels": ("plain", np.dtype(np.uint16)),
            "extra/speaker": ("plain", np.dtype(np.uint16)),
            "extra/keys": ("str", None),
            "extra/meta_info/gender": ("str", None),
            "extra/meta_info/age": ("plain", np.dtype(np.uint8)),
            "extra/meta_info/body_height": ("plain", np.dtype(np.float64)),
        }
        for name, want in expected.items():
            if kind(a[name].dtype) != want:
                fail(f"{name}: dtype {a[name].dtype}, expected {want}")
        if dict(ours.attrs) != dict(ref.attrs):
            fail(f"root attributes {dict(ours.attrs)} vs reference {dict(ref.attrs)}")
        for i in range(len(TIMES)):
            t, u = ours["spikes/times"][i], ours["spikes/units"][i]
            if t.dtype != np.dtype(width) or u.dtype != np.uint16:
                fail(f"sample {i}: row dtypes {t.dtype}, {u.dtype}")
            if t.tolist() != TIMES[i] or u.tolist() != UNITS[i]:
                fail(f"sample {i}: times {t.tolist()} units {u.tolist()}")
        if ours["labels"][:].tolist() != LABELS:
            fail(f"labels {ours['labels'][:].tolist()}")
        if ours["extra/speaker"][:].tolist() != SPEAKER:
            fail(f"speaker {ours['extra/speaker'][:].tolist()}")
        if as_text(ours["extra/keys"][:]) != [k.decode() for k in KEYS]:
            fail(f"keys {ours['extra/keys'][:]}")
        if as_text(ours["extra/meta_info/gender"][:]) != GENDER:
            fail(f"gender {ours['extra/meta_info/gender'][:]}")
        if ours["extra/meta_info/age"][:].tolist() != AGE:
            fail(f"age {ours['extra/meta_info/age'][:]}")
        if ours["extra/meta_info/body_height"][:].tolist() != HEIGHT:
            fail(f"body_height {ours['extra/meta_info/body_height'][:]}")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "make":
        make(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 5 and sys.argv[1] == "check":
        check(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        fail("usage: shd_fixture.py make <path> <width> | check <ours> <reference> <width>")
