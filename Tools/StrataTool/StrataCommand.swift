#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Engine

/// The `strata` command-line tool.
public struct StrataCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "strata",
        abstract: "Use and inspect a Strata database.",
        discussion: """
            Keys and values are UTF-8 text unless --hex is given.
            The database is --db, else $STRATA_DB, else ./strata-data.

            Exit status:
              0  ok
              1  not found (get)
              2  usage error
              3  corruption (damaged data)
              4  I/O error, or the database is locked by another process
            """,
        subcommands: [
            Put.self, Get.self, Delete.self, DeleteRange.self, Scan.self, Load.self, Stats.self, Compact.self,
            Verify.self, DumpSST.self, DumpWAL.self, DumpManifest.self, Exec.self, Demo.self,
        ])

    public init() {}

    /// Parses `arguments` (without the program name), runs the command, and returns the exit
    /// status, printing errors to stderr as one line.
    public static func run(arguments: [String]) -> Int32 {
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
            return ToolExit.ok.rawValue
        } catch let failure as ToolFailure {
            if !failure.message.isEmpty { writeError("strata: \(failure.message)\n") }
            return failure.exit.rawValue
        } catch let error as StrataError {
            writeError("strata: \(error)\n")
            return ToolExit.code(for: error).rawValue
        } catch {
            // Argument parsing: help and version are successes, anything else is a usage error.
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                return ToolExit.ok.rawValue
            }
            writeError("strata: \(message(for: error))\n")
            return ToolExit.usage.rawValue
        }
    }
}
