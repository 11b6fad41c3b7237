#!/usr/bin/env python3
"""Every public header has its doc comments: a `/// \\file` comment at the top and a `///`
comment on every type at namespace scope (struct, class, enum). Exit status 1, naming each
header and type without one. Usage: check-docs.py include/spikegrad"""
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "include/spikegrad")
missing_file, missing_type = [], []
for header in sorted(root.rglob("*.hpp")):
    lines = header.read_text().splitlines()
    if not any(re.match(r"\s*///\s*[\\@]file\b", line) for line in lines[:5]):
        missing_file.append(str(header))
    for i, line in enumerate(lines):
        m = re.match(r"^(struct|class|enum class|enum|union)\s+([A-Za-z_]\w*)\b", line)
        if not m or line.rstrip().endswith(";"):
            continue  # not a type at namespace scope, or a forward declaration
        j = i - 1
        while j >= 0 and (lines[j].startswith("template") or lines[j].lstrip().startswith("requires")):
            j -= 1
        if j < 0 or not lines[j].lstrip().startswith("///"):
            missing_type.append(f"{header}:{i + 1}: {m.group(2)}")
print(f"check-docs: {len(missing_file)} headers without \\file, "
      f"{len(missing_type)} namespace-scope types without a /// comment")
for item in missing_file + missing_type:
    print("  " + item)
sys.exit(1 if missing_file or missing_type else 0)
