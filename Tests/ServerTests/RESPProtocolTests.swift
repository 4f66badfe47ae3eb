import NIOCore
import Testing

import Server

/// The RESP front door's pieces on their own: request framing and its limits, numbers, globs,
/// SCAN cursors, reply encoding.
@Suite struct RESPProtocolTests {
    let limits = RESPRequestLimits(maxBulkLength: 1024, maxInlineLength: 64, maxArguments: 8)

    func parseAll(_ bytes: [UInt8]) throws -> (commands: [[[UInt8]]], left: Int) {
        var buffer = ByteBuffer(bytes: bytes)
        var commands: [[[UInt8]]] = []
        while let command = try RESPRequestDecoder.parse(&buffer, limits: limits) { commands.append(command) }
        return (commands, buffer.readableBytes)
    }

    func strings(_ command: [[UInt8]]) -> [String] { command.map { String(decoding: $0, as: UTF8.self) } }

    @Test func multibulkAndInlineRequestsSplitIntoArguments() throws {
        let input = Array("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$4\r\na\r\nb\r\n".utf8) + Array("PING\r\n\r\nECHO \"x y\\n\" 'z w'\n".utf8)
        let (commands, left) = try parseAll(input)
        #expect(left == 0)
        #expect(commands.count == 3)
        #expect(strings(commands[0]) == ["SET", "k", "a\r\nb"])  // binary-safe: CRLF inside a bulk
        #expect(strings(commands[1]) == ["PING"])
        #expect(strings(commands[2]) == ["ECHO", "x y\n", "z w"])
    }

    @Test func anIncompleteRequestWaitsForMoreBytesAndConsumesNothing() throws {
        let full = Array("*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n".utf8)
        for cut in 1..<full.count {
            let (commands, left) = try parseAll(Array(full[..<cut]))
            #expect(commands.isEmpty && left == cut, "cut at \(cut)")
        }
        #expect(try parseAll(full).commands.count == 1)
    }

    @Test func malformedOrOversizedRequestsAreProtocolErrorsWithoutAllocatingTheDeclaredSize() {
        let bad: [String] = [
            "*1\r\n$1099511627776\r\n",  // a bulk of 2^40 bytes: refused from its header alone
            "*1099511627776\r\n",  // too many arguments
            "*9\r\n",  // more than maxArguments (8)
            "*1\r\n$-3\r\n", "*x\r\n", "*1\r\n:5\r\n",
            "*1\r\n$3\r\nabcde\r\n",  // bulk not followed by CRLF
            "*1\r\n$3\nabc\r\n",  // bulk header without CR
            "\"unbalanced\r\n", String(repeating: "a", count: 100),  // inline longer than the limit, no newline yet
            "*1\r\n$2000\r\n",  // over maxBulkLength (1024)
        ]
        for text in bad {
            #expect(throws: RESPProtocolError.self, "\(text.debugDescription)") { _ = try parseAll(Array(text.utf8)) }
        }
    }

    @Test func integersParseLikeRedisAndNumbersPrintWithoutExponents() {
        #expect(Int(decimal: Array("9223372036854775807".utf8)) == .max)
        #expect(Int(decimal: Array("-9223372036854775808".utf8)) == .min)
        for bad in ["9223372036854775808", "-9223372036854775809", "", "-", "+1", " 1", "01", "-0", "1.0", "1e3"] {
            #expect(Int(decimal: Array(bad.utf8)) == nil, "\(bad)")
        }
        #expect(RESPNumber.format(10.5) == "10.5")
        #expect(RESPNumber.format(3) == "3")
        #expect(RESPNumber.format(-0.75) == "-0.75")
        #expect(RESPNumber.format(1e-5) == "0.00001")
        #expect(RESPNumber.format(1.5e20) == "150000000000000000000")
        #expect(RESPNumber.double(Array("nan".utf8)) == nil)
        #expect(RESPNumber.double(Array("inf".utf8)) == nil)
        #expect(RESPNumber.double(Array("1e3".utf8)) == 1000)
    }

    @Test func globsMatchLikeRedis() {
        func match(_ pattern: String, _ string: String) -> Bool { RESPGlob.matches(Array(pattern.utf8), Array(string.utf8)) }
        #expect(match("*", "") && match("*", "anything"))
        #expect(match("h?llo", "hello") && !match("h?llo", "hllo"))
        #expect(match("h[ae]llo", "hallo") && !match("h[ae]llo", "hillo"))
        #expect(match("h[^e]llo", "hallo") && !match("h[^e]llo", "hello"))
        #expect(match("h[a-c]llo", "hbllo") && !match("h[a-c]llo", "hdllo"))
        #expect(match("a\\*b", "a*b") && !match("a\\*b", "axb"))
        #expect(match("*a*b*c*", "xxaxxbxxcxx") && !match("*a*b*c*", "xxaxxcxxbxx"))
        // Many stars against a long string finish at once (no exponential backtracking).
        #expect(!match(String(repeating: "*a", count: 30) + "b", String(repeating: "a", count: 5000)))
    }

    @Test func scanCursorsAreDecimalNumbersBelow2To64ForAnyKey() {
        let cursors = RESPScanCursors(capacity: 3)
        let keys: [[UInt8]] = [[0], [255, 0, 7], Array("user:1".utf8), Array("a much longer key than six bytes".utf8), Array(repeating: 0xFF, count: 300)]
        for key in keys {
            let cursor = cursors.cursor(resumingAt: key)
            #expect(cursor.allSatisfy(\.isNumber) && UInt64(cursor) != nil, "\(cursor) must parse as a 64-bit integer")
            #expect(cursors.key(for: Array(cursor.utf8)) == key)
        }
        #expect(cursors.key(for: Array("0".utf8)) == [])
        for bad in ["", "3000", "1256", "10", "abc", "-1", "2000000000000000000", "99999999999999999999"] {
            #expect(cursors.key(for: Array(bad.utf8)) == nil, "\(bad)")
        }
        // Only the last `capacity` long-key cursors are remembered.
        let first = cursors.cursor(resumingAt: Array("long key number 1".utf8))
        for index in 2...4 { _ = cursors.cursor(resumingAt: Array("long key number \(index)".utf8)) }
        #expect(cursors.key(for: Array(first.utf8)) == nil)
    }

    @Test func repliesEncodeInBothProtocolVersions() {
        func encoded(_ reply: RESPReply, _ version: Int) -> String {
            var buffer = ByteBuffer()
            reply.write(to: &buffer, protocolVersion: version)
            return String(buffer: buffer)
        }
        #expect(encoded(.null, 2) == "$-1\r\n" && encoded(.null, 3) == "_\r\n")
        #expect(encoded(.nullArray, 2) == "*-1\r\n")
        #expect(encoded(.map([(.text("a"), .integer(1))]), 2) == "*2\r\n$1\r\na\r\n:1\r\n")
        #expect(encoded(.map([(.text("a"), .integer(1))]), 3) == "%1\r\n$1\r\na\r\n:1\r\n")
        #expect(encoded(.error("ERR a\r\nb"), 2) == "-ERR a  b\r\n")  // no line break inside an error
    }
}
