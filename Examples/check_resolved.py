#!/usr/bin/env python3
"""Check that a consumer package resolved only the packages Strata's libraries need.

Usage: check_resolved.py PACKAGE_DIR [ALLOWED ...]
Reads PACKAGE_DIR/Package.resolved and fails when it names a package outside the allowed set
(default: swift-log, swift-collections, swift-metrics).
"""

import json
import os
import sys

DEFAULT_ALLOWED = {"swift-log", "swift-collections", "swift-metrics"}


def main():
    directory = sys.argv[1]
    allowed = set(sys.argv[2:]) or DEFAULT_ALLOWED
    path = os.path.join(directory, "Package.resolved")
    if not os.path.exists(path):
        identities = set()  # nothing remote resolved at all
    else:
        with open(path, encoding="utf-8") as handle:
            identities = {pin["identity"] for pin in json.load(handle).get("pins", [])}
    extra = sorted(identities - allowed)
    if extra:
        print(f"check-resolved: {directory} resolved packages the library does not need: {', '.join(extra)}")
        return 1
    print(f"check-resolved: ok ({directory} resolved {', '.join(sorted(identities)) or 'nothing remote'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
