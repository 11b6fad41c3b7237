#!/usr/bin/env python3
"""Runs gradient_dump on a golden case and compares its .npy output with the PyTorch reference
(norm-wise relative error <= 2e-4, the float32 bound of docs/engine.md).

Usage: check_gradient_dump.py GRADIENT_DUMP GOLDEN_CASE_DIR LOSS [extra gradient_dump args...]
"""
import os
import re
import subprocess
import sys
import tempfile

import numpy as np


def main():
    tool, case, loss, extra = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    with tempfile.TemporaryDirectory() as out:
        cmd = [tool, "--params", case, "--input", os.path.join(case, "X.npy"),
               "--labels", os.path.join(case, "y.npy"), "--loss", loss, "--out", out] + extra
        subprocess.run(cmd, check=True)
        gradient = re.compile(r"^d(W|b|d|tau)[0-9]+\.npy$")
        expected = sorted(f for f in os.listdir(case) if gradient.match(f))
        expected += ["loss.npy", "readout.npy"]
        worst = 0.0
        for name in expected:
            ours = np.load(os.path.join(out, name))
            ref = np.load(os.path.join(case, name))
            if ours.shape != ref.shape:
                sys.exit(f"{name}: shape {ours.shape}, reference {ref.shape}")
            if ours.dtype != np.float32:
                sys.exit(f"{name}: dtype {ours.dtype}, the contract says float32")
            err = np.linalg.norm(ours.astype(np.float64) - ref) / max(np.linalg.norm(ref), 1e-30)
            worst = max(worst, err)
            print(f"{name:14s} relative error {err:.2e}")
        if worst > 2e-4:
            sys.exit(f"worst relative error {worst:.2e} > 2e-4")
        print("gradient_dump matches the PyTorch reference")


if __name__ == "__main__":
    main()
