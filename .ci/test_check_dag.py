#!/usr/bin/env python3
"""Tests for check_dag.py: feed it a fake package tree and show it catches each kind of violation.

The fake tree is a real Swift package (its manifest is evaluated by `swift package dump-package`
once per manifest variant), so the test covers the manifest parsing as well as the import scan.
"""

import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
CHECKER = os.path.join(HERE, "check_dag.py")

MANIFEST = """// swift-tools-version: 6.0
import PackageDescription
let package = Package(
    name: "Fake",
    dependencies: [.package(url: "https://github.com/apple/swift-nio", from: "2.0.0")],
    targets: [
        .systemLibrary(name: "CLZ4", path: "Modules/CLZ4"),
        .target(name: "Encoding", dependencies: ["CLZ4"], path: "Modules/Encoding"),
        .target(name: "VFS", dependencies: ["Encoding"], path: "Modules/VFS"),
        .target(name: "WAL", dependencies: [WAL_DEPENDENCIES], path: "Modules/WAL"),
        .target(name: "Engine", dependencies: ["WAL", "VFS", "Encoding"], path: "Modules/Engine"),
        .target(name: "Server", dependencies: [SERVER_DEPENDENCIES], path: "Modules/Server"),
    ]
)
"""

SOURCES = {
    "Modules/CLZ4/module.modulemap": 'module CLZ4 [system] { header "shim.h" link "lz4" export * }\n',
    "Modules/CLZ4/shim.h": "#include <lz4.h>\n",
    "Modules/Encoding/Codec.swift": "internal import CLZ4\nimport Glibc\npublic struct Codec {}\n",
    "Modules/VFS/FS.swift": "import Encoding\nimport Synchronization\npublic struct FS {}\n",
    "Modules/WAL/Log.swift": "import Encoding\nimport VFS\n/* import Engine (in a comment: ignored) */\npublic struct Log {}\n",
    "Modules/Engine/DB.swift": "@_exported import WAL\nimport VFS\nimport Encoding\npublic struct DB {}\n",
    "Modules/Server/Service.swift": "import Engine\npublic struct Service {}\n",
}


class FakeTree:
    def __init__(self, wal_dependencies='"Encoding", "VFS"', server_dependencies='"Engine"'):
        self.directory = tempfile.TemporaryDirectory(prefix="strata-dag-")
        self.root = self.directory.name
        self.write("Package.swift", MANIFEST.replace("WAL_DEPENDENCIES", wal_dependencies).replace("SERVER_DEPENDENCIES", server_dependencies))
        for path, text in SOURCES.items():
            self.write(path, text)
        dump = subprocess.run(["swift", "package", "dump-package"], cwd=self.root, check=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True).stdout
        self.package_json = os.path.join(self.root, "package.json")
        with open(self.package_json, "w") as handle:
            handle.write(dump)

    def write(self, relative, text):
        path = os.path.join(self.root, relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as handle:
            handle.write(text)

    def check(self):
        result = subprocess.run([sys.executable, CHECKER, "--root", self.root, "--package-json", self.package_json],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        return result.returncode, result.stderr


class CheckDagTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tree = FakeTree()

    def setUp(self):
        for path, text in SOURCES.items():
            self.tree.write(path, text)

    def test_a_correct_tree_passes(self):
        code, errors = self.tree.check()
        self.assertEqual(code, 0, errors)

    def test_importing_a_module_to_the_right_fails(self):
        self.tree.write("Modules/WAL/Bad.swift", "import Engine\n")
        code, errors = self.tree.check()
        self.assertEqual(code, 1)
        self.assertIn("Modules/WAL/Bad.swift:1: WAL imports Engine, which is to its right", errors)

    def test_importing_an_undeclared_module_to_the_left_fails(self):
        self.tree.write("Modules/VFS/FS.swift", "import Encoding\nimport CLZ4\n")
        self.tree.write("Modules/Engine/DB.swift", "import WAL\nimport Memtable\n")
        code, errors = self.tree.check()
        self.assertEqual(code, 1)
        self.assertIn("VFS imports C module CLZ4; only Encoding may", errors)
        self.assertIn("Engine imports Memtable but does not declare it", errors)

    def test_access_level_and_attribute_imports_are_seen(self):
        self.tree.write("Modules/VFS/More.swift", "package import WAL\n@preconcurrency public import Engine\n")
        code, errors = self.tree.check()
        self.assertEqual(code, 1)
        self.assertIn("VFS imports WAL, which is to its right", errors)
        self.assertIn("VFS imports Engine, which is to its right", errors)

    def test_a_manifest_dependency_to_the_right_fails(self):
        tree = FakeTree(wal_dependencies='"Encoding", "VFS", "Engine"')
        code, errors = tree.check()
        self.assertEqual(code, 1)
        self.assertIn("WAL: declares dependency on Engine, which is not to its left", errors)

    def test_a_declared_dependency_that_no_file_imports_fails(self):
        tree = FakeTree(wal_dependencies='"Encoding", "VFS", "CLZ4"')
        tree.write("Modules/WAL/Log.swift", "import Encoding\nimport VFS\n")
        code, errors = tree.check()
        self.assertEqual(code, 1)
        self.assertIn("WAL: declares C module CLZ4", errors)
        self.assertIn("WAL: declares dependency on CLZ4, but no file under Modules/WAL imports it", errors)
        tree.write("Modules/Engine/DB.swift", "import WAL\nimport Encoding\n")
        code, errors = tree.check()
        self.assertIn("Engine: declares dependency on VFS, but no file under Modules/Engine imports it", errors)

    def test_the_chain_may_not_use_the_server(self):
        tree = FakeTree(wal_dependencies='"Encoding", "VFS", "Server"')
        tree.write("Modules/Engine/Remote.swift", "import Server\n")
        code, errors = tree.check()
        self.assertEqual(code, 1)
        self.assertIn("WAL: declares dependency on capability Server", errors)
        self.assertIn("Modules/Engine/Remote.swift:1: Engine imports capability Server", errors)

    def test_networking_packages_stay_out_of_the_chain(self):
        tree = FakeTree(wal_dependencies='"Encoding", "VFS", .product(name: "NIOCore", package: "swift-nio")',
                        server_dependencies='"Engine", .product(name: "NIOCore", package: "swift-nio")')
        tree.write("Modules/WAL/Net.swift", "import NIOCore\n")
        tree.write("Modules/Server/Net.swift", "import NIOCore\n")
        code, errors = tree.check()
        self.assertEqual(code, 1)
        self.assertIn("WAL: declares NIOCore from swift-nio; only", errors)
        self.assertNotIn("Server: declares NIOCore", errors)

    def test_a_capability_uses_only_what_it_is_allowed(self):
        tree = FakeTree(server_dependencies='"Engine", "CLZ4"')
        tree.write("Modules/Server/C.swift", "import CLZ4\n")
        code, errors = tree.check()
        self.assertEqual(code, 1)
        self.assertIn("Server: declares dependency on CLZ4; it may use only", errors)

    def test_an_unknown_target_under_modules_fails(self):
        manifest = MANIFEST.replace("WAL_DEPENDENCIES", '"Encoding", "VFS"').replace("SERVER_DEPENDENCIES", '"Engine"')
        manifest = manifest.replace('        .target(name: "Server"', '        .target(name: "Stray", path: "Modules/Stray"),\n        .target(name: "Server"')
        tree = FakeTree()
        tree.write("Package.swift", manifest)
        tree.write("Modules/Stray/Stray.swift", "public struct Stray {}\n")
        dump = subprocess.run(["swift", "package", "dump-package"], cwd=tree.root, check=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True).stdout
        with open(tree.package_json, "w") as handle:
            handle.write(dump)
        code, errors = tree.check()
        self.assertEqual(code, 1)
        self.assertIn("Stray: target under Modules/ is neither in the chain", errors)


if __name__ == "__main__":
    unittest.main()
