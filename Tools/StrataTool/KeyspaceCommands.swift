import ArgumentParser
import Engine

struct Keyspaces: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the named keyspaces, one per line (the default keyspace is not listed).",
        discussion: "Opens the database read-only, so it works while another process writes to it.")
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let db = try global.open(forWriting: false)
        defer { try? db.close() }
        for name in db.keyspaceNames { emit(name) }
    }
}

struct CreateKeyspace: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create-keyspace",
        abstract: "Create keyspace NAME (or record new options for an existing one).",
        discussion: """
            --compression, --bloom-bits and --block-size given here become the keyspace's recorded table \
            options (what is not given follows the database's options at each open).
            """)
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The keyspace's name.") var name: String

    func run() throws {
        let db = try global.open(forWriting: true)
        defer { try? db.close() }
        let options = try global.tuning.keyspaceOptions()
        let given = options != KeyspaceOptions()
        let existed = db.keyspaceNames.contains(name)
        _ = try db.keyspace(name, options: given || !existed ? options : nil)
        emit(existed ? (given ? "updated keyspace \(name)" : "keyspace \(name) exists") : "created keyspace \(name)")
    }
}

struct DropKeyspace: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drop-keyspace", abstract: "Drop keyspace NAME and everything in it (exit status 1 when there is none).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The keyspace's name.") var name: String

    func run() throws {
        let db = try global.open(forWriting: true)
        defer { try? db.close() }
        guard db.keyspaceNames.contains(name) else { throw ToolFailure(.notFound, "no keyspace named \"\(name)\"") }
        try db.dropKeyspace(name)
        emit("dropped keyspace \(name)")
    }
}
