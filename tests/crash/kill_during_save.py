#!/usr/bin/env python3
"""Crash safety of checkpoints: start checkpoint_saver, SIGKILL it at a random moment, and
check that the file on disk is always one complete checkpoint (the one before the kill or a
newer one, never older, never damaged). Repeats `--kills` times.

usage: kill_during_save.py <checkpoint_saver> <scratch folder> [--kills 20] [--seed 1]
"""
import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import time


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("saver")
    parser.add_argument("folder")
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    shutil.rmtree(args.folder, ignore_errors=True)
    os.makedirs(args.folder)
    path = os.path.join(args.folder, "model.ckpt")

    subprocess.run([args.saver, "once", path], check=True)  # a first complete file
    last = 1
    interrupted = 0  # kills that left a temporary behind: they landed inside a write
    for kill in range(args.kills):
        saver = subprocess.Popen([args.saver, "save", path])
        time.sleep(rng.uniform(0.05, 0.6))
        saver.send_signal(signal.SIGKILL)
        saver.wait()
        if saver.returncode != -signal.SIGKILL:
            print(f"kill {kill}: the saver exited by itself with {saver.returncode}")
            return 1
        temporaries = [f for f in os.listdir(args.folder) if ".tmp." in f]
        interrupted += bool(temporaries)
        for f in temporaries:
            os.remove(os.path.join(args.folder, f))
        check = subprocess.run([args.saver, "check", path], capture_output=True, text=True)
        if check.returncode != 0:
            print(f"kill {kill}: the checkpoint on disk does not load: {check.stderr.strip()}")
            return 1
        n = int(check.stdout)
        if n < last:
            print(f"kill {kill}: the file went back from checkpoint {last} to {n}")
            return 1
        print(f"kill {kill}: {n - last} more saves; "
              f"file holds checkpoint {n}{' (killed mid-write)' if temporaries else ''}")
        last = n
    print(f"{args.kills} kills, {interrupted} inside a write; every file was a complete checkpoint")
    if interrupted == 0:
        print("no kill landed inside a write: the test proved nothing")
        return 1
    if last <= 1:
        print("the saver never completed a save")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
