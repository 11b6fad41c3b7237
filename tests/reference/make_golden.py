#!/usr/bin/env python3
"""Golden files for spikegrad's PyTorch cross-check.

An independent implementation of the networks spikegrad trains, written from the equations in
docs/engine.md with PyTorch autograd (float64): LIF layers with detached reset, a leaky readout
or a spiking output layer, axonal delays (SLAYER integer shift with its hand-written gradient,
and the linear interpolation differentiated by autograd), and every loss. For each case it
writes the inputs and parameters (float32, exactly what the C++ side reads) and the loss, the
readout record and every gradient (float64).

Run with Debian's interpreter (python3-torch):  /usr/bin/python3 tests/reference/make_golden.py
Output: tests/reference/golden/<case>/ ; commit the result.
"""
import argparse
import math
import os
import shutil

import numpy as np
import torch

torch.set_default_dtype(torch.float64)


# --- surrogates: Heaviside forward, closed-form derivative backward -------------------------
def surrogate_grad(name, param, x):
    if name == "fast_sigmoid":
        return 1.0 / (param * x.abs() + 1.0) ** 2
    if name == "arctan":
        return (param / 2) / (1 + (math.pi * param * x / 2) ** 2)
    if name == "sigmoid":
        s = torch.sigmoid(param * x)
        return param * s * (1 - s)
    if name == "triangle":
        return 0.3 * torch.clamp(1 - x.abs() / 1.0, min=0)
    if name == "boxcar":
        return (x.abs() < param / 2).to(x.dtype) / param
    raise ValueError(name)


class Spike(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, name, param):
        ctx.save_for_backward(x)
        ctx.name, ctx.param = name, param
        return (x >= 0).to(x.dtype)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * surrogate_grad(ctx.name, ctx.param, x), None, None


# --- neurons ---------------------------------------------------------------------------------
def lif(current, beta, theta, reset, surrogate):
    """v[t] = beta v[t-1] + I[t] - theta s[t-1] (subtract) or beta (1 - s[t-1]) v[t-1] + I[t]
    (zero); the reset term is detached; s[t] = H(v[t] - theta)."""
    T = current.shape[0]
    v = torch.zeros_like(current[0])
    s = torch.zeros_like(current[0])
    spikes, membranes = [], []
    for t in range(T):
        if reset == "subtract":
            v = beta * v + current[t] - theta * s.detach()
        else:
            v = beta * (1 - s.detach()) * v + current[t]
        s = Spike.apply(v - theta, *surrogate)
        spikes.append(s)
        membranes.append(v)
    return torch.stack(spikes), torch.stack(membranes)


def leaky_readout(current, beta):
    v = torch.zeros_like(current[0])
    out = []
    for t in range(current.shape[0]):
        v = beta * v + current[t]
        out.append(v)
    return torch.stack(out)


# --- delays ----------------------------------------------------------------------------------
def shift(x, k):
    """y[t] = x[t - k] along dim 0 (zero fill)."""
    if k == 0:
        return x
    if k >= x.shape[0]:
        return torch.zeros_like(x)
    return torch.cat([torch.zeros_like(x[:k]), x[:-k]])


class SlayerShift(torch.autograd.Function):
    """SLAYER's delay: y_n[t] = x_n[t - floor(d_n)], dL/dd_n = -sum_{b,t} g[t] (y[t] - y[t-1]),
    dL/dx = g shifted back by floor(d_n)."""

    @staticmethod
    def forward(ctx, x, d):
        k = torch.floor(d).long()
        y = torch.stack([shift(x[:, :, n], int(k[n])) for n in range(x.shape[2])], dim=2)
        ctx.save_for_backward(y, k)
        return y

    @staticmethod
    def backward(ctx, g):
        y, k = ctx.saved_tensors
        T = g.shape[0]
        gx = torch.zeros_like(g)
        for n in range(g.shape[2]):
            kn = int(k[n])
            if kn < T:
                gx[: T - kn, :, n] = g[kn:, :, n]
        y_prev = torch.cat([torch.zeros_like(y[:1]), y[:-1]])
        gd = -(g * (y - y_prev)).sum(dim=(0, 1))
        return gx, gd


def interpolated_delay(x, d):
    """y[t] = (1 - phi) x[t - k] + phi x[t - k - 1], k = floor(d), phi = d - k; autograd
    differentiates phi (and so d) exactly."""
    k = torch.floor(d).detach()
    phi = d - k
    cols = []
    for n in range(x.shape[2]):
        kn = int(k[n])
        cols.append((1 - phi[n]) * shift(x[:, :, n], kn) + phi[n] * shift(x[:, :, n], kn + 1))
    return torch.stack(cols, dim=2)


# --- losses ----------------------------------------------------------------------------------
def loss_of(name, record, y, T):
    if name == "ce_final":
        return torch.nn.functional.cross_entropy(record[-1], y)
    if name == "ce_max":
        return torch.nn.functional.cross_entropy(record.max(dim=0).values, y)
    counts = record.sum(dim=0)  # [B, n]
    onehot = torch.nn.functional.one_hot(y, counts.shape[1]).to(counts.dtype)
    if name == "ce_count":
        return torch.nn.functional.cross_entropy(counts, y)
    if name == "spikemax":
        # N = max(1, counts) with the clamp passed straight through in the backward pass.
        n = counts + (torch.clamp(counts, min=1) - counts).detach()
        p = n / n.sum(dim=1, keepdim=True)
        return -(onehot * torch.log(p)).sum(dim=1).mean()
    if name.startswith("spikemax_softmax"):
        window, scale = 10, 4.0
        windows = record.unfold(0, window, 1).sum(dim=-1)  # [T-W+1, B, n]
        logits = scale * windows / window
        logp = torch.log_softmax(logits, dim=-1)
        return -(logp * onehot).sum(dim=-1).mean()
    if name == "spike_rate":
        target = torch.where(onehot > 0, 0.2 * T, 0.02 * T)
        return (0.5 * (counts - target) ** 2 / T).sum(dim=1).mean()
    if name == "mse_count":
        # snnTorch's mse_count_loss(correct_rate=0.8, incorrect_rate=0.2): integer targets
        # int(T * rate), nn.MSELoss over batch and classes, divided by num_steps.
        target = torch.where(onehot > 0, float(int(T * 0.8)), float(int(T * 0.2)))
        return ((counts - target) ** 2).mean() / T
    raise ValueError(name)


SPIKE_LOSSES = {"ce_count", "spikemax", "spikemax_softmax", "spike_rate", "mse_count"}


def run_case(case, out_dir, min_margin=1e-4, dtype=torch.float64):
    rng = np.random.default_rng(case["seed"])
    sizes, T, B = case["sizes"], case["steps"], case["batch"]
    spiking_out = case["loss"] in SPIKE_LOSSES
    surrogate = (case["surrogate"], case["surrogate_param"])
    beta, theta, reset = case["beta"], case["theta"], case["reset"]
    for attempt in range(200):
        X = (rng.random((T, B, sizes[0])) < case["density"]).astype(np.float32)
        y = rng.integers(0, sizes[-1], size=B).astype(np.int64)
        Ws, bs, ds = [], [], []
        for k in range(len(sizes) - 1):
            bound = case["init_scale"] / math.sqrt(sizes[k])
            Ws.append(rng.uniform(-bound, bound, (sizes[k], sizes[k + 1])).astype(np.float32))
            bs.append(rng.uniform(-0.1, 0.1, sizes[k + 1]).astype(np.float32))
            if k < len(sizes) - 2 and case["delay"] != "none":
                ds.append(rng.uniform(0.1, case["max_delay"] - 0.1, sizes[k + 1]).astype(np.float32))
        params = [torch.tensor(a, dtype=dtype, requires_grad=True) for a in Ws + bs + ds]
        W_t, b_t, d_t = params[: len(Ws)], params[len(Ws): 2 * len(Ws)], params[2 * len(Ws):]
        x = torch.tensor(X, dtype=dtype)
        margins = []
        h = x
        n_layers = len(Ws)
        for k in range(n_layers):
            current = h @ W_t[k] + b_t[k]
            last = k == n_layers - 1
            if last and not spiking_out:
                record = leaky_readout(current, beta)
                break
            s, v = lif(current, beta, theta, reset, surrogate)
            margins.append((v - theta).abs().min().item())
            if last:
                record = s
                break
            if case["delay"] == "shift":
                s = SlayerShift.apply(s, d_t[k])
            elif case["delay"] == "interpolate":
                s = interpolated_delay(s, d_t[k])
            h = s
        spikes_fired = all(m < 10 for m in margins)
        if min(margins) > min_margin and spikes_fired:
            break
    else:
        raise RuntimeError(f"{case['name']}: no draw kept every membrane away from threshold")
    loss = loss_of(case["loss"], record, torch.tensor(y), T)
    loss.backward()

    os.makedirs(out_dir, exist_ok=True)
    np.save(os.path.join(out_dir, "X.npy"), X)
    np.save(os.path.join(out_dir, "y.npy"), y)
    for k in range(len(Ws)):
        np.save(os.path.join(out_dir, f"W{k}.npy"), Ws[k])
        np.save(os.path.join(out_dir, f"b{k}.npy"), bs[k])
        np.save(os.path.join(out_dir, f"dW{k}.npy"), W_t[k].grad.double().numpy())
        np.save(os.path.join(out_dir, f"db{k}.npy"), b_t[k].grad.double().numpy())
    for k in range(len(ds)):
        np.save(os.path.join(out_dir, f"d{k}.npy"), ds[k])
        np.save(os.path.join(out_dir, f"dd{k}.npy"), d_t[k].grad.double().numpy())
    np.save(os.path.join(out_dir, "loss.npy"), np.array(loss.item()))
    np.save(os.path.join(out_dir, "readout.npy"), record.detach().double().numpy())
    with open(os.path.join(out_dir, "config.txt"), "w") as f:
        for key in ["loss", "surrogate", "surrogate_param", "beta", "theta", "reset", "delay",
                    "max_delay"]:
            f.write(f"{key}={case[key]}\n")
        f.write(f"margin={min(margins):.3g}\n")
    spikes_per_layer = [float(m) for m in margins]
    print(f"{case['name']:28s} loss {loss.item():.6f}  min |v - theta| {min(spikes_per_layer):.2e}")


BASE = dict(sizes=[12, 16, 12, 5], steps=30, batch=4, density=0.15, init_scale=3.0,
            surrogate="fast_sigmoid", surrogate_param=100.0, beta=0.9, theta=1.0,
            reset="subtract", delay="none", max_delay=0.0, seed=1)

CASES = [
    dict(name="ce_final", loss="ce_final"),
    dict(name="ce_max", loss="ce_max", seed=2),
    dict(name="ce_count", loss="ce_count", seed=3),
    dict(name="spikemax", loss="spikemax", seed=4),
    dict(name="spikemax_softmax", loss="spikemax_softmax", seed=5),
    dict(name="spike_rate", loss="spike_rate", seed=6),
    dict(name="mse_count", loss="mse_count", seed=7),
    dict(name="zero_reset_arctan", loss="ce_final", reset="zero", surrogate="arctan",
         surrogate_param=2.0, seed=8),
    dict(name="sigmoid_surrogate", loss="ce_final", surrogate="sigmoid", surrogate_param=25.0,
         seed=9),
    dict(name="delay_shift", loss="ce_final", delay="shift", max_delay=6.0, seed=10),
    dict(name="delay_interpolate", loss="ce_final", delay="interpolate", max_delay=6.0, seed=11),
    dict(name="delay_interpolate_spikemax", loss="spikemax", delay="interpolate", max_delay=6.0,
         seed=12),
]


def optimizer_trajectories(out_dir):
    """torch.optim trajectories for given gradient sequences: SGD with momentum, Nesterov SGD,
    Adam. Files: p0.npy, grads.npy [steps, n], <name>.npy [steps, n] (parameters after each)."""
    rng = np.random.default_rng(99)
    n, steps = 7, 6
    p0 = rng.normal(size=n)
    grads = rng.normal(size=(steps, n))
    os.makedirs(out_dir, exist_ok=True)
    np.save(os.path.join(out_dir, "p0.npy"), p0)
    np.save(os.path.join(out_dir, "grads.npy"), grads)
    makers = {
        "sgd_momentum": lambda p: torch.optim.SGD([p], lr=0.1, momentum=0.9),
        "sgd_nesterov": lambda p: torch.optim.SGD([p], lr=0.1, momentum=0.9, nesterov=True),
        "adam": lambda p: torch.optim.Adam([p], lr=0.01, betas=(0.9, 0.999), eps=1e-8),
        "adam_weight_decay": lambda p: torch.optim.Adam([p], lr=0.01, weight_decay=0.1),
    }
    for name, make in makers.items():
        p = torch.tensor(p0, requires_grad=True)
        opt = make(p)
        path = []
        for k in range(steps):
            opt.zero_grad()
            p.grad = torch.tensor(grads[k])
            opt.step()
            path.append(p.detach().numpy().copy())
        np.save(os.path.join(out_dir, f"{name}.npy"), np.array(path))
    print(f"{'optimizers':28s} {len(makers)} trajectories of {steps} steps")
    nadam_trajectories(out_dir)


def slayer_nadam_step(p, g, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0):
    """One step of slayerPytorch's Nadam (slayerPytorch/src/optimizer.py), from its update:
    g += wd p; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
    p -= lr sqrt(1 - b2^t) / (1 - b1^t) * (b1 m + (1 - b1) g) / (sqrt(v) + eps)."""
    g = g + weight_decay * p
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    step_size = lr * math.sqrt(1 - beta2 ** t) / (1 - beta1 ** t)
    return p - step_size * (beta1 * m + (1 - beta1) * g) / (v.sqrt() + eps), m, v


def nadam_trajectories(out_dir):
    """Nadam trajectories: slayerPytorch's form (what spikegrad implements) and torch.optim.NAdam
    (which it does not). Gradients span 1 .. 1e-9 per element so that where eps sits shows.
    Files: nadam_grads.npy [steps, n], nadam_slayer*.npy, nadam_torch.npy [steps, n]."""
    rng = np.random.default_rng(7)
    n, steps = 7, 8
    scales = 10.0 ** -np.arange(0, 10, 1.5)[:n]
    grads = rng.normal(size=(steps, n)) * scales
    p0 = np.load(os.path.join(out_dir, "p0.npy"))
    np.save(os.path.join(out_dir, "nadam_grads.npy"), grads)
    for name, wd in (("nadam_slayer", 0.0), ("nadam_slayer_weight_decay", 0.1)):
        p, m, v = torch.tensor(p0), torch.zeros(n), torch.zeros(n)
        path = []
        for k in range(steps):
            p, m, v = slayer_nadam_step(p, torch.tensor(grads[k]), m, v, k + 1, 0.01,
                                        weight_decay=wd)
            path.append(p.numpy().copy())
        np.save(os.path.join(out_dir, f"{name}.npy"), np.array(path))
    p = torch.tensor(p0, requires_grad=True)
    opt = torch.optim.NAdam([p], lr=0.01)
    path = []
    for k in range(steps):
        opt.zero_grad()
        p.grad = torch.tensor(grads[k])
        opt.step()
        path.append(p.detach().numpy().copy())
    np.save(os.path.join(out_dir, "nadam_torch.npy"), np.array(path))
    print(f"{'optimizers (nadam)':28s} 3 trajectories of {steps} steps")


def float32_gap(golden_dir):
    """PyTorch's own float32 computation against the float64 golden files: the precision a
    float32 engine can be expected to reach on these networks (norm-wise relative error)."""
    import tempfile
    worst = 0.0
    with tempfile.TemporaryDirectory() as scratch:
        for case in CASES:
            full = dict(BASE)
            full.update(case)
            out = os.path.join(scratch, full["name"])
            run_case(full, out, dtype=torch.float32)
            ref = os.path.join(golden_dir, full["name"])
            for f in sorted(os.listdir(ref)):
                if f[:2] in ("dW", "db", "dd"):
                    a, b = np.load(os.path.join(out, f)), np.load(os.path.join(ref, f))
                    gap = np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-300)
                    worst = max(worst, gap)
                    print(f"  {full['name']:28s} {f:8s} float32 vs float64 norm-wise {gap:.2e}")
    print(f"worst norm-wise gap of PyTorch float32: {worst:.2e}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                      "golden"))
    parser.add_argument("--float32-gap", action="store_true",
                        help="print how far PyTorch's float32 gradients are from the golden "
                             "float64 ones, then exit")
    args = parser.parse_args()
    if args.float32_gap:
        float32_gap(args.out)
        return
    if os.path.isdir(args.out):
        shutil.rmtree(args.out)
    for case in CASES:
        full = dict(BASE)
        full.update(case)
        run_case(full, os.path.join(args.out, full["name"]))
    optimizer_trajectories(os.path.join(args.out, "optimizers"))


if __name__ == "__main__":
    main()
