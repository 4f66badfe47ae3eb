import ArgumentParser
import Engine
import Tables

struct Stats: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the level summary and statistics.",
        discussion: "Opens the database read-only, so it works while another process writes to it.")
    @OptionGroup var global: GlobalOptions

    func run() throws {
        if let remote = try global.remoteConfiguration() {
            let stats = try global.withRemote(remote) { try await $0.statistics() }
            for line in [stats.summary, "", stats.statistics, "", stats.recovery] { emit(line) }
            return
        }
        let db = try global.open(forWriting: false)
        defer { try? db.close() }
        emit(db.property(.levelSummary))
        emit("")
        emit(db.property(.statistics))
        emit("")
        emit(db.property(.recovery))
    }
}

struct Compact: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Compact the keys in [FROM, TO) (everything by default) to the deepest level.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "First key to compact (inclusive).") var from: String?
    @Option(help: "End of the range (exclusive).") var to: String?

    func run() throws {
        let db = try global.open(forWriting: true)
        defer { try? db.close() }
        try global.keyspace(of: db).compactRange(from: from.map { try global.text.decode($0) }, to: to.map { try global.text.decode($0) })
        emit(db.property(.levelSummary))
    }
}

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check every table, WAL segment and the manifest; exit 3 naming each damaged file.",
        discussion: """
            Takes no lock and changes nothing, so it may run while another process writes. With \
            --tables it also opens the database read-only and checks the typed tables (Tables module) \
            stored in it without their schemas: records and index entries counted, index states read, \
            and every index entry checked to name a record that exists (Table.verify() in the \
            application also checks that every record has its entries).
            """)
    @OptionGroup var global: GlobalOptions
    @Flag(help: "Also check the typed tables' index entries against their records.") var tables = false

    func run() throws {
        let report = try DatabaseVerifier.verify(path: global.path)
        emit("checked: manifest (\(report.manifestEdits) edits), \(report.tables) tables (\(report.blocks) data blocks, \(report.entries) entries), \(report.walSegments) WAL segments (\(report.walRecords) records)")
        for problem in report.problems { emit(problem.description) }
        guard report.isHealthy else {
            throw ToolFailure(.corruption, "\(report.problems.filter(\.isDamage).count) damaged file(s)")
        }
        if tables {
            let db = try global.open(forWriting: false)
            defer { try? db.close() }
            let structure = try TableStructureCheck.run(db)
            if !structure.description.isEmpty { emit(structure.description) }
            guard structure.isHealthy else {
                throw ToolFailure(.corruption, "\(structure.problemCount) problem(s) in the tables")
            }
        }
        emit("ok")
    }
}

struct Checkpoint: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make a consistent, openable copy of the database in DIRECTORY (tables hard-linked).",
        discussion: """
            Works while another process writes to the database: the copy is then made from a read-only \
            open (as of that moment). DIRECTORY must not exist or be empty.
            """)
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Where to put the copy.") var directory: String

    func run() throws {
        let db: Database
        do {
            db = try global.open(forWriting: true)
        } catch StrataError.locked {
            // Another process has it open: copy what a read-only open sees.
            db = try global.open(forWriting: false)
        }
        defer { try? db.close() }
        let report = try db.checkpoint(to: directory)
        emit("checkpoint \(directory): \(report.tables) tables, \(report.bytes) bytes, up to sequence \(report.lastSequence)")
    }
}

struct Repair: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Rebuild the manifest from the tables and logs present (when MANIFEST or CURRENT is lost).",
        discussion: """
            Checks every table (damaged ones are moved to lost/), replays the logs into new tables, writes a \
            new manifest, then compacts. The database must not be open.
            """)
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let report = try Database.repair(at: global.path, options: global.options(forWriting: true))
        emit("tables: \(report.tablesFound) found, \(report.tablesKept) kept (\(report.entries) entries), \(report.tablesLost.count) damaged")
        for lost in report.tablesLost { emit("  moved damaged table to \(lost)") }
        emit("logs: \(report.walSegments) segments, \(report.walRecords) records into \(report.tablesFromWAL) new tables, \(report.walBytesDropped) damaged bytes skipped")
        for foreign in report.foreignSegments { emit("  ignored \(foreign): it belongs to another database") }
        for aside in report.manifestsSetAside { emit("  set aside \(aside)") }
        emit("repaired: last sequence \(report.lastSequence)")
    }
}
