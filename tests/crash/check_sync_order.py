#!/usr/bin/env python3
"""write_atomically's system calls, as strace sees them, come in the order that makes a save
durable: create the temporary, fsync it, rename it over the target, fsync the folder.

usage: check_sync_order.py <strace> <checkpoint_saver> <scratch folder>
"""
import os
import re
import shutil
import subprocess
import sys


def main():
    strace, saver, folder = sys.argv[1:4]
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    path = os.path.join(folder, "model.ckpt")
    run = subprocess.run([strace, "-e", "trace=openat,fsync,rename,renameat,renameat2", saver,
                          "once", path], capture_output=True, text=True)
    if run.returncode != 0:
        print(run.stderr)
        return 1
    lines = [l for l in run.stderr.splitlines() if folder in l or l.startswith("fsync")]
    events, fds = [], {}
    for line in lines:
        if m := re.match(r'openat\(AT_FDCWD, "([^"]+)", ([A-Z_|]+).*= (\d+)', line):
            name, flags, fd = m.groups()
            fds[fd] = name
            kind = "folder" if "O_DIRECTORY" in flags else ("create" if "O_CREAT" in flags else "open")
            events.append((kind, name))
        elif m := re.match(r"fsync\((\d+)\)\s+= 0", line):
            events.append(("fsync", fds.get(m.group(1), "?")))
        elif m := re.match(r'rename(?:at2?)?\(.*"([^"]+)",.*"([^"]+)".*= 0', line):
            events.append(("rename", m.group(1) + " -> " + m.group(2)))
    for e in events:
        print(*e)
    temporary = next((n for k, n in events if k == "create" and ".tmp." in n), None)
    expected = [("create", temporary), ("fsync", temporary),
                ("rename", f"{temporary} -> {path}"), ("folder", folder), ("fsync", folder)]
    position = 0
    for e in events:
        if position < len(expected) and e == expected[position]:
            position += 1
    if temporary is None or position < len(expected):
        print(f"missing or out of order from step {position}: {expected[position:]}")
        return 1
    print("create, fsync, rename, fsync(folder): in order")
    return 0


if __name__ == "__main__":
    sys.exit(main())
