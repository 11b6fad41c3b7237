#!/usr/bin/env python3
"""Two separate processes training on the same seeds and thread count write bit-identical
parameters (no dependence on addresses, uninitialised memory or process state).

usage: same_in_two_processes.py <train_fixed> <scratch folder> [--threads 2]
"""
import argparse
import os
import subprocess
import sys


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("program")
    parser.add_argument("folder")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    os.makedirs(args.folder, exist_ok=True)
    outputs = []
    for run in range(2):
        out = os.path.join(args.folder, f"parameters_{args.threads}_{run}.bin")
        if os.path.exists(out):
            os.remove(out)
        subprocess.run([args.program, str(args.threads), out], check=True)
        with open(out, "rb") as f:
            outputs.append(f.read())
    if not outputs[0]:
        print("no parameters written")
        return 1
    if outputs[0] != outputs[1]:
        differing = sum(a != b for a, b in zip(outputs[0], outputs[1]))
        print(f"the two processes differ in {differing} of {len(outputs[0])} bytes")
        return 1
    print(f"two processes, {args.threads} threads: {len(outputs[0])} bytes of parameters, identical")
    return 0


if __name__ == "__main__":
    sys.exit(main())
