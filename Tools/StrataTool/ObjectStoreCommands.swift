import ArgumentParser
import Engine
import ObjectStore

struct Restore: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy the database in --object-store into the empty --db directory, without becoming its writer.",
        discussion: """
            Downloads the store's current checkpoint and applies every WAL object after it: the copy holds every \
            write the store had when the command began, batches whole. The store's writer is not disturbed, and \
            the copy is not attached to the store. To take over as the writer instead, run a write command (or \
            exec) with --object-store on an empty --db.
            """)
    @OptionGroup var global: GlobalOptions

    func run() throws {
        guard let store = try global.store() else { throw ToolFailure(.usage, "restore needs --object-store") }
        var options = try global.tuning.options()
        options.logger.logLevel = global.verbose ? .info : .warning
        let report = try Database.restore(from: store, into: global.path, options: options)
        emit("restored \(global.path) from \(store): manifest \(report.manifest) (epoch \(report.epoch)), \(report.files) files, \(report.bytes) bytes, \(report.walObjects) WAL objects, up to sequence \(report.lastSequence)")
    }
}

struct Promote: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Turn the replica in --db into the writer of --object-store: it fences the old primary and continues from the store's last WAL object.")
    @OptionGroup var global: GlobalOptions

    func run() throws {
        var global = global
        global.replica = true
        let replica = try global.openReplica()
        var options = try global.options(forWriting: true)
        options.localCacheBytes = global.localCacheBytes
        let writer = try replica.promote(options: options)
        let sequence = writer.latestSequence.rawValue
        try writer.close()
        emit("promoted \(global.path) to writer of \(global.objectStore ?? ""), at sequence \(sequence)")
    }
}

struct Objects: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Inspect what an object store holds: ls lists the objects, verify checks them.",
        subcommands: [List.self, Check.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ls", abstract: "List every object with its size, in key order.")
        @OptionGroup var global: GlobalOptions

        func run() throws {
            guard let store = try global.store() else { throw ToolFailure(.usage, "objects ls needs --object-store") }
            let lines = try blockingAwait {
                var lines: [String] = []
                for try await object in store.objects(prefix: "") { lines.append("\(object.size)\t\(object.key)") }
                return lines
            }
            for line in lines { print(line) }
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify",
            abstract: "Read every manifest and WAL object and check checksums, references and the log's continuity (exit 3 on damage).")
        @OptionGroup var global: GlobalOptions

        func run() throws {
            guard let store = try global.store() else { throw ToolFailure(.usage, "objects verify needs --object-store") }
            let report = try StoreVerifier(store: store).verify()
            for problem in report.problems { print("problem: \(problem)") }
            let wal = report.firstWAL.map { "\($0)…\(report.lastWAL ?? $0)" } ?? "none"
            emit("\(store): \(report.manifests) manifests (latest \(report.latestManifest.map(String.init) ?? "none"), epoch \(report.latestEpoch.map(String.init) ?? "none")), \(report.tables) tables, \(report.walObjects) WAL objects (\(wal)), \(report.bytes) bytes; \(report.problems.isEmpty ? "ok" : "\(report.problems.count) problems")")
            if !report.problems.isEmpty { throw ToolFailure(.corruption) }
        }
    }
}
