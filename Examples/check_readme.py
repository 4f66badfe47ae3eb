#!/usr/bin/env python3
"""Check that every code block README.md marks as compiled is the file it names.

A block is marked by an HTML comment naming a file on the line before its opening fence:

    <!-- compiled: Examples/QuickStart/Sources/QuickStart/main.swift -->
    ```swift
    ...
    ```

`make test` builds and runs that package, so the README cannot drift from code that compiles
and passes. Exit 0 when every marked block matches, 1 with a diff otherwise.
"""

import difflib
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MARKER = re.compile(r"^<!-- compiled: (\S+) -->$")


def main():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as handle:
        lines = handle.read().split("\n")
    checked = 0
    failures = 0
    for index, line in enumerate(lines):
        match = MARKER.match(line.strip())
        if not match:
            continue
        fence = lines[index + 1] if index + 1 < len(lines) else ""
        if not fence.startswith("```"):
            print(f"check-readme: README.md:{index + 1}: marker not followed by a code block")
            failures += 1
            continue
        end = next((j for j in range(index + 2, len(lines)) if lines[j].startswith("```")), None)
        if end is None:
            print(f"check-readme: README.md:{index + 2}: unterminated code block")
            failures += 1
            continue
        block = "\n".join(lines[index + 2:end]) + "\n"
        path = os.path.join(ROOT, match.group(1))
        with open(path, encoding="utf-8") as handle:
            source = handle.read()
        checked += 1
        if block != source:
            failures += 1
            print(f"check-readme: README.md:{index + 3} differs from {match.group(1)}:")
            sys.stdout.writelines(difflib.unified_diff(
                source.splitlines(True), block.splitlines(True), fromfile=match.group(1), tofile="README.md"))
    if checked == 0:
        print("check-readme: no compiled blocks found in README.md")
        return 1
    if failures:
        return 1
    print(f"check-readme: ok ({checked} block(s) match their files)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
