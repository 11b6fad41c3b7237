#!/usr/bin/env python3
"""Regenerates the golden files into a temporary folder with make_golden.py and checks that they
equal the committed ones (so the committed files are what the script produces)."""
import os
import subprocess
import sys
import tempfile

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
committed = os.path.join(here, "golden")
with tempfile.TemporaryDirectory() as scratch:
    fresh = os.path.join(scratch, "golden")
    subprocess.run([sys.executable, os.path.join(here, "make_golden.py"), "--out", fresh], check=True)
    problems = 0
    for case in sorted(os.listdir(committed)):
        for name in sorted(os.listdir(os.path.join(committed, case))):
            a = os.path.join(committed, case, name)
            b = os.path.join(fresh, case, name)
            if not os.path.exists(b):
                print(f"{case}/{name}: not produced by make_golden.py")
                problems += 1
            elif name.endswith(".npy"):
                x, y = np.load(a), np.load(b)
                if x.shape != y.shape or not np.allclose(x, y, rtol=1e-12, atol=1e-15):
                    print(f"{case}/{name}: differs from the script's output")
                    problems += 1
            elif open(a).read() != open(b).read():
                print(f"{case}/{name}: differs from the script's output")
                problems += 1
    if problems:
        sys.exit(f"{problems} golden files differ: rerun tests/reference/make_golden.py")
    print("the committed golden files are what make_golden.py produces")
