#!/usr/bin/env python3
"""Enforce Strata's module DAG.

    Encoding <- VFS <- WAL <- Memtable <- SSTable <- Manifest <- Compaction <- Engine

Rules, checked against the evaluated manifest (`swift package dump-package`) and the `import`
lines of every Swift file under each target's folder in Modules/:

1. A chain module may declare as dependencies only chain modules to its left, external package
   products, and (Encoding only) the C system modules CLZ4, CZstd, CXXHash.
2. Every module a file imports must be declared by its target (directly), be a C module its
   target declares, or be a toolchain module (Foundation, Glibc, Synchronization, ...).
   In particular, no module may import a module to its right, and nothing but Encoding may
   import a C module.
3. The umbrella target `Strata` may depend on Engine only (and re-export it).
4. Every dependency a target declares is imported by at least one of its files: a declaration
   no import uses is a stale edge in the graph (and makes consumers build what they never use).
5. Capabilities are targets of their own beside the chain, each with the project modules it may
   use (CAPABILITIES). A chain module may use a capability only where ENGINE_MAY_USE allows
   (the Engine may use ObjectStore); nothing in the chain may use Server or ObjectStoreS3.
6. No chain module (nor ObjectStore) may depend on a networking package (NETWORK_PACKAGES): a
   team embedding Engine compiles no NIO, no HTTP, no gRPC.

Usage: check_dag.py [--root DIR] [--package-json FILE]
Exit status 0 when the tree obeys the rules, 1 with one line per violation otherwise.
"""

import argparse
import json
import os
import re
import subprocess
import sys

CHAIN = ["Encoding", "VFS", "WAL", "Memtable", "SSTable", "Manifest", "Compaction", "Engine"]
C_MODULES = {"CLZ4", "CZstd", "CXXHash"}
UMBRELLA = "Strata"
# Capability targets beside the chain, and the project targets each may depend on.
CAPABILITIES = {
    "ObjectStore": {"Encoding", "VFS"},
    "ObjectStoreS3": {"ObjectStore", "Encoding", "VFS"},
    "Server": set(CHAIN) | {"Strata", "ObjectStore", "ObjectStoreS3", "Tables"},
    "Tables": set(CHAIN) | {"Strata"},
}
# Capabilities a chain module may depend on.
ENGINE_MAY_USE = {"Engine": {"ObjectStore"}}
# Packages that bring networking (NIO, HTTP, gRPC): only the top capabilities may use them.
NETWORK_PACKAGES = {
    "swift-nio", "swift-nio-ssl", "swift-nio-http2", "swift-nio-extras", "swift-nio-transport-services",
    "grpc-swift-2", "grpc-swift-nio-transport", "grpc-swift-protobuf", "swift-protobuf", "async-http-client",
    "swift-service-lifecycle", "swift-prometheus",
}
NETWORK_ALLOWED = {"Server", "ObjectStoreS3"}
TOOLCHAIN_MODULES = {
    "Swift", "_Concurrency", "_StringProcessing", "Foundation", "FoundationEssentials",
    "Glibc", "Musl", "Darwin", "Android", "Dispatch", "Synchronization", "os",
}
IMPORT_LINE = re.compile(
    r"^\s*(?:@\w+(?:\([^)]*\))?\s+)*"                      # attributes: @_exported, @testable, @preconcurrency
    r"(?:(?:public|package|internal|fileprivate|private)\s+)?"
    r"import\s+(?:(?:typealias|struct|class|enum|protocol|let|var|func)\s+)?"
    r"([A-Za-z_][A-Za-z0-9_]*)"
)


def load_package(root, package_json):
    if package_json:
        with open(package_json) as handle:
            return json.load(handle)
    output = subprocess.run(
        ["swift", "package", "dump-package"], cwd=root, check=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    ).stdout
    return json.loads(output)


def declared_packages(target):
    """(product, package) for every external product a target declares."""
    pairs = []
    for dependency in target.get("dependencies", []):
        if "product" in dependency:
            product = dependency["product"]
            pairs.append((product[0], (product[1] or "").lower()))
    return pairs


def declared_dependencies(target):
    """Names of the targets and products a target declares."""
    names = set()
    for dependency in target.get("dependencies", []):
        for kind in ("byName", "target", "product"):
            if kind in dependency:
                names.add(dependency[kind][0])
    return names


def imports_in(folder):
    """Yield (path, line number, imported module) for every Swift file under folder."""
    for directory, _, files in os.walk(folder):
        for name in sorted(files):
            if not name.endswith(".swift"):
                continue
            path = os.path.join(directory, name)
            with open(path, encoding="utf-8") as handle:
                in_block_comment = False
                for number, line in enumerate(handle, 1):
                    stripped = line.strip()
                    if in_block_comment:
                        in_block_comment = "*/" not in stripped
                        continue
                    if stripped.startswith("/*"):
                        in_block_comment = "*/" not in stripped
                        continue
                    match = IMPORT_LINE.match(line)
                    if match:
                        yield path, number, match.group(1)


def check(root, package):
    violations = []
    targets = {target["name"]: target for target in package["targets"]}
    position = {name: index for index, name in enumerate(CHAIN)}

    for name, target in targets.items():
        if target.get("type") in ("test", "executable", "plugin", "macro"):
            continue
        path = target.get("path") or ""
        if not path.startswith("Modules/"):
            continue
        if target.get("type") in ("system", "system-target"):
            if name not in C_MODULES:
                violations.append(f"{name}: unexpected system module (allowed: {sorted(C_MODULES)})")
            continue
        if name not in position and name != UMBRELLA and name not in CAPABILITIES:
            violations.append(f"{name}: target under Modules/ is neither in the chain {CHAIN} nor a known capability {sorted(CAPABILITIES)}")
            continue

        declared = declared_dependencies(target)
        if name not in NETWORK_ALLOWED:
            for product, package_name in declared_packages(target):
                if package_name in NETWORK_PACKAGES:
                    violations.append(f"{name}: declares {product} from {package_name}; only {sorted(NETWORK_ALLOWED)} may use networking packages")
        for dependency in sorted(declared):
            if name in CAPABILITIES:
                if dependency in targets and dependency not in CAPABILITIES[name]:
                    violations.append(f"{name}: declares dependency on {dependency}; it may use only {sorted(CAPABILITIES[name])}")
                continue
            if dependency in CAPABILITIES:
                if dependency not in ENGINE_MAY_USE.get(name, set()):
                    violations.append(f"{name}: declares dependency on capability {dependency}, which no chain module but {sorted(ENGINE_MAY_USE)} may use")
                continue
            if name == UMBRELLA:
                if dependency != "Engine":
                    violations.append(f"{UMBRELLA}: may depend only on Engine, declares {dependency}")
                continue
            if dependency in C_MODULES:
                if name != "Encoding":
                    violations.append(f"{name}: declares C module {dependency}; only Encoding may use the C libraries")
            elif dependency in position:
                if position[dependency] >= position[name]:
                    violations.append(
                        f"{name}: declares dependency on {dependency}, which is not to its left in the chain")
            elif dependency in targets:
                violations.append(f"{name}: declares dependency on non-chain target {dependency}")

        imported = set()
        for path_, line, module in imports_in(os.path.join(root, path)):
            imported.add(module)
            where = f"{os.path.relpath(path_, root)}:{line}"
            if module in TOOLCHAIN_MODULES:
                continue
            if module == name:
                continue
            if module in position and name in position and position[module] > position[name]:
                violations.append(f"{where}: {name} imports {module}, which is to its right in the chain")
            elif module in CAPABILITIES and name in position and module not in ENGINE_MAY_USE.get(name, set()):
                violations.append(f"{where}: {name} imports capability {module}, which the chain may not use")
            elif module in C_MODULES and name != "Encoding":
                violations.append(f"{where}: {name} imports C module {module}; only Encoding may")
            elif module not in declared:
                violations.append(f"{where}: {name} imports {module} but does not declare it in Package.swift")
        for dependency in sorted(declared - imported):
            violations.append(f"{name}: declares dependency on {dependency}, but no file under {path} imports it")
    return violations


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=".", help="package root (default: current directory)")
    parser.add_argument("--package-json", help="use this dump-package output instead of running swift")
    arguments = parser.parse_args()
    package = load_package(arguments.root, arguments.package_json)
    violations = check(arguments.root, package)
    for violation in violations:
        print(f"check-dag: {violation}", file=sys.stderr)
    if violations:
        print(f"check-dag: {len(violations)} violation(s)", file=sys.stderr)
        return 1
    modules = [t["name"] for t in package["targets"] if (t.get("path") or "").startswith("Modules/")]
    print(f"check-dag: ok ({len(modules)} modules under Modules/ obey the chain)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
