#!/usr/bin/env python3
"""Draws a training history (the *_history.csv a trainer writes) as an SVG: accuracy, and each
spiking layer's firing rate and silent fraction over epochs. Standard library only.

usage: plot_history.py OUT.svg LABEL=HISTORY.csv [LABEL=HISTORY.csv ...]
"""
import csv
import math
import sys

COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]


def read(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        sys.exit(f"{path}: no epochs")
    return rows


def panel(x0, y0, w, h, title, ylabel, series, ymax):
    out = [f'<g transform="translate({x0},{y0})">',
           f'<rect x="0" y="0" width="{w}" height="{h}" fill="none" stroke="#333"/>',
           f'<text x="{w / 2}" y="-8" text-anchor="middle" font-size="13">{title}</text>',
           f'<text x="-38" y="{h / 2}" font-size="11" transform="rotate(-90,-38,{h / 2})" '
           f'text-anchor="middle">{ylabel}</text>',
           f'<text x="{w / 2}" y="{h + 30}" text-anchor="middle" font-size="11">epoch</text>']
    n = max(len(ys) for _, ys, _, _ in series)
    for k in range(5):
        v = ymax * k / 4
        y = h - h * k / 4
        out.append(f'<text x="-4" y="{y + 4}" text-anchor="end" font-size="10">{v:g}</text>')
        out.append(f'<line x1="0" x2="{w}" y1="{y}" y2="{y}" stroke="#ddd"/>')
    for e in (1, n):
        x = w * (e - 1) / max(1, n - 1)
        out.append(f'<text x="{x}" y="{h + 14}" text-anchor="middle" font-size="10">{e}</text>')
    for i, (label, ys, colour, dash) in enumerate(series):
        pts = " ".join(f"{w * k / max(1, n - 1):.1f},{h - h * min(y, ymax) / ymax:.1f}"
                       for k, y in enumerate(ys))
        dashes = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="1.6"{dashes}/>')
        out.append(f'<text x="{w - 6}" y="{16 + 14 * i}" text-anchor="end" font-size="10" '
                   f'fill="{colour}">{label}</text>')
    out.append("</g>")
    return out


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    runs = [(a.split("=", 1)[0], read(a.split("=", 1)[1])) for a in sys.argv[2:]]
    acc, rate, silent = [], [], []
    for r, (label, rows) in enumerate(runs):
        c = COLOURS[r % len(COLOURS)]
        acc.append((f"{label} train", [100 * float(x["train_accuracy"]) for x in rows], c, ""))
        acc.append((f"{label} validation", [100 * float(x["validation_accuracy"]) for x in rows], c, "4,3"))
        layers = sorted({k.split("_")[0] for k in rows[0] if k.endswith("_rate")})
        for j, layer in enumerate(layers):
            dash = ["", "4,3", "1,2"][j % 3]
            rate.append((f"{label} {layer}", [100 * float(x[layer + "_rate"]) for x in rows], c, dash))
            silent.append((f"{label} {layer}", [100 * float(x[layer + "_silent"]) for x in rows], c, dash))
    top = max(max(ys) for _, ys, _, _ in rate) if rate else 10
    w, h = 300, 220
    svg = ['<svg xmlns="http://www.w3.org/2000/svg" width="1100" height="300" font-family="sans-serif">',
           '<rect width="100%" height="100%" fill="white"/>']
    svg += panel(60, 35, w, h, "accuracy", "%", acc, 100)
    svg += panel(420, 35, w, h, "hidden firing rate", "% of neuron-steps", rate, float(max(1, math.ceil(1.25 * top))))
    svg += panel(780, 35, w, h, "silent hidden neurons", "% of neurons", silent, 100)
    svg.append("</svg>")
    with open(sys.argv[1], "w") as f:
        f.write("\n".join(svg) + "\n")


if __name__ == "__main__":
    main()
