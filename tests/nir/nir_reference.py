#!/usr/bin/env python3
"""Independent reference for spikegrad's NIR reader and writer (h5py + NumPy only).

  nir_reference.py run FILE INPUT.npy DT_MS METHOD OUT_DIR
      Simulates the NIR graph in FILE directly from its equations and parameters on the input
      currents INPUT.npy [T, n_in] with steps of DT_MS and the discretisation METHOD (exact:
      beta = exp(-dt/tau), g = 1 - beta; forward_euler: beta = 1 - dt/tau, g = dt/tau), and
      writes OUT_DIR/layer<k>.npy [T, n] for every neuron node in chain order: v - v_threshold
      before the reset for LIF / CubaLIF, v for LI.
  nir_reference.py make FILE
      Writes a small NIR graph by hand (Input -> Affine -> CubaLIF -> Delay -> Linear -> LI ->
      Output; gzip, float32 and float64, a metadata group, nodes out of order).
  nir_reference.py layout FILE
      Checks that FILE has NIR's layout (version, node/type, edges (N, 2) strings, Affine
      weight [out, in]) and prints its node types in chain order.

Times in the file are in seconds. NIR's equations (github.com/neuromorphs/NIR):
  LIF:     tau dv/dt = (v_leak - v) + r I; spike when v > v_threshold, then v = v_reset
  CubaLIF: tau_syn dI/dt = -I + w_in x;  tau_mem dv/dt = (v_leak - v) + r I; as LIF
  LI:      tau dv/dt = (v_leak - v) + r I
  Affine:  W x + b;  Linear: W x;  Delay: x(t - delay)
"""
import os
import sys

import h5py
import numpy as np


def text(value):
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def load(path):
    with h5py.File(path, "r") as f:
        g = f["node"]
        nodes = {}
        for name, group in g["nodes"].items():
            entry = {"type": text(group["type"][()])}
            for key, item in group.items():
                if key != "type" and isinstance(item, h5py.Dataset) and item.dtype.kind in "fiu":
                    entry[key] = np.asarray(item[()], dtype=np.float64)
            nodes[name] = entry
        edges = [(text(a), text(b)) for a, b in g["edges"][()]]
    return nodes, edges


def chain(nodes, edges):
    start = [n for n, e in nodes.items() if e["type"] == "Input"]
    assert len(start) == 1, "one Input node"
    order = [start[0]]
    while nodes[order[-1]]["type"] != "Output":
        nxt = [b for a, b in edges if a == order[-1]]
        assert len(nxt) == 1, f"{order[-1]}: one edge out"
        order.append(nxt[0])
    return order


def leak(tau_s, dt_s, method):
    if method == "exact":
        beta = np.exp(-dt_s / tau_s)
        return beta, 1.0 - beta
    if method == "forward_euler":
        return 1.0 - dt_s / tau_s, dt_s / tau_s
    raise SystemExit(f"unknown method {method}")


def run(path, input_path, dt_ms, method, out_dir):
    nodes, edges = load(path)
    x = np.load(input_path).astype(np.float64)
    T = x.shape[0]
    dt = dt_ms / 1000.0
    signal = x
    layer = 0
    for name in chain(nodes, edges)[1:-1]:
        n = nodes[name]
        kind = n["type"]
        if kind == "Affine":
            signal = signal @ n["weight"].T + n["bias"]
        elif kind == "Linear":
            signal = signal @ n["weight"].T
        elif kind == "Delay":
            steps = n["delay"] / dt
            whole = np.round(steps).astype(int)
            assert np.allclose(steps, whole, atol=1e-6), "integer delays only"
            out = np.zeros_like(signal)
            for j, k in enumerate(whole):
                out[k:, j] = signal[: T - k, j]
            signal = out
        elif kind in ("LIF", "CubaLIF", "LI"):
            size = signal.shape[1]
            tau = n["tau_mem"] if kind == "CubaLIF" else n["tau"]
            a, g = leak(tau, dt, method)
            r, v_leak = n["r"], n["v_leak"]
            v = np.zeros(size)
            i = np.zeros(size)
            record = np.zeros((T, size))
            spikes = np.zeros((T, size))
            if kind == "CubaLIF":
                a_syn, g_syn = leak(n["tau_syn"], dt, method)
                w_in = n.get("w_in", np.ones(size))
            for t in range(T):
                drive = signal[t]
                if kind == "CubaLIF":
                    i = a_syn * i + g_syn * w_in * drive
                    drive = i
                v = a * v + g * (v_leak + r * drive)
                if kind == "LI":
                    record[t] = v
                    continue
                threshold = n["v_threshold"]
                record[t] = v - threshold
                s = v > threshold
                spikes[t] = s
                v = np.where(s, n.get("v_reset", np.zeros(size)), v)
            np.save(os.path.join(out_dir, f"layer{layer}.npy"), record)
            layer += 1
            signal = record if kind == "LI" else spikes
        else:
            raise SystemExit(f"{name}: {kind} is not simulated here")


def make(path):
    rng = np.random.default_rng(7)
    with h5py.File(path, "w") as f:
        f["version"] = "1.0.0"
        g = f.create_group("node")
        g["type"] = "NIRGraph"
        nodes = g.create_group("nodes")

        def node(name, kind, **arrays):
            group = nodes.create_group(name)
            group["type"] = kind
            for key, value in arrays.items():
                group.create_dataset(key, data=value, compression="gzip")
            return group

        # Written out of chain order on purpose: the reader must follow the edges.
        node("readout", "LI", tau=np.full(2, 4e-3), r=np.array([1.5, 0.5]),
             v_leak=np.array([0.0, 0.2]))
        node("hidden", "CubaLIF", tau_mem=np.array([2e-3, 3e-3, 5e-3, 8e-3]),
             tau_syn=np.full(4, 1e-3), r=np.array([2.0, 1.0, 1.0, 3.0]),
             v_leak=np.zeros(4), v_threshold=np.array([0.3, 0.2, 0.25, 0.4]),
             v_reset=np.zeros(4), w_in=np.array([1.0, 2.0, 1.5, 1.0]))
        node("fc1", "Affine", weight=rng.normal(0.0, 1.0, (4, 3)).astype(np.float32),
             bias=np.array([0.1, 0.0, 0.05, -0.02], dtype=np.float32))
        node("axons", "Delay", delay=np.array([0.0, 2e-4, 5e-4, 1e-4]))
        node("fc2", "Linear", weight=rng.normal(0.0, 1.0, (2, 4)))
        node("in", "Input", shape=np.array([3], dtype=np.int64))
        out = node("out", "Output", shape=np.array([2], dtype=np.int64))
        meta = out.create_group("metadata")
        meta["note"] = "written by tests/nir/nir_reference.py"
        edges = [("fc2", "readout"), ("in", "fc1"), ("axons", "fc2"), ("fc1", "hidden"),
                 ("hidden", "axons"), ("readout", "out")]
        g.create_dataset("edges", data=np.array(edges, dtype=object),
                         dtype=h5py.string_dtype("utf-8"))


def layout(path):
    with h5py.File(path, "r") as f:
        assert isinstance(f["version"][()], bytes), "version is a string"
        assert text(f["node/type"][()]) == "NIRGraph"
        edges = f["node/edges"]
        assert edges.shape[1] == 2 and edges.dtype.kind == "O", "edges (N, 2) strings"
    nodes, edges = load(path)
    order = chain(nodes, edges)
    for name in order:
        n = nodes[name]
        if n["type"] in ("Affine", "Linear"):
            assert n["weight"].ndim == 2
    print(" ".join(nodes[name]["type"] for name in order))


if __name__ == "__main__":
    command = sys.argv[1]
    if command == "run":
        run(sys.argv[2], sys.argv[3], float(sys.argv[4]), sys.argv[5], sys.argv[6])
    elif command == "make":
        make(sys.argv[2])
    elif command == "layout":
        layout(sys.argv[2])
    else:
        raise SystemExit(f"unknown command {command}")
