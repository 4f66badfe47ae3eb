import ArgumentParser
import Engine

struct Stats: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the level summary and statistics.")
    @OptionGroup var global: GlobalOptions

    func run() throws {
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
        try db.compactRange(from: from.map { try global.text.decode($0) }, to: to.map { try global.text.decode($0) })
        emit(db.property(.levelSummary))
    }
}

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check every table, WAL segment and the manifest; exit 3 naming each damaged file.",
        discussion: "The database must not be open in another process. Nothing is changed.")
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let report = try DatabaseVerifier.verify(path: global.path)
        emit("checked: manifest (\(report.manifestEdits) edits), \(report.tables) tables (\(report.blocks) data blocks, \(report.entries) entries), \(report.walSegments) WAL segments (\(report.walRecords) records)")
        for problem in report.problems { emit(problem.description) }
        guard report.isHealthy else {
            throw ToolFailure(.corruption, "\(report.problems.filter(\.isDamage).count) damaged file(s)")
        }
        emit("ok")
    }
}
