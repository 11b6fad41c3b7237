#!/usr/bin/env python3
"""Runs an example program at a tiny size and checks what it wrote.

Usage: check_run.py OUT_DIR --expect FILE[:col1,col2,...[:min_rows]] ...
                    [--min-accuracy CSV:COLUMN:COL=VALUE[,COL=VALUE...]:THRESHOLD]
                    [--max-accuracy CSV:COLUMN:CONDITION:THRESHOLD]
                    [--greater CSV:COLUMN_A:CONDITION_A:COLUMN_B:CONDITION_B:MARGIN] -- PROGRAM ARGS...

Every expected file must exist; .csv files must parse with the csv module, have the listed
columns and at least min_rows rows (exactly N rows when written =N); .svg files must parse as
XML with an <svg> root and contain no NaN/inf coordinates; .json files must parse; .npy files
must load with NumPy. --min-accuracy / --max-accuracy bound the mean of COLUMN over the rows
that match CONDITION; --greater requires mean(COLUMN_A | CONDITION_A) >= mean(COLUMN_B |
CONDITION_B) + MARGIN (e.g. SGD-delay above SGD on the same runs).
"""
import csv
import json
import math
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np


def fail(message):
    sys.exit(f"check_run: {message}")


def check_csv(path, columns, min_rows):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    header = rows[0].keys() if rows else []
    for c in columns:
        if c and c not in header:
            fail(f"{path}: no column '{c}' (has {list(header)})")
    if isinstance(min_rows, str) and min_rows.startswith("="):
        if len(rows) != int(min_rows[1:]):
            fail(f"{path}: {len(rows)} rows, expected exactly {min_rows[1:]}")
    elif len(rows) < int(min_rows):
        fail(f"{path}: {len(rows)} rows, expected at least {min_rows}")
    return rows


def check_svg(path):
    root = ET.parse(path).getroot()
    if not root.tag.endswith("svg"):
        fail(f"{path}: root element is {root.tag}")
    text = open(path).read()
    for bad in ("nan", "inf"):
        for attr in ('x="', 'y="', 'd="', 'cx="', 'cy="', 'width="', 'height="'):
            if attr + bad in text.lower():
                fail(f"{path}: non-finite coordinate ({attr}{bad})")
    if sum(1 for _ in root.iter()) < 5:
        fail(f"{path}: the figure is (nearly) empty")


def matches(cell, value):
    """Numeric cells compare as numbers, others as text."""
    try:
        return math.isclose(float(cell), float(value))
    except ValueError:
        return cell == value


def mean_of(out, csv_name, column, condition):
    """Mean of COLUMN over the rows of CSV that match every COL=VALUE of CONDITION."""
    wanted = [c.split("=") for c in condition.split(",")]
    rows = check_csv(os.path.join(out, csv_name), [column] + [k for k, _ in wanted], 1)
    picked = [float(r[column]) for r in rows if all(matches(r[k], v) for k, v in wanted)]
    if not picked:
        fail(f"{csv_name}: no row with {condition}")
    return sum(picked) / len(picked)


def main():
    argv = sys.argv[1:]
    if "--" not in argv:
        fail("missing -- PROGRAM")
    split = argv.index("--")
    options, command = argv[:split], argv[split + 1:]
    out = options[0]
    expects, accuracy_checks, max_checks, greater_checks = [], [], [], []
    k = 1
    while k < len(options):
        if options[k] == "--expect":
            expects.append(options[k + 1])
        elif options[k] == "--min-accuracy":
            accuracy_checks.append(options[k + 1])
        elif options[k] == "--max-accuracy":
            max_checks.append(options[k + 1])
        elif options[k] == "--greater":
            greater_checks.append(options[k + 1])
        else:
            fail(f"unknown option {options[k]}")
        k += 2
    shutil.rmtree(out, ignore_errors=True)
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    print(result.stdout[-4000:])
    if result.returncode != 0:
        fail(f"{command[0]} exited with {result.returncode}")
    for spec in expects:
        parts = spec.split(":")
        path = os.path.join(out, parts[0])
        if not os.path.isfile(path):
            fail(f"{path} was not written")
        if path.endswith(".csv"):
            columns = parts[1].split(",") if len(parts) > 1 else []
            check_csv(path, columns, parts[2] if len(parts) > 2 else 1)
        elif path.endswith(".svg"):
            check_svg(path)
        elif path.endswith(".json"):
            json.load(open(path))
        elif path.endswith(".npy"):
            a = np.load(path)
            if not np.all(np.isfinite(a)):
                fail(f"{path}: non-finite values")
    for spec in accuracy_checks:
        csv_name, column, condition, threshold = spec.split(":")
        mean = mean_of(out, csv_name, column, condition)
        if mean < float(threshold):
            fail(f"{csv_name}: mean {column} at {condition} is {mean:.3f} < {threshold}")
        print(f"check_run: mean {column} at {condition} = {mean:.3f} >= {threshold}")
    for spec in max_checks:
        csv_name, column, condition, threshold = spec.split(":")
        mean = mean_of(out, csv_name, column, condition)
        if mean > float(threshold):
            fail(f"{csv_name}: mean {column} at {condition} is {mean:.3f} > {threshold}")
        print(f"check_run: mean {column} at {condition} = {mean:.3f} <= {threshold}")
    for spec in greater_checks:
        csv_name, column_a, condition_a, column_b, condition_b, margin = spec.split(":")
        a = mean_of(out, csv_name, column_a, condition_a)
        b = mean_of(out, csv_name, column_b, condition_b)
        if a < b + float(margin):
            fail(f"{csv_name}: mean {column_a} at {condition_a} is {a:.3f}, not {margin} above "
                 f"mean {column_b} at {condition_b} ({b:.3f})")
        print(f"check_run: mean {column_a} at {condition_a} = {a:.3f} >= "
              f"mean {column_b} at {condition_b} = {b:.3f} + {margin}")
    print(f"check_run: {command[0]} wrote every expected file")


if __name__ == "__main__":
    main()
