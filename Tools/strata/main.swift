// strata: the Strata command-line tool. See `strata --help`.
#if canImport(Glibc)
import Glibc
#endif
import StrataTool

// The raw argument bytes: `CommandLine.arguments` would already have replaced invalid UTF-8.
var raw: [[UInt8]] = []
for index in 1..<Int(CommandLine.argc) {
    guard let argument = CommandLine.unsafeArgv[index] else { continue }
    raw.append(Array(UnsafeRawBufferPointer(start: argument, count: strlen(argument))))
}
if let problem = StrataCommand.checkArgumentsAreUTF8(raw) {
    StrataTool.writeError("strata: \(problem)\n")
    exit(ToolExit.usage.rawValue)
}
exit(StrataCommand.run(arguments: Array(CommandLine.arguments.dropFirst())))
