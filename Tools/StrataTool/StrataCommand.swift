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
            Keys and values are UTF-8 text unless --hex is given (arguments that are not valid UTF-8
            are refused: pass such bytes with --hex). The database is --db, else $STRATA_DB, else
            ./strata-data. Reading commands (get, scan, stats, verify, dump-*) open it read-only, so
            they work while another process writes to it. Tuning flags: --help-hidden.

            Exit status:
              0  ok
              1  not found (get)
              2  usage error
              3  corruption (damaged data)
              4  I/O error, or the database is locked by another process
            """,
        version: Database.libraryVersion,
        subcommands: [
            Put.self, Get.self, Delete.self, DeleteRange.self, Scan.self, Load.self, Stats.self, Compact.self,
            Keyspaces.self, CreateKeyspace.self, DropKeyspace.self,
            Verify.self, Checkpoint.self, Restore.self, Promote.self, Objects.self, Repair.self, DumpSST.self, DumpWAL.self, DumpManifest.self, Exec.self, Demo.self,
        ])

    public init() {}

    /// Checks that every raw command-line argument is valid UTF-8 (Swift would otherwise repair
    /// it into U+FFFD and store different bytes than the user passed).
    ///
    /// - Returns: an error message naming the first bad argument, or `nil` when all are valid.
    public static func checkArgumentsAreUTF8(_ raw: [[UInt8]]) -> String? {
        for (index, bytes) in raw.enumerated() where String(validating: bytes, as: UTF8.self) == nil {
            let hex = ByteText.encodeHex(bytes)
            return "argument \(index + 1) is not valid UTF-8 (bytes \(hex)); pass binary keys and values with --hex (here: 0x\(hex))"
        }
        return nil
    }

    /// Parses `arguments` (without the program name), runs the command, and returns the exit
    /// status, printing errors to stderr as one line.
    public static func run(arguments: [String]) -> Int32 {
        do {
            var command = try parseAsRoot(movingGlobalOptions(arguments))
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

    /// Options every command shares that take a value (the rest are flags).
    static let valueOptions: Set<String> = [
        "--db", "--server", "--token-file", "--tls-ca", "--write-buffer-size", "--max-memtable-age", "--block-size", "--compression", "--bloom-bits",
        "--target-file-size", "--level0-compaction-trigger", "--block-cache-size",
        "--object-store", "--s3-endpoint", "--s3-region", "--durability", "--wal-upload-interval-ms", "--checkpoint-wal-bytes",
        "--object-store-faults", "--local-cache-bytes", "--store-garbage-grace-seconds", "--replica-poll-ms", "--keyspace",
    ]

    /// `arguments` with shared options given before the command name moved after it, so that
    /// `strata --server HOST:PORT get KEY` means `strata get --server HOST:PORT KEY` (each
    /// command parses the shared options itself).
    static func movingGlobalOptions(_ arguments: [String]) -> [String] {
        let names = Set(configuration.subcommands.map { $0._commandName })
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if names.contains(argument) {
                guard index > 0 else { return arguments }
                return [argument] + arguments[..<index] + arguments[(index + 1)...]
            }
            guard argument.hasPrefix("-") else { return arguments }  // not an option: leave it to the parser
            index += valueOptions.contains(argument) ? 2 : 1
        }
        return arguments
    }
}
