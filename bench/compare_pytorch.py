#!/usr/bin/python3
"""The configurations of bench/engine.cpp in plain PyTorch, for the ratio spikegrad / PyTorch.

Network 700-128-128-20: two LIF layers (v[t] = beta v[t-1] + I[t] - theta s[t-1], the reset
detached, s[t] = H(v[t] - theta), the fast-sigmoid surrogate 1 / (alpha |x| + 1)^2 with
alpha = 100 as an autograd.Function) and a leaky readout; loss = cross-entropy of the
max-over-time readout membrane; Adam (lr 1e-3). tau = 20 ms, dt = 1 ms, theta = 1. Weights
U(-s / sqrt(n_in), s / sqrt(n_in)), the init law of bench/engine.cpp, with the same per-layer
scales s (hidden layers 4 / 3 at T = 100, 12 / 3 at T = 1000: both hidden layers fire 3-8% of
neuron-steps; 1 / 1 for the labelled "corner-silent" case; readout 1), biases 0. The activity
of each hidden layer is measured on the first batch and printed (and, with --spikegrad-json,
next to spikegrad's own counters).
"delay": a learnable axonal delay per hidden neuron (max 64 steps, initial U[0, 1)), applied
by linear interpolation y[t] = (1 - phi) x[t - k] + phi x[t - k - 1], k = floor(d), so that d
gets a gradient. Input: dense [T, B, 700] tensors of random 0/1 events at the given density.
The layers run layer by layer over the whole sequence (one matrix product per layer for all
steps, then the time loop of the neuron), the fastest plain formulation. As in the C++
benchmark, every timed training step starts from the same parameters, and iterations
alternate between distinct batches.

BLAS: PyTorch's matrix products go to libblas.so.3. Unless --blas system is given, the script
re-runs itself with Debian's OpenBLAS (libopenblas0-pthread) preloaded, with OPENBLAS_CORETYPE
and OPENBLAS_L2_SIZE removed from its environment (so OpenBLAS picks its kernel for this
CPU), and prints which BLAS and which kernel ran (threadpoolctl). --blas system keeps whatever
libblas.so.3 points to (Debian's default libblas3 is the netlib reference BLAS, ~25x slower
in sgemm: a footnote, not a baseline).

  /usr/bin/python3 bench/compare_pytorch.py                       # all configurations
  /usr/bin/python3 bench/compare_pytorch.py --only train/plain/T:100/density:0.05/batch:256
  /usr/bin/python3 bench/compare_pytorch.py --spikegrad-json out.json   # adds the ratios
  /usr/bin/python3 bench/compare_pytorch.py --device cuda --threads 1
  /usr/bin/python3 bench/compare_pytorch.py --blas system   # libblas.so.3 as installed

Output: one line per configuration with samples/s (median of --repeats timed steps), and with
--spikegrad-json (Google Benchmark's --benchmark_out=... --benchmark_out_format=json) a table
of spikegrad samples/s (median over repetitions), PyTorch samples/s and their ratio.
"""
import argparse
import json
import math
import os
import resource
import statistics
import sys
import time

OPENBLAS = "/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3"


def select_blas():
    """Re-executes this script with OpenBLAS preloaded (once), unless --blas system."""
    if "--blas" in sys.argv and sys.argv[sys.argv.index("--blas") + 1] == "system":
        return
    if os.environ.get("SPIKEGRAD_BENCH_BLAS") == "openblas":
        return
    if not os.path.exists(OPENBLAS):
        sys.exit(f"compare_pytorch: {OPENBLAS} not found: install libopenblas0-pthread "
                 "(scripts/install-deps.sh bench) or pass --blas system")
    env = dict(os.environ, SPIKEGRAD_BENCH_BLAS="openblas")
    env["LD_PRELOAD"] = ":".join(p for p in (OPENBLAS, env.get("LD_PRELOAD")) if p)
    for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        env.pop(name, None)
    os.execve(sys.executable, [sys.executable] + sys.argv, env)


select_blas()

import torch  # noqa: E402  (after the BLAS is chosen)
import torch.nn.functional as F  # noqa: E402

N_IN, N_HIDDEN, N_OUT = 700, 128, 20
MAX_DELAY = 64
BETA = math.exp(-1.0 / 20.0)
THETA = 1.0
ALPHA = 100.0


class FastSigmoidSpike(torch.autograd.Function):
    """Heaviside forward, 1 / (alpha |x| + 1)^2 backward (the paper's eq. 1)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return (x >= 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (ALPHA * x.abs() + 1.0) ** 2


spike = FastSigmoidSpike.apply


def lif(current):
    """current [T, B, n] -> spikes [T, B, n], subtractive reset detached."""
    v = torch.zeros_like(current[0])
    s = torch.zeros_like(current[0])
    out = []
    for i in current.unbind(0):  # not current[t]: its backward writes a whole [T, B, n] tensor
        v = BETA * v + i - THETA * s.detach()
        s = spike(v - THETA)
        out.append(s)
    return torch.stack(out)


def readout(current):
    v = torch.zeros_like(current[0])
    out = []
    for i in current.unbind(0):
        v = BETA * v + i
        out.append(v)
    return torch.stack(out)


def delay(x, d):
    """y[t] = (1 - phi) x[t - k] + phi x[t - k - 1], per neuron k = floor(d), phi = d - k."""
    T, B, n = x.shape
    k = torch.floor(d.detach())
    phi = d - k
    padded = torch.cat([x.new_zeros(MAX_DELAY + 2, B, n), x])
    steps = torch.arange(T, device=x.device).view(T, 1, 1)
    index = (steps - k.long().view(1, 1, n) + MAX_DELAY + 2).expand(T, B, n)
    now = padded.gather(0, index)
    before = padded.gather(0, index - 1)
    return (1 - phi) * now + phi * before


def scales(model, T):
    """Hidden init scales of bench/engine.cpp's models (the readout's is 1)."""
    if model == "corner-silent":
        return (1.0, 1.0)
    return (12.0, 3.0) if T >= 1000 else (4.0, 3.0)


class Net(torch.nn.Module):
    def __init__(self, delays, hidden_scales, generator):
        super().__init__()
        sizes = [N_IN, N_HIDDEN, N_HIDDEN, N_OUT]
        self.weights = torch.nn.ParameterList()
        self.biases = torch.nn.ParameterList()
        self.activity = []  # spikes per neuron-step of each hidden layer, last forward
        for k in range(3):
            bound = (hidden_scales[k] if k < 2 else 1.0) / math.sqrt(sizes[k])
            w = (torch.rand(sizes[k], sizes[k + 1], generator=generator) * 2 - 1) * bound
            self.weights.append(torch.nn.Parameter(w))
            self.biases.append(torch.nn.Parameter(torch.zeros(sizes[k + 1])))
        self.delays = torch.nn.ParameterList(
            [torch.nn.Parameter(torch.rand(N_HIDDEN, generator=generator)) for _ in range(2)]
            if delays else [])

    def forward(self, x):
        h = x
        self.activity = []
        for k in range(2):
            h = lif(torch.matmul(h, self.weights[k]) + self.biases[k])
            self.activity.append(h.detach().mean())
            if len(self.delays):
                h = delay(h, self.delays[k])
        return readout(torch.matmul(h, self.weights[2]) + self.biases[2])


def random_input(T, density, B, device, generator):
    x = (torch.rand(T, B, N_IN, generator=generator) < density).float()
    y = torch.randint(0, N_OUT, (B,), generator=generator)
    return x.to(device), y.to(device)


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def measure(mode, model, T, density, B, args):
    device = torch.device(args.device)
    generator = torch.Generator().manual_seed(1)
    net = Net(model.startswith("delay"), scales(model, T), generator).to(device)
    # Distinct batches, alternated (two: a dense T = 1000 batch is 0.7 GB).
    batches = [random_input(T, density, B, device, generator) for _ in range(2)]
    with torch.no_grad():
        record = net(batches[0][0])
        activity = [float(a) for a in net.activity] + [float(record.std())]
    initial = [p.detach().clone() for p in net.parameters()]
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)

    def train_step(x, y):
        with torch.no_grad():
            for p, p0 in zip(net.parameters(), initial):
                p.copy_(p0)
        opt.zero_grad(set_to_none=True)
        record = net(x)
        loss = F.cross_entropy(record.max(0).values, y)
        loss.backward()
        opt.step()
        return loss

    def infer_step(x, y):
        with torch.no_grad():
            record = net(x)
            scores = record.max(0).values
            loss = F.cross_entropy(scores, y)
            correct = (scores.argmax(1) == y).sum()
        return loss, correct

    step = train_step if mode == "train" else infer_step
    for k in range(args.warmup):
        step(*batches[k % 2])
    sync(device)
    rates = []
    for k in range(args.repeats):
        x, y = batches[(args.warmup + k) % 2]
        start = time.perf_counter()
        step(x, y)
        sync(device)
        rates.append(B / (time.perf_counter() - start))
    peak = (torch.cuda.max_memory_allocated() / 2**20 if device.type == "cuda"
            else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return statistics.median(rates), min(rates), max(rates), peak, activity


def configurations(threads):
    """The benchmarks of bench/engine.cpp, with the same names."""
    out = []
    for model, T, density, B in [("plain", 100, 0.05, 256), ("delay", 100, 0.05, 256),
                                 ("plain", 1000, 0.006, 256),
                                 ("plain", 100, 0.05, 32), ("plain", 100, 0.05, 64),
                                 ("plain", 100, 0.05, 128),
                                 ("corner-silent", 100, 0.05, 256),
                                 ("corner-silent", 1000, 0.006, 256)]:
        for mode in ("train", "infer"):
            out.append((mode, model, T, density, B,
                        f"{mode}/{model}/T:{T}/density:{density:g}/batch:{B}/threads:{threads}"))
    return out


def spikegrad_rates(path):
    """name -> (median samples/s over the repetitions, [layer1 %, layer2 %]) from a Google
    Benchmark JSON file of bench_engine."""
    with open(path) as f:
        data = json.load(f)
    runs, activity = {}, {}
    for b in data["benchmarks"]:
        if b.get("run_type") == "aggregate" or "samples/s" not in b:
            continue
        name = b.get("run_name", b["name"]).removesuffix("/real_time")
        runs.setdefault(name, []).append(b["samples/s"])
        activity[name] = [b.get("layer1_%"), b.get("layer2_%")]
    return {name: (statistics.median(v), activity[name]) for name, v in runs.items()}


def describe_blas():
    """Which BLAS libblas.so.3 resolved to, and which kernel (threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (install python3-threadpoolctl to see it)", None
    for lib in threadpool_info():
        if lib.get("user_api") == "blas":
            return (f"{lib.get('internal_api')} {lib.get('version')} "
                    f"({lib.get('threading_layer')}), kernel {lib.get('architecture')}, "
                    f"{lib.get('num_threads')} threads, {lib.get('filepath')}"), lib
    return ("not seen by threadpoolctl: libblas.so.3 is probably the netlib reference BLAS "
            "(a footnote, not a baseline)"), None


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (CPU)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=5, help="timed steps per configuration")
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--only", action="append", default=[],
                        help="run only configurations whose name starts with this (repeatable)")
    parser.add_argument("--spikegrad-json", help="bench_engine's JSON output: print ratios")
    parser.add_argument("--json-out", help="write the PyTorch figures here as JSON")
    parser.add_argument("--blas", choices=["openblas", "system"], default="openblas",
                        help="openblas: preload Debian's OpenBLAS (default); system: "
                             "libblas.so.3 as installed")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    blas, blas_lib = describe_blas()
    if blas_lib is not None:
        from threadpoolctl import threadpool_limits
        threadpool_limits(limits=args.threads, user_api="blas")
        blas, blas_lib = describe_blas()
    device_name = (torch.cuda.get_device_name() if args.device.startswith("cuda")
                   else f"CPU, {args.threads} threads")
    print(f"PyTorch {torch.__version__} on {device_name}", flush=True)
    print(f"BLAS: {blas}", flush=True)
    print("OPENBLAS_CORETYPE=" + os.environ.get("OPENBLAS_CORETYPE", "(unset)") +
          " OPENBLAS_L2_SIZE=" + os.environ.get("OPENBLAS_L2_SIZE", "(unset)"), flush=True)
    ours = spikegrad_rates(args.spikegrad_json) if args.spikegrad_json else {}
    results = {}
    for mode, model, T, density, B, name in configurations(args.threads):
        if args.only and not any(name.startswith(o) for o in args.only):
            continue
        if args.device != "cpu":
            torch.cuda.reset_peak_memory_stats()
        median, low, high, peak, activity = measure(mode, model, T, density, B, args)
        results[name] = {"samples/s": median, "min": low, "max": high, "peak_MiB": peak,
                         "layer1_%": 100 * activity[0], "layer2_%": 100 * activity[1],
                         "readout_sd": activity[2]}
        print(f"{name:60s} {median:10.1f} samples/s  (min {low:.1f}, max {high:.1f}; "
              f"peak {'GPU ' if args.device != 'cpu' else 'RSS '}{peak:.0f} MiB; "
              f"hidden activity {100 * activity[0]:.2f}% / {100 * activity[1]:.2f}%, "
              f"readout sd {activity[2]:.3f})", flush=True)
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"torch": torch.__version__, "device": device_name, "blas": blas,
                       "results": results}, f, indent=1)
    if ours:
        print()
        print(f"PyTorch with {blas}")
        print(f"| {'benchmark':58s} | activity spikegrad | activity PyTorch "
              "| spikegrad samples/s | PyTorch samples/s | ratio |")
        print(f"|{'-' * 60}|---|---|---:|---:|---:|")
        for name, r in results.items():
            if name not in ours:
                continue
            mine, (a1, a2) = ours[name]
            theirs = f"{r['layer1_%']:.2f}% / {r['layer2_%']:.2f}%"
            own = f"{a1:.2f}% / {a2:.2f}%" if a1 is not None else "?"
            same = (a1 is not None and all(abs(a - b) <= 0.25 * max(b, 0.1) for a, b in
                                           ((a1, r["layer1_%"]), (a2, r["layer2_%"]))))
            print(f"| {name:58s} | {own} | {theirs}{'' if same else ' (differs!)'} | "
                  f"{mine:,.0f} | {r['samples/s']:,.1f} | {mine / r['samples/s']:,.1f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
