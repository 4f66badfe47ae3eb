import Engine

/// The exit codes of `strata`, documented in `strata --help`.
public enum ToolExit: Int32, Sendable {
    /// Success.
    case ok = 0
    /// `get` found no value.
    case notFound = 1
    /// Bad command line or input.
    case usage = 2
    /// Damaged data.
    case corruption = 3
    /// An I/O failure, or the database is locked or read-only.
    case io = 4

    /// The exit code for an engine error.
    public static func code(for error: StrataError) -> ToolExit {
        switch error {
        case .corruption, .incompatible: return .corruption
        case .io, .locked, .closed, .readOnly: return .io
        case .invalidArgument: return .usage
        case .transactionConflict, .lockTimeout, .deadlock, .objectStore, .fenced, .timedOut: return .io
        case .constraintViolation: return .usage
        }
    }
}

/// Thrown by commands to end with a specific exit code (after printing what they had to say).
public struct ToolFailure: Error, Sendable {
    /// The exit code.
    public var exit: ToolExit
    /// A one-line message for stderr (empty: nothing to add).
    public var message: String

    /// Creates a failure.
    public init(_ exit: ToolExit, _ message: String = "") {
        self.exit = exit
        self.message = message
    }
}
