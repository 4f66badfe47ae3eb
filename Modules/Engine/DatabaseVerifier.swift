import Encoding
import Manifest
import SSTable
import VFS
import WAL

/// Checks every byte of a database without changing it: the manifest and its invariants, every
/// live table (footer, meta blocks, every data block's checksum and key order, entry and block
/// counts) and every WAL segment still needed.
///
/// It takes no lock and writes nothing, so it may run while another process has the database
/// open: when that process replaces the manifest or deletes a table mid-check, the check starts
/// over on the new state (a few times at most).
public enum DatabaseVerifier {
    /// One problem found.
    public struct Problem: Sendable, Equatable, CustomStringConvertible {
        /// The damaged file.
        public var file: String
        /// Where in it (0 when not known).
        public var offset: Int
        /// What is wrong.
        public var reason: String
        /// `false` for something recovery handles (a torn WAL tail, a leftover file).
        public var isDamage: Bool

        /// A one-line, human-readable description.
        public var description: String { "\(isDamage ? "DAMAGED" : "note"): \(file) at offset \(offset): \(reason)" }

        /// Whether the problem is what a concurrent writer's file changes look like (a file gone,
        /// a log segment shorter than a moment ago), rather than damage for certain.
        var mayBeARace: Bool {
            reason.contains("missing") || reason.contains("shrank while being read") || reason.contains("No such file")
        }
    }

    /// What was checked and found.
    public struct Report: Sendable {
        /// Tables checked, damaged ones included.
        public var tables = 0
        /// Data blocks read and checked.
        public var blocks = 0
        /// Point entries in the tables checked.
        public var entries: UInt64 = 0
        /// WAL segments checked.
        public var walSegments = 0
        /// WAL records read and decoded.
        public var walRecords = 0
        /// Manifest edits replayed.
        public var manifestEdits = 0
        /// Problems, damage first.
        public var problems: [Problem] = []

        /// `true` when nothing is damaged (notes allowed).
        public var isHealthy: Bool { !problems.contains { $0.isDamage } }
    }

    /// Verifies the database in `path`.
    ///
    /// - Throws: nothing today; failures are reported as problems.
    public static func verify(path: String, fileSystem: any FileSystem = PosixFileSystem()) throws -> Report {
        var attempt = 0
        while true {
            let before = try? DatabaseFiles.readCurrent(directory: path, fileSystem: fileSystem)
            let report = try verifyOnce(path: path, fileSystem: fileSystem)
            let after = try? DatabaseFiles.readCurrent(directory: path, fileSystem: fileSystem)
            // A writer switched manifests, deleted a file or trimmed a log segment while we read:
            // check the new state rather than report the race as damage.
            let raced = before != after || report.problems.contains { $0.isDamage && $0.mayBeARace }
            if report.isHealthy || !raced || attempt >= 5 { return report }
            attempt += 1
        }
    }

    private static func verifyOnce(path: String, fileSystem: any FileSystem) throws -> Report {
        var report = Report()
        let summary: ManifestReader.Summary
        do {
            summary = try ManifestReader.summary(directory: path, fileSystem: fileSystem)
            report.manifestEdits = summary.edits
            try summary.version.checkInvariants(file: Path.join(path, DatabaseFiles.manifest(summary.manifestNumber)))
        } catch {
            report.problems.append(problem(error, fallbackFile: Path.join(path, DatabaseFiles.current)))
            return report
        }

        let live = Set(summary.version.allFileNumbers)
        let manifestPath = Path.join(path, DatabaseFiles.manifest(summary.manifestNumber))
        for file in summary.version.allFiles {
            let tablePath = Path.join(path, DatabaseFiles.tableName(file.fileNumber))
            guard fileSystem.exists(tablePath) else {
                report.problems.append(Problem(file: manifestPath, offset: 0, reason: "lists live table \(file.fileNumber), but \(tablePath) is missing", isDamage: true))
                continue
            }
            report.tables += 1
            var checked = TableVerification()
            do {
                let size = try fileSystem.fileSize(tablePath)
                if size != file.fileSize {
                    report.problems.append(Problem(file: tablePath, offset: Int(clamping: size), reason: "table is \(size) bytes, the manifest recorded \(file.fileSize)", isDamage: true))
                    continue
                }
                let reader = try TableReader.open(path: tablePath, fileNumber: file.fileNumber, fileSystem: fileSystem)
                try reader.verifyBlocks(&checked)
            } catch {
                report.problems.append(problem(error, fallbackFile: tablePath))
            }
            report.blocks += checked.blocks
            report.entries += checked.entries
        }

        do {
            let segments = try WALSegment.list(in: path, fileSystem: fileSystem, from: summary.logNumber)
            for (index, segment) in segments.enumerated() {
                do {
                    let result = try WALReader.replay(
                        segments: [segment], databaseID: summary.databaseID, fileSystem: fileSystem,
                        mode: index == segments.count - 1 ? .tolerateTornTail : .absoluteConsistency
                    ) { payload, location in
                        _ = try WriteBatch(decoding: payload, file: segment.path, offset: Int(location.offset))
                    }
                    report.walSegments += 1
                    report.walRecords += result.records
                    if let torn = result.tornTail {
                        report.problems.append(Problem(
                            file: torn.file, offset: Int(torn.offset),
                            reason: "torn tail (\(torn.droppedBytes) bytes): \(torn.reason); recovery drops it", isDamage: false))
                    }
                } catch {
                    report.problems.append(problem(error, fallbackFile: segment.path))
                }
            }
        } catch StrataError.corruption(_, _, let reason) {
            report.problems.append(Problem(file: manifestPath, offset: 0, reason: "needs the WAL from segment \(summary.logNumber) on, but \(reason)", isDamage: true))
        } catch {
            report.problems.append(problem(error, fallbackFile: path))
        }

        for name in (try? fileSystem.listDirectory(path)) ?? [] {
            if case .table(let number)? = DatabaseFiles.kind(of: name), !live.contains(number) {
                report.problems.append(Problem(file: Path.join(path, name), offset: 0, reason: "table not referenced by the manifest (deleted at the next open)", isDamage: false))
            }
        }
        if let torn = summary.tornTail {
            // A cut last edit is what a crash during a manifest append leaves, and harmless; but
            // if the version before it misses files, the manifest itself is damaged.
            let missing = report.problems.contains { $0.isDamage && $0.file == manifestPath }
            report.problems.append(Problem(
                file: manifestPath, offset: Int(torn.offset),
                reason: "manifest ends early (\(torn.reason))" + (missing ? "; the version before that point misses files" : "; recovery drops the unfinished edit"),
                isDamage: missing))
        }
        report.problems.sort { $0.isDamage && !$1.isDamage }
        return report
    }

    private static func problem(_ error: any Error, fallbackFile: String) -> Problem {
        switch error {
        case StrataError.corruption(let file, let offset, let reason):
            return Problem(file: file, offset: offset, reason: reason, isDamage: true)
        case StrataError.incompatible(let file, let reason):
            return Problem(file: file, offset: 0, reason: reason, isDamage: true)
        case StrataError.io(let path, _, _):
            return Problem(file: path, offset: 0, reason: "\(error)", isDamage: true)
        default:
            return Problem(file: fallbackFile, offset: 0, reason: "\(error)", isDamage: true)
        }
    }
}
