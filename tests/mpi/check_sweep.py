#!/usr/bin/env python3
"""A sweep on 2 MPI ranks writes the serial sweep's results, and a rerun resumes.

usage: check_sweep.py OUT MPIRUN... -- PROGRAM ARGS...

Runs PROGRAM ARGS serially into OUT/serial and as `MPIRUN 2 PROGRAM --mpi ARGS` into OUT/ranks2,
then checks that results.csv (every column but the wall-clock `seconds`), summary.csv and
accuracy.npy agree exactly. Then it deletes one run's row and its merged files and reruns on 2
ranks: only that run is trained again (the program says how many it skipped) and the merged
results are the same again.
"""
import csv
import os
import shutil
import subprocess
import sys


def fail(message):
    print("check_sweep: FAIL: " + message)
    sys.exit(1)


def run(command):
    print("$ " + " ".join(command), flush=True)
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            timeout=300)
    print(result.stdout[-3000:])
    if result.returncode != 0:
        fail("exit status %d" % result.returncode)
    return result.stdout


def table(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if len(rows) < 2:
        fail(path + ": no result rows")
    return rows


def without_seconds(rows):
    if "seconds" not in rows[0]:
        return rows
    k = rows[0].index("seconds")
    return [r[:k] + r[k + 1:] for r in rows]


def compare(a, b):
    ra, rb = table(os.path.join(a, "results.csv")), table(os.path.join(b, "results.csv"))
    if without_seconds(ra) != without_seconds(rb):
        fail("results.csv differs between %s and %s:\n%s\n%s" % (a, b, ra, rb))
    for name in ("summary.csv", "accuracy.npy"):
        with open(os.path.join(a, name), "rb") as fa, open(os.path.join(b, name), "rb") as fb:
            if fa.read() != fb.read():
                fail(name + " differs between %s and %s" % (a, b))
    return len(ra) - 1


def main():
    argv = sys.argv[1:]
    if "--" not in argv or len(argv) < 4:
        fail(__doc__)
    cut = argv.index("--")
    out, mpirun, program = argv[0], argv[1:cut], argv[cut + 1:]
    serial, ranks2 = os.path.join(out, "serial"), os.path.join(out, "ranks2")
    shutil.rmtree(out, ignore_errors=True)
    run(program[:1] + ["--out", serial] + program[1:])
    run(mpirun + ["2"] + program[:1] + ["--mpi", "--out", ranks2] + program[1:])
    rows = compare(serial, ranks2)
    runs = sorted(f for f in os.listdir(os.path.join(ranks2, "runs")) if f != "settings.json")
    if len(runs) != rows:
        fail("%d run rows in runs/ for %d results" % (len(runs), rows))

    # Resume: one run lost (a killed job), the merged files gone; the rerun trains only it.
    os.remove(os.path.join(ranks2, "runs", runs[-1]))
    for name in ("results.csv", "summary.csv", "accuracy.npy"):
        os.remove(os.path.join(ranks2, name))
    text = run(mpirun + ["2"] + program[:1] + ["--mpi", "--out", ranks2] + program[1:])
    if "%d runs were done already" % (rows - 1) not in text:
        fail("the rerun did not report skipping the %d finished runs" % (rows - 1))
    compare(serial, ranks2)
    print("check_sweep: %d runs, 2 ranks equal the serial sweep, resume reran 1 run" % rows)


if __name__ == "__main__":
    main()
