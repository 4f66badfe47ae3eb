#if canImport(Glibc)
import Glibc
#endif

/// The directory holding the package's built executables: the test bundle runs from it.
public enum Products {
    /// The products directory.
    public static var directory: String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        precondition(count > 0, "cannot locate the test executable")
        let path = String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return String(path[..<path.lastIndex(of: "/")!])
    }

    /// The path of the built executable `name`.
    public static func path(_ name: String) -> String { directory + "/" + name }
}

/// A child process with pipes on its standard input, output and error, for driving the tools
/// the way scripts and other programs do.
public final class ChildProcess {
    /// The child's process id.
    public let pid: pid_t
    private var input: Int32
    private let output: Int32
    private let errors: Int32
    private var pending: [UInt8] = []

    /// Starts `executable` with `arguments`; `environment` entries are added to a minimal one.
    public convenience init(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws {
        try self.init(executable, rawArguments: arguments.map { Array($0.utf8) }, environment: environment)
    }

    /// Starts `executable` with arguments given as raw bytes (which need not be UTF-8).
    public init(_ executable: String, rawArguments arguments: [[UInt8]], environment: [String: String] = [:]) throws {
        var inputPipe: [Int32] = [0, 0]
        var outputPipe: [Int32] = [0, 0]
        var errorPipe: [Int32] = [0, 0]
        guard pipe(&inputPipe) == 0, pipe(&outputPipe) == 0, pipe(&errorPipe) == 0 else { throw ChildError("pipe failed") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, inputPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, outputPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errorPipe[1], 2)
        for descriptor in inputPipe + outputPipe + errorPipe { posix_spawn_file_actions_addclose(&actions, descriptor) }

        var variables = ["PATH": String(cString: getenv("PATH") ?? strdup("/usr/bin:/bin"))]
        for (key, value) in environment { variables[key] = value }
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup(executable)] + arguments.map { bytes in
            let copy = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count + 1)
            bytes.withUnsafeBytes { UnsafeMutableRawPointer(copy).copyMemory(from: $0.baseAddress ?? UnsafeRawPointer(copy), byteCount: bytes.count) }
            copy[bytes.count] = 0
            return copy
        } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = variables.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            free(argv[0])
            for pointer in argv.dropFirst() { pointer?.deallocate() }
            for pointer in envp { free(pointer) }
        }
        var child: pid_t = 0
        let result = posix_spawn(&child, executable, &actions, nil, argv, envp)
        close(inputPipe[0])
        close(outputPipe[1])
        close(errorPipe[1])
        guard result == 0 else {
            close(inputPipe[1]); close(outputPipe[0]); close(errorPipe[0])
            throw ChildError("cannot start \(executable): \(String(cString: strerror(result)))")
        }
        pid = child
        input = inputPipe[1]
        output = outputPipe[0]
        errors = errorPipe[0]
    }

    deinit {
        if input >= 0 { close(input) }
        close(output)
        close(errors)
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == 0 {
            kill(pid, SIGKILL)
            waitpid(pid, &status, 0)
        }
    }

    /// Writes `line` and a newline to the child's standard input.
    public func send(_ line: String) {
        send(bytes: Array((line + "\n").utf8))
    }

    /// Writes raw bytes (which need not be UTF-8) to the child's standard input.
    public func send(bytes: [UInt8]) {
        var bytes = bytes
        bytes.withUnsafeMutableBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = write(input, raw.baseAddress! + offset, raw.count - offset)
                if written <= 0 { return }
                offset += written
            }
        }
    }

    /// The next line of standard output, waiting at most `timeout` seconds (`nil`: end of
    /// output, or nothing arrived in time — a reply that is not flushed never arrives).
    public func readLine(timeout: Double = 20) -> String? {
        let deadline = monotonicSeconds() + timeout
        while true {
            if let newline = pending.firstIndex(of: 10) {
                let line = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                return line
            }
            let remaining = deadline - monotonicSeconds()
            guard remaining > 0 else { return nil }
            var descriptor = pollfd(fd: output, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, Int32(remaining * 1000))
            if ready <= 0 { continue }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let got = read(output, &chunk, chunk.count)
            if got <= 0 { return nil }
            pending += chunk[0..<got]
        }
    }

    /// Sends `line` and returns the next reply line.
    public func ask(_ line: String) -> String? {
        send(line)
        return readLine()
    }

    /// Closes standard input, reads everything left on both outputs and waits for the exit.
    public func finish(timeout: Double = 120) -> (status: Int32, output: String, errors: String) {
        if input >= 0 {
            close(input)
            input = -1
        }
        var outputBytes = pending
        pending = []
        var errorBytes: [UInt8] = []
        var open = [output, errors]
        let deadline = monotonicSeconds() + timeout
        while !open.isEmpty && monotonicSeconds() < deadline {
            var descriptors = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            if poll(&descriptors, nfds_t(descriptors.count), 1000) <= 0 { continue }
            for entry in descriptors where entry.revents != 0 {
                var chunk = [UInt8](repeating: 0, count: 65536)
                let got = read(entry.fd, &chunk, chunk.count)
                if got <= 0 {
                    open.removeAll { $0 == entry.fd }
                } else if entry.fd == output {
                    outputBytes += chunk[0..<got]
                } else {
                    errorBytes += chunk[0..<got]
                }
            }
        }
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        let code = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        return (code, String(decoding: outputBytes, as: UTF8.self), String(decoding: errorBytes, as: UTF8.self))
    }

    private func monotonicSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }
}

/// A child process could not be started.
public struct ChildError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Runs a tool to completion with `input` on its standard input.
public func runTool(_ name: String, _ arguments: [String], input: String = "", environment: [String: String] = [:]) throws -> (status: Int32, output: String, errors: String) {
    let child = try ChildProcess(Products.path(name), arguments, environment: environment)
    if !input.isEmpty { child.send(String(input.dropLast(input.hasSuffix("\n") ? 1 : 0))) }
    return child.finish()
}

/// The variables a Python found on PATH (a pyenv shim, a virtualenv) needs in a child's
/// otherwise minimal environment.
public func pythonEnvironment() -> [String: String] {
    var environment: [String: String] = [:]
    for name in ["HOME", "PYENV_ROOT", "VIRTUAL_ENV", "PYTHONPATH"] {
        if let value = getenv(name) { environment[name] = String(cString: value) }
    }
    return environment
}
