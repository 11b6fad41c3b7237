#!/usr/bin/python3
"""Writes small files in the public SHD layout whose classes differ only in spike timing.

Usage: make_shd_demo.py OUT_DIR [--classes 4] [--per-class 120] [--pattern-neurons 8]
                        [--noise-neurons 16] [--repeats 2] [--span 64] [--min-gap 8]
                        [--noise-rate 0.3 3] [--seed 1]

Writes OUT_DIR/demo_train.h5 (80% of the samples) and OUT_DIR/demo_test.h5 (20%), made with
Debian's h5py exactly as the published files are (vlen float32 times in seconds, vlen uint16
units, uint16 labels, /extra/keys, /extra/speaker), plus a root attribute n_units (the
files have fewer than SHD's 700 channels). 100 bins of 14 ms cover the 1.4 s of a sample.
Also writes OUT_DIR/demo_no_units.h5, an HDF5 file without /spikes/units (a wrong layout, for
the programs' error tests).

How a sample of class c is made (bins of 14 ms; a spike is placed uniformly inside its bin):
  * pattern neurons (0 .. P-1): class c gives each neuron a lag o_c(i) in [0, span) bins, any
    two lags of a class at least min_gap bins apart, in a class-specific order (a sequence, or
    "polychronous" pattern). A sample draws `repeats` onsets a_1 < ... < a_R (at least 3 bins
    apart) and neuron i fires at a_r + o_c(i) + j, j in {-1, 0, 1} with probabilities
    0.15 / 0.7 / 0.15: exactly R spikes in R distinct bins whatever the class. The class lives
    only in the order and the lags between neurons, which are >= min_gap bins (112 ms with the
    defaults): a leaky neuron without delays sees them only through its slow decay, an axonal
    delay can bring two of them together. Each pattern neuron also fires
    Poisson(lambda_c(i)) extra spikes at uniform times, lambda in [0, 1] per class, so the
    binned counts carry some class information ("part" knows rates), while the minimum
    count over samples stays R.
  * noise neurons (P .. P+Q-1): Poisson(mu_c(i)) spikes at uniform times, mu uniform in
    --noise-rate per class. They often fire fewer than 2 times, so the whole -> part -> norm
    builder drops them: "whole" has their rate information, "part" and "norm" do not.
So whole and part can be classified from counts, while norm (every kept neuron fires exactly
R times in every sample) leaves spike timing as the only cue: an MLP on counts is at chance.
"""
import argparse
import os

import h5py
import numpy as np

DT = 0.014
BINS = 100


def make_sample(rng, lags, extra_rate, noise_rate, repeats, span):
    times, units = [], []
    pattern = len(lags)
    # Onsets: sorted, at least 3 bins apart, the whole pattern inside the 100 bins.
    last_onset = BINS - span - 2
    while True:
        onsets = np.sort(rng.choice(np.arange(1, last_onset), size=repeats, replace=False))
        if repeats == 1 or np.min(np.diff(onsets)) >= 3:
            break
    for i in range(pattern):
        for a in onsets:
            b = int(np.clip(a + lags[i] + rng.choice([-1, 0, 1], p=[0.15, 0.7, 0.15]), 0, BINS - 1))
            times.append((b + rng.uniform(0.05, 0.95)) * DT)
            units.append(i)
        for _ in range(rng.poisson(extra_rate[i])):
            times.append(rng.uniform(0, BINS * DT * 0.999))
            units.append(i)
    for q, mu in enumerate(noise_rate):
        for _ in range(rng.poisson(mu)):
            times.append(rng.uniform(0, BINS * DT * 0.999))
            units.append(pattern + q)
    order = np.lexsort((np.asarray(units), np.asarray(times)))
    return np.asarray(times, np.float32)[order], np.asarray(units, np.uint16)[order]


def class_lags(rng, n, span, gap):
    """n lags in [0, span), any two at least `gap` bins apart, in random order over neurons."""
    room = span - (n - 1) * (gap - 1)
    if room < n:
        raise SystemExit(f"make_shd_demo: {n} lags {gap} apart do not fit in {span} bins")
    lags = np.sort(rng.choice(room, size=n, replace=False)) + np.arange(n) * (gap - 1)
    return rng.permutation(lags)


def write(path, samples, labels, speakers, n_units, keys):
    with h5py.File(path, "w") as f:
        f.attrs["n_units"] = np.uint32(n_units)
        times = f.create_dataset("spikes/times", (len(samples),), dtype=h5py.vlen_dtype(np.float32))
        units = f.create_dataset("spikes/units", (len(samples),), dtype=h5py.vlen_dtype(np.uint16))
        for k, (t, u) in enumerate(samples):
            times[k] = t
            units[k] = u
        f.create_dataset("labels", data=np.asarray(labels, np.uint16))
        f.create_dataset("extra/speaker", data=np.asarray(speakers, np.uint16))
        f.create_dataset("extra/keys", data=np.asarray(keys))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("out")
    p.add_argument("--classes", type=int, default=4)
    p.add_argument("--per-class", type=int, default=120)
    p.add_argument("--pattern-neurons", type=int, default=8)
    p.add_argument("--noise-neurons", type=int, default=16)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--span", type=int, default=64)
    p.add_argument("--min-gap", type=int, default=8)
    p.add_argument("--noise-rate", type=float, nargs=2, default=[0.3, 3.0], metavar=("LOW", "HIGH"))
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    rng = np.random.default_rng(a.seed)
    lags = np.stack([class_lags(rng, a.pattern_neurons, a.span, a.min_gap) for _ in range(a.classes)])
    extra = rng.uniform(0, 1, size=(a.classes, a.pattern_neurons))
    noise = rng.uniform(a.noise_rate[0], a.noise_rate[1], size=(a.classes, a.noise_neurons))
    samples, labels = [], []
    for k in range(a.classes * a.per_class):
        c = k % a.classes
        samples.append(make_sample(rng, lags[c], extra[c], noise[c], a.repeats, a.span))
        labels.append(c)
    order = rng.permutation(len(samples))
    samples = [samples[k] for k in order]
    labels = [labels[k] for k in order]
    speakers = rng.integers(0, 10, size=len(samples))
    n_units = a.pattern_neurons + a.noise_neurons
    keys = [f"pattern-{c}".encode() for c in range(a.classes)]
    cut = int(0.8 * len(samples))
    os.makedirs(a.out, exist_ok=True)
    write(os.path.join(a.out, "demo_train.h5"), samples[:cut], labels[:cut], speakers[:cut], n_units, keys)
    write(os.path.join(a.out, "demo_test.h5"), samples[cut:], labels[cut:], speakers[cut:], n_units, keys)
    with h5py.File(os.path.join(a.out, "demo_no_units.h5"), "w") as f:
        times = f.create_dataset("spikes/times", (1,), dtype=h5py.vlen_dtype(np.float32))
        times[0] = np.asarray([0.1, 0.2], np.float32)
        f.create_dataset("labels", data=np.asarray([0], np.uint16))
    print(f"make_shd_demo: {len(samples)} samples ({a.classes} classes), {n_units} units, "
          f"written to {a.out}/demo_train.h5 and demo_test.h5")


if __name__ == "__main__":
    main()
