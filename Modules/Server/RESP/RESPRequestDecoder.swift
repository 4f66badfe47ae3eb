import NIOCore

/// Why a RESP request could not be read. The connection answers with an error and is closed
/// (the stream's framing is lost), as Redis does.
package struct RESPProtocolError: Error, Equatable {
    package let message: String
}

/// The limits a request must respect; checked before anything of the declared size is
/// allocated, so a peer declaring a 2⁴⁰-byte argument costs nothing.
package struct RESPRequestLimits: Sendable {
    /// The largest bulk-string argument, in bytes.
    package var maxBulkLength: Int
    /// The longest inline command line (and any `*`/`$` header line), in bytes.
    package var maxInlineLength: Int = 64 << 10
    /// The most arguments one command may have.
    package var maxArguments: Int = 1 << 20

    /// Limits with the given bulk bound and the default others.
    package init(maxBulkLength: Int, maxInlineLength: Int = 64 << 10, maxArguments: Int = 1 << 20) {
        self.maxBulkLength = maxBulkLength
        self.maxInlineLength = maxInlineLength
        self.maxArguments = maxArguments
    }
}

/// Splits the bytes a client sends into commands, each an array of binary-safe arguments:
/// multibulk requests (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`) and inline ones (`PING\r\n`).
///
/// Incremental: a request that has not fully arrived is left in the buffer (nothing consumed)
/// and parsed again when more bytes come; re-parsing skips over bulk payloads by their declared
/// lengths, so it costs time per argument, not per byte.
package struct RESPRequestDecoder: ByteToMessageDecoder {
    package typealias InboundOut = [[UInt8]]

    let limits: RESPRequestLimits

    package mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let command = try Self.parse(&buffer, limits: limits) else { return .needMoreData }
        context.fireChannelRead(wrapInboundOut(command))
        return .continue
    }

    package mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        // A partial request at end of stream is dropped with the connection.
        while let command = try Self.parse(&buffer, limits: limits) {
            context.fireChannelRead(wrapInboundOut(command))
        }
        buffer.moveReaderIndex(to: buffer.writerIndex)
        return .needMoreData
    }

    /// Parses one command from the front of `buffer`, consuming it; `nil` (nothing consumed)
    /// when it has not fully arrived. Empty inline lines are skipped.
    ///
    /// - Throws: `RESPProtocolError` for malformed input or input past `limits`.
    package static func parse(_ buffer: inout ByteBuffer, limits: RESPRequestLimits) throws -> [[UInt8]]? {
        while true {
            guard let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { return nil }
            if first == UInt8(ascii: "*") { return try parseMultibulk(&buffer, limits: limits) }
            guard let (line, next) = try line(in: buffer, from: buffer.readerIndex, limit: limits.maxInlineLength, what: "inline request", bareNewlineEnds: true) else {
                return nil
            }
            buffer.moveReaderIndex(to: next)
            let arguments = try splitInline(line)
            if !arguments.isEmpty { return arguments }
        }
    }

    private static func parseMultibulk(_ buffer: inout ByteBuffer, limits: RESPRequestLimits) throws -> [[UInt8]]? {
        var index = buffer.readerIndex + 1
        guard let (countLine, afterCount) = try line(in: buffer, from: index, limit: 32, what: "multibulk length", bareNewlineEnds: false) else { return nil }
        guard let count = Int(decimal: countLine), count <= limits.maxArguments else {
            throw RESPProtocolError(message: "invalid multibulk length")
        }
        index = afterCount
        if count <= 0 {
            buffer.moveReaderIndex(to: index)
            return try parse(&buffer, limits: limits)
        }
        // First pass: every argument must have arrived (no allocation of declared sizes).
        var spans: [(start: Int, length: Int)] = []
        spans.reserveCapacity(min(count, 1024))
        for _ in 0..<count {
            guard let marker = buffer.getInteger(at: index, as: UInt8.self) else { return nil }
            guard marker == UInt8(ascii: "$") else {
                throw RESPProtocolError(message: "expected '$', got '\(printable(marker))'")
            }
            guard let (lengthLine, afterLength) = try line(in: buffer, from: index + 1, limit: 32, what: "bulk length", bareNewlineEnds: false) else { return nil }
            guard let length = Int(decimal: lengthLine), length >= 0 else { throw RESPProtocolError(message: "invalid bulk length") }
            guard length <= limits.maxBulkLength else {
                throw RESPProtocolError(message: "invalid bulk length (\(length) bytes is more than the limit, \(limits.maxBulkLength))")
            }
            let end = afterLength + length
            guard buffer.writerIndex >= end + 2 else { return nil }
            guard buffer.getInteger(at: end, as: UInt8.self) == 13, buffer.getInteger(at: end + 1, as: UInt8.self) == 10 else {
                throw RESPProtocolError(message: "bulk string not terminated by CRLF")
            }
            spans.append((afterLength, length))
            index = end + 2
        }
        let arguments = spans.map { buffer.getBytes(at: $0.start, length: $0.length) ?? [] }
        buffer.moveReaderIndex(to: index)
        return arguments
    }

    /// The bytes of the CRLF-terminated line starting at `start`, and the index after the CRLF;
    /// `nil` when the line is incomplete. Inline requests may end with a bare LF
    /// (`bareNewlineEnds`); protocol headers may not.
    private static func line(in buffer: ByteBuffer, from start: Int, limit: Int, what: String, bareNewlineEnds: Bool) throws -> ([UInt8], Int)? {
        let available = buffer.writerIndex - start
        guard available > 0 else { return nil }
        let scan = min(available, limit + 2)
        let found = buffer.withUnsafeReadableBytes { bytes -> Int? in
            let base = start - buffer.readerIndex
            var offset = 0
            while offset < scan {
                if bytes[base + offset] == 10 { return offset }
                offset += 1
            }
            return nil
        }
        guard let newline = found else {
            if available > limit + 1 { throw RESPProtocolError(message: "too big \(what) (more than \(limit) bytes)") }
            return nil
        }
        var length = newline
        if length > 0 && buffer.getInteger(at: start + length - 1, as: UInt8.self) == 13 { length -= 1 }
        if !bareNewlineEnds && length == newline {
            throw RESPProtocolError(message: "\(what) not terminated by CRLF")
        }
        return (buffer.getBytes(at: start, length: length) ?? [], start + newline + 1)
    }

    /// Splits an inline command at spaces and tabs, honouring Redis' quoting ("…" with escapes,
    /// '…' literal).
    static func splitInline(_ line: [UInt8]) throws -> [[UInt8]] {
        var arguments: [[UInt8]] = []
        var index = 0
        func isSpace(_ byte: UInt8) -> Bool { byte == 32 || byte == 9 || byte == 13 }
        while index < line.count {
            while index < line.count && isSpace(line[index]) { index += 1 }
            guard index < line.count else { break }
            var argument: [UInt8] = []
            if line[index] == UInt8(ascii: "\"") || line[index] == UInt8(ascii: "'") {
                let quote = line[index]
                index += 1
                var closed = false
                while index < line.count {
                    let byte = line[index]
                    if byte == quote {
                        closed = true
                        index += 1
                        break
                    }
                    if quote == UInt8(ascii: "\""), byte == UInt8(ascii: "\\"), index + 1 < line.count {
                        index += 1
                        switch line[index] {
                        case UInt8(ascii: "n"): argument.append(10)
                        case UInt8(ascii: "r"): argument.append(13)
                        case UInt8(ascii: "t"): argument.append(9)
                        case UInt8(ascii: "x") where index + 2 < line.count:
                            if let value = UInt8(String(decoding: line[(index + 1)...(index + 2)], as: UTF8.self), radix: 16) {
                                argument.append(value)
                                index += 2
                            } else {
                                argument.append(UInt8(ascii: "x"))
                            }
                        default: argument.append(line[index])
                        }
                        index += 1
                        continue
                    }
                    argument.append(byte)
                    index += 1
                }
                guard closed, index >= line.count || isSpace(line[index]) else {
                    throw RESPProtocolError(message: "unbalanced quotes in request")
                }
            } else {
                while index < line.count && !isSpace(line[index]) {
                    argument.append(line[index])
                    index += 1
                }
            }
            arguments.append(argument)
        }
        return arguments
    }

    private static func printable(_ byte: UInt8) -> String {
        (32..<127).contains(byte) ? String(UnicodeScalar(byte)) : "\\x" + String(byte, radix: 16)
    }
}

extension Int {
    // (package: the tests check the parser directly.)
    /// Parses a decimal integer the way Redis does (`string2ll`): an optional `-`, digits, no
    /// spaces, no `+`, no leading zeros (except "0" itself), within 64 bits. `nil` otherwise.
    package init?(decimal bytes: some Collection<UInt8>) {
        var iterator = bytes.makeIterator()
        guard var byte = iterator.next() else { return nil }
        let negative = byte == UInt8(ascii: "-")
        if negative {
            guard let next = iterator.next() else { return nil }
            byte = next
        }
        guard byte >= 48 && byte <= 57 else { return nil }
        // Accumulated as a negative number, so Int.min parses too.
        var value = -Int(byte - 48)
        let leadingZero = byte == 48
        while let next = iterator.next() {
            guard next >= 48 && next <= 57, !leadingZero else { return nil }
            let (times, overflowA) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflowB) = times.subtractingReportingOverflow(Int(next - 48))
            guard !overflowA && !overflowB else { return nil }
            value = sum
        }
        if leadingZero && negative { return nil }  // "-0"
        if negative {
            self = value
        } else {
            guard value != .min else { return nil }
            self = -value
        }
    }
}
