#!/usr/bin/env python3
"""gradient_dump given a d0.npy holding a negative delay (and one holding NaN) exits with the
loader's message naming layer0.delay[3] and the value, not a crash (it once died with SIGSEGV).

Usage: check_bad_delay.py GRADIENT_DUMP GOLDEN_CASE_DIR SCRATCH_DIR
"""
import os
import shutil
import subprocess
import sys

import numpy as np


def main():
    tool, case, scratch = sys.argv[1:4]
    failures = 0
    for value, expected in ((-0.5, "layer0.delay[3] = -0.5 is outside [0, 6]"),
                            (float("nan"), "layer0.delay[3] is nan")):
        params = os.path.join(scratch, f"params_{value}")
        shutil.rmtree(params, ignore_errors=True)
        shutil.copytree(case, params)
        d0 = np.load(os.path.join(params, "d0.npy"))
        d0[3] = value
        np.save(os.path.join(params, "d0.npy"), d0)
        run = subprocess.run([tool, "--params", params, "--input", os.path.join(case, "X.npy"),
                              "--labels", os.path.join(case, "y.npy"), "--loss", "ce_final",
                              "--delay", "shift", "--max-delay", "6",
                              "--out", os.path.join(scratch, "out")],
                             capture_output=True, text=True)
        message = (run.stdout + run.stderr).strip()
        print(f"d0[3] = {value}: exit {run.returncode}: {message.splitlines()[-1] if message else ''}")
        if run.returncode <= 0 or expected not in message:
            print(f"  expected a nonzero exit with '{expected}'")
            failures += 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
