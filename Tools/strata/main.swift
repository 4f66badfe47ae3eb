// strata: the Strata command-line tool. See `strata --help`.
#if canImport(Glibc)
import Glibc
#endif
import StrataTool

exit(StrataCommand.run(arguments: Array(CommandLine.arguments.dropFirst())))
