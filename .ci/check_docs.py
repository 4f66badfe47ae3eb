#!/usr/bin/env python3
"""Every public declaration under Modules/ carries a `///` documentation comment.

A declaration is a line that starts (after attributes such as `@inlinable`) with `public` —
types, members, extensions' members — excluding `public import`. Its documentation is the run
of `///` lines directly above it, attributes and `#if`/`#else`/`#endif` lines in between
allowed. `public extension` blocks themselves are not symbols and are skipped.

Code generated from Protos/ (folders named `Generated`) is skipped: its documentation is the
.proto's comments, which the generator copies onto the messages and methods.

Usage: check_docs.py [--root DIR]. Exit 0 when every public declaration is documented, 1 with
one line per undocumented declaration otherwise.
"""

import argparse
import os
import re
import sys

DECLARATION = re.compile(r"^\s*(?:@[A-Za-z_]+(?:\([^)]*\))?\s+)*public\s+(?!import\b)(?!extension\b)")
ATTRIBUTE = re.compile(r"^\s*@[A-Za-z_]+(?:\([^)]*\))?\s*$")
CONDITIONAL = re.compile(r"^\s*#(if|else|elseif|endif)\b")


def undocumented(path):
    with open(path, encoding="utf-8") as handle:
        lines = handle.read().split("\n")
    for number, line in enumerate(lines):
        if not DECLARATION.match(line):
            continue
        above = number - 1
        while above >= 0 and (ATTRIBUTE.match(lines[above]) or CONDITIONAL.match(lines[above])):
            above -= 1
        if above >= 0 and lines[above].strip().startswith("///"):
            continue
        # A `*/` closing a `/** … */` block also counts.
        if above >= 0 and lines[above].strip().endswith("*/") and "/**" in "\n".join(lines[max(0, above - 40):above + 1]):
            continue
        yield number + 1, line.strip()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=".")
    arguments = parser.parse_args()
    modules = os.path.join(arguments.root, "Modules")
    missing = 0
    checked = 0
    for directory, subdirectories, files in os.walk(modules):
        subdirectories[:] = [name for name in subdirectories if name != "Generated"]
        for name in sorted(files):
            if not name.endswith(".swift"):
                continue
            path = os.path.join(directory, name)
            with open(path, encoding="utf-8") as handle:
                checked += sum(1 for line in handle if DECLARATION.match(line))
            for number, line in undocumented(path):
                print(f"check-docs: {os.path.relpath(path, arguments.root)}:{number}: public declaration without a /// comment: {line[:100]}")
                missing += 1
    if missing:
        print(f"check-docs: {missing} of {checked} public declarations undocumented")
        return 1
    print(f"check-docs: ok ({checked} public declarations documented)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
