import Encoding
import ObjectStore
import VFS

/// A check failed: what was expected and what happened.
public struct ConformanceFailure: Error, CustomStringConvertible {
    /// The check's complaint.
    public let description: String
}

/// One behaviour every ``ObjectStore`` must show. Each check works under a key prefix of its
/// own, so several may share a store (one S3 bucket).
public struct ConformanceCheck: Sendable, CustomStringConvertible {
    /// The check's name.
    public let name: String
    let body: @Sendable (any ObjectStore, String) async throws -> Void

    /// The check's name (how parameterised tests label it).
    public var description: String { name }

    /// Runs the check on `store` under keys starting with `prefix` (which ends with `/`).
    public func run(on store: any ObjectStore, prefix: String) async throws {
        try await body(store, prefix)
    }
}

/// The conformance suite: every store implementation's tests run all of ``checks``.
public enum ObjectStoreConformance {
    /// Every check.
    public static let checks: [ConformanceCheck] = [
        ConformanceCheck(name: "put, get and head round-trip bytes and tags", body: roundTrip),
        ConformanceCheck(name: "empty and binary objects", body: emptyAndBinary),
        ConformanceCheck(name: "replacing changes the tag and the bytes", body: replace),
        ConformanceCheck(name: "if-absent creates once", body: ifAbsent),
        ConformanceCheck(name: "concurrent if-absent puts: exactly one wins", body: ifAbsentRace),
        ConformanceCheck(name: "if-match compares and swaps", body: ifMatch),
        ConformanceCheck(name: "concurrent if-match puts on one tag: exactly one wins", body: ifMatchRace),
        ConformanceCheck(name: "ranged gets are clamped to the object", body: ranges),
        ConformanceCheck(name: "missing objects: get fails, head is nil, delete succeeds", body: missing),
        ConformanceCheck(name: "delete removes from get, head and list", body: deletion),
        ConformanceCheck(name: "list pages in key order under a prefix", body: listing),
        ConformanceCheck(name: "keys with spaces, punctuation and non-ASCII", body: unusualKeys),
        ConformanceCheck(name: "multipart upload joins parts in order", body: multipart),
        ConformanceCheck(name: "multipart upload refuses bad parts; abort discards", body: multipartErrors),
        ConformanceCheck(name: "invalid keys and arguments are refused before any request", body: invalidArguments),
        ConformanceCheck(name: "streaming upload and download of a file-sized object", body: transfer),
    ]

    // MARK: Helpers

    static func expect(_ condition: Bool, _ message: @autoclosure () -> String) throws {
        if !condition { throw ConformanceFailure(description: message()) }
    }

    /// Runs `body` and checks that it throws an object-store failure of `kind`.
    static func expectFailure(_ kind: ObjectStoreFailure.Kind, _ what: String, _ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch StrataError.objectStore(let failure) {
            try expect(failure.kind == kind, "\(what): expected \(kind), got \(failure)")
            return
        } catch {
            throw ConformanceFailure(description: "\(what): expected \(kind), got \(error)")
        }
        throw ConformanceFailure(description: "\(what): expected \(kind), but it succeeded")
    }

    static func expectInvalidArgument(_ what: String, _ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch StrataError.invalidArgument {
            return
        } catch {
            throw ConformanceFailure(description: "\(what): expected invalidArgument, got \(error)")
        }
        throw ConformanceFailure(description: "\(what): expected invalidArgument, but it succeeded")
    }

    static func bytes(_ count: Int, seed: UInt8) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed) &* 7 &+ ($0 >> 8)) }
    }

    static func allKeys(_ store: any ObjectStore, prefix: String, pageSize: Int) async throws -> [String] {
        var keys: [String] = []
        var startAfter: String?
        while true {
            let page = try await store.list(prefix: prefix, startAfter: startAfter, limit: pageSize)
            try expect(page.objects.count <= pageSize, "a page of limit \(pageSize) held \(page.objects.count) objects")
            keys += page.objects.map(\.key)
            guard page.isTruncated, let last = page.objects.last else { break }
            startAfter = last.key
        }
        return keys
    }

    // MARK: Checks

    static func roundTrip(_ store: any ObjectStore, _ prefix: String) async throws {
        let key = prefix + "dir/object"
        let payload = bytes(10_000, seed: 1)
        let tag = try await store.put(key, payload, condition: .none)
        try expect(try await store.get(key, range: nil) == payload, "get did not return the stored bytes")
        let info = try await store.head(key)
        try expect(info == ObjectInfo(key: key, size: 10_000, etag: tag), "head reported \(String(describing: info)), expected size 10000 and tag \(tag)")
    }

    static func emptyAndBinary(_ store: any ObjectStore, _ prefix: String) async throws {
        _ = try await store.put(prefix + "empty", [], condition: .none)
        try expect(try await store.get(prefix + "empty", range: nil).isEmpty, "the empty object is not empty")
        try expect(try await store.head(prefix + "empty")?.size == 0, "the empty object's size is not 0")
        let every = (0...255).map { UInt8($0) } + (0...255).reversed().map { UInt8($0) }
        _ = try await store.put(prefix + "binary", every, condition: .none)
        try expect(try await store.get(prefix + "binary", range: nil) == every, "binary bytes changed in the store")
    }

    static func replace(_ store: any ObjectStore, _ prefix: String) async throws {
        let key = prefix + "replaced"
        let first = try await store.put(key, bytes(100, seed: 1), condition: .none)
        let second = try await store.put(key, bytes(120, seed: 2), condition: .none)
        try expect(first != second, "two versions share the tag \(first)")
        try expect(try await store.get(key, range: nil) == bytes(120, seed: 2), "get returned the old version")
        try expect(try await store.head(key)?.etag == second, "head reports an old tag")
    }

    static func ifAbsent(_ store: any ObjectStore, _ prefix: String) async throws {
        let key = prefix + "claimed"
        _ = try await store.put(key, [1], condition: .ifAbsent)
        try await expectFailure(.preconditionFailed, "a second if-absent put") {
            _ = try await store.put(key, [2], condition: .ifAbsent)
        }
        try expect(try await store.get(key, range: nil) == [1], "a refused if-absent put changed the object")
    }

    static func ifAbsentRace(_ store: any ObjectStore, _ prefix: String) async throws {
        let key = prefix + "raced"
        let results = await withTaskGroup(of: (UInt8, Bool).self) { group in
            for writer in UInt8(1)...8 {
                group.addTask {
                    do {
                        _ = try await store.put(key, [writer], condition: .ifAbsent)
                        return (writer, true)
                    } catch {
                        return (writer, false)
                    }
                }
            }
            var results: [(UInt8, Bool)] = []
            for await result in group { results.append(result) }
            return results
        }
        let winners = results.filter(\.1).map(\.0)
        try expect(winners.count == 1, "\(winners.count) if-absent puts succeeded: \(winners)")
        try expect(try await store.get(key, range: nil) == winners, "the object does not hold the winner's bytes")
    }

    static func ifMatch(_ store: any ObjectStore, _ prefix: String) async throws {
        let key = prefix + "swapped"
        let first = try await store.put(key, [1], condition: .none)
        let second = try await store.put(key, [2], condition: .ifMatch(first))
        try await expectFailure(.preconditionFailed, "an if-match put with a stale tag") {
            _ = try await store.put(key, [3], condition: .ifMatch(first))
        }
        try expect(try await store.get(key, range: nil) == [2], "a refused if-match put changed the object")
        _ = try await store.put(key, [4], condition: .ifMatch(second))
        try expect(try await store.get(key, range: nil) == [4], "an if-match put with the current tag did not apply")
        try await expectFailure(.notFound, "an if-match put on a missing key") {
            _ = try await store.put(prefix + "never-written", [5], condition: .ifMatch(second))
        }
    }

    static func ifMatchRace(_ store: any ObjectStore, _ prefix: String) async throws {
        let key = prefix + "cas"
        let base = try await store.put(key, [0], condition: .none)
        let winners = await withTaskGroup(of: UInt8?.self) { group in
            for writer in UInt8(1)...6 {
                group.addTask { (try? await store.put(key, [writer], condition: .ifMatch(base))) == nil ? nil : writer }
            }
            var winners: [UInt8] = []
            for await winner in group { if let winner { winners.append(winner) } }
            return winners
        }
        try expect(winners.count == 1, "\(winners.count) compare-and-swaps on one tag succeeded: \(winners)")
        try expect(try await store.get(key, range: nil) == winners, "the object does not hold the winner's bytes")
    }

    static func ranges(_ store: any ObjectStore, _ prefix: String) async throws {
        let key = prefix + "ranged"
        let payload = bytes(1000, seed: 3)
        _ = try await store.put(key, payload, condition: .none)
        try expect(try await store.get(key, range: 0..<1) == [payload[0]], "range 0..<1")
        try expect(try await store.get(key, range: 100..<200) == Array(payload[100..<200]), "range 100..<200")
        try expect(try await store.get(key, range: 900..<5000) == Array(payload[900...]), "a range past the end is not clamped")
        try expect(try await store.get(key, range: 1000..<1001).isEmpty, "a range starting at the end is not empty")
        try expect(try await store.get(key, range: 2000..<3000).isEmpty, "a range starting past the end is not empty")
    }

    static func missing(_ store: any ObjectStore, _ prefix: String) async throws {
        let key = prefix + "absent"
        try await expectFailure(.notFound, "get of a missing object") { _ = try await store.get(key, range: nil) }
        try await expectFailure(.notFound, "ranged get of a missing object") { _ = try await store.get(key, range: 0..<10) }
        try expect(try await store.head(key) == nil, "head of a missing object is not nil")
        try await store.delete(key)
    }

    static func deletion(_ store: any ObjectStore, _ prefix: String) async throws {
        let key = prefix + "deleted"
        _ = try await store.put(key, [1, 2, 3], condition: .none)
        try await store.delete(key)
        try await expectFailure(.notFound, "get after delete") { _ = try await store.get(key, range: nil) }
        try expect(try await store.head(key) == nil, "head after delete is not nil")
        try expect(try await store.list(prefix: prefix, startAfter: nil, limit: 10).objects.isEmpty, "list after delete is not empty")
        _ = try await store.put(key, [4], condition: .ifAbsent)
        try expect(try await store.get(key, range: nil) == [4], "a key cannot be created again after delete")
    }

    static func listing(_ store: any ObjectStore, _ prefix: String) async throws {
        var expected: [String] = []
        for index in 0..<23 {
            let digits = String(index)
            expected.append(prefix + "p/item-" + String(repeating: "0", count: 3 - digits.count) + digits)
        }
        expected += [prefix + "p/nested/a", prefix + "p/nested/deeper/b", prefix + "p/z"]
        for key in expected { _ = try await store.put(key, Array(key.utf8), condition: .none) }
        // Siblings that the prefix must not match.
        _ = try await store.put(prefix + "q/item", [1], condition: .none)
        _ = try await store.put(prefix + "pp", [1], condition: .none)
        expected.sort { $0.utf8.lexicographicallyPrecedes($1.utf8) }

        for pageSize in [1, 7, 1000] {
            let keys = try await allKeys(store, prefix: prefix + "p/", pageSize: pageSize)
            try expect(keys == expected, "listing with pages of \(pageSize) returned \(keys.count) keys, not the \(expected.count) expected in order")
        }
        let after = try await store.list(prefix: prefix + "p/", startAfter: prefix + "p/item-010", limit: 3)
        try expect(after.objects.map(\.key) == Array(expected.filter { $0 > prefix + "p/item-010" }.prefix(3)), "startAfter did not resume after the given key")
        try expect(after.isTruncated, "a page that stops early is not marked truncated")
        let nested = try await store.list(prefix: prefix + "p/nested/", startAfter: nil, limit: 10)
        try expect(nested.objects.map(\.key) == [prefix + "p/nested/a", prefix + "p/nested/deeper/b"] && !nested.isTruncated, "nested listing wrong: \(nested.objects.map(\.key))")
        let partial = try await store.list(prefix: prefix + "p/it", startAfter: nil, limit: 1000)
        try expect(partial.objects.count == 23, "a prefix ending inside a segment matched \(partial.objects.count) keys, not 23")
        let sizes = try await store.list(prefix: prefix + "p/z", startAfter: nil, limit: 10).objects
        try expect(sizes.first?.size == UInt64((prefix + "p/z").utf8.count), "list reported a wrong size")
        var streamed: [String] = []
        for try await object in store.objects(prefix: prefix + "p/", pageSize: 5) { streamed.append(object.key) }
        try expect(streamed == expected, "the listing sequence returned \(streamed.count) keys, not the \(expected.count) expected in order")
    }

    static func unusualKeys(_ store: any ObjectStore, _ prefix: String) async throws {
        let keys = [prefix + "with space", prefix + "plus+equals=and&amp", prefix + "percent%20literal", prefix + "ünïcødé/ключ", prefix + "tilde~star*(parens)", prefix + "question?hash#"]
        for key in keys { _ = try await store.put(key, Array(key.utf8), condition: .none) }
        for key in keys {
            try expect(try await store.get(key, range: nil) == Array(key.utf8), "key \(key.debugDescription) did not round-trip")
            try expect(try await store.head(key)?.size == UInt64(key.utf8.count), "head of \(key.debugDescription) failed")
        }
        let listed = try await allKeys(store, prefix: prefix, pageSize: 2)
        try expect(listed == keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }, "unusual keys listed as \(listed)")
        for key in keys { try await store.delete(key) }
        try expect(try await allKeys(store, prefix: prefix, pageSize: 10).isEmpty, "unusual keys were not deleted")
    }

    static func multipart(_ store: any ObjectStore, _ prefix: String) async throws {
        let key = prefix + "multi/part"
        let first = bytes(ObjectStoreLimits.minimumPartSize, seed: 4)
        let second = bytes(ObjectStoreLimits.minimumPartSize, seed: 5)
        let last = bytes(1234, seed: 6)
        let upload = try await store.createMultipartUpload(key)
        try expect(try await store.head(key) == nil, "an object is visible before its upload completed")
        // Parts may arrive in any order; part 2 is uploaded twice and the second copy counts.
        let tag3 = try await store.uploadPart(key, upload: upload, partNumber: 3, bytes: last)
        let tag1 = try await store.uploadPart(key, upload: upload, partNumber: 1, bytes: first)
        _ = try await store.uploadPart(key, upload: upload, partNumber: 2, bytes: bytes(ObjectStoreLimits.minimumPartSize, seed: 9))
        let tag2 = try await store.uploadPart(key, upload: upload, partNumber: 2, bytes: second)
        let tag = try await store.completeMultipartUpload(key, upload: upload, parts: [
            CompletedPart(partNumber: 1, etag: tag1), CompletedPart(partNumber: 2, etag: tag2), CompletedPart(partNumber: 3, etag: tag3),
        ])
        let info = try await store.head(key)
        try expect(info?.size == UInt64(first.count + second.count + last.count), "the joined object's size is \(String(describing: info?.size))")
        try expect(info?.etag == tag, "head's tag differs from the completed upload's")
        let edge = UInt64(first.count)
        try expect(try await store.get(key, range: edge - 2..<edge + 2) == Array(first.suffix(2) + second.prefix(2)), "parts 1 and 2 were not joined in order")
        try expect(try await store.get(key, range: 2 * edge..<2 * edge + 1234) == last, "the last part is wrong")
        try await store.delete(key)
    }

    static func multipartErrors(_ store: any ObjectStore, _ prefix: String) async throws {
        let key = prefix + "multi/bad"
        let upload = try await store.createMultipartUpload(key)
        let small = try await store.uploadPart(key, upload: upload, partNumber: 1, bytes: bytes(100, seed: 1))
        let last = try await store.uploadPart(key, upload: upload, partNumber: 2, bytes: bytes(100, seed: 2))
        try await expectFailure(.rejected, "completing with a part under 5 MiB that is not last") {
            _ = try await store.completeMultipartUpload(key, upload: upload, parts: [CompletedPart(partNumber: 1, etag: small), CompletedPart(partNumber: 2, etag: last)])
        }
        try await expectFailure(.rejected, "completing with a wrong part tag") {
            _ = try await store.completeMultipartUpload(key, upload: upload, parts: [CompletedPart(partNumber: 1, etag: ETag("\"not-a-tag\""))])
        }
        try await store.abortMultipartUpload(key, upload: upload)
        try expect(try await store.head(key) == nil, "an aborted upload left an object")
        // An aborted upload cannot be completed. S3 answers 404 NoSuchUpload (as the local and
        // memory stores do); moto 5 answers 500, so any failure is accepted here.
        do {
            _ = try await store.completeMultipartUpload(key, upload: upload, parts: [CompletedPart(partNumber: 2, etag: last)])
            throw ConformanceFailure(description: "an aborted upload was completed")
        } catch StrataError.objectStore {
        }
        try expect(try await store.head(key) == nil, "completing an aborted upload left an object")
        try await store.abortMultipartUpload(key, upload: upload)
    }

    static func invalidArguments(_ store: any ObjectStore, _ prefix: String) async throws {
        for key in ["", "/leading", prefix + "trailing/", prefix + "double//slash", prefix + "dot/./x", prefix + "dots/../x", prefix + "ctl\u{1}", prefix + ".strata-reserved", String(repeating: "k", count: 1025)] {
            try await expectInvalidArgument("put \(key.debugDescription)") { _ = try await store.put(key, [1], condition: .none) }
            try await expectInvalidArgument("get \(key.debugDescription)") { _ = try await store.get(key, range: nil) }
        }
        try await expectInvalidArgument("an empty range") { _ = try await store.get(prefix + "x", range: 5..<5) }
        try await expectInvalidArgument("list limit 0") { _ = try await store.list(prefix: prefix, startAfter: nil, limit: 0) }
        try await expectInvalidArgument("list limit 1001") { _ = try await store.list(prefix: prefix, startAfter: nil, limit: 1001) }
        let upload = try await store.createMultipartUpload(prefix + "args")
        try await expectInvalidArgument("part number 0") { _ = try await store.uploadPart(prefix + "args", upload: upload, partNumber: 0, bytes: [1]) }
        try await expectInvalidArgument("part number 10001") { _ = try await store.uploadPart(prefix + "args", upload: upload, partNumber: 10_001, bytes: [1]) }
        try await expectInvalidArgument("no parts") { _ = try await store.completeMultipartUpload(prefix + "args", upload: upload, parts: []) }
        try await store.abortMultipartUpload(prefix + "args", upload: upload)
    }

    static func transfer(_ store: any ObjectStore, _ prefix: String) async throws {
        // A file just over one 5 MiB part goes up as a multipart upload and comes back in chunks.
        let payload = bytes(ObjectStoreLimits.minimumPartSize + 4096 + 17, seed: 7)
        let files = MemoryFileSystem()
        try files.writeFile("/source", payload, sync: true)
        _ = try await store.upload(try files.openReadable("/source"), to: prefix + "file", partSize: ObjectStoreLimits.minimumPartSize)
        let sink = try files.openWritable("/copy", mode: .truncate)
        let written = try await store.download(prefix + "file", to: sink, chunkSize: 1 << 20)
        try sink.close()
        try expect(written == UInt64(payload.count) && (try files.readFile("/copy")) == payload, "a downloaded file differs from the uploaded one")
        try files.writeFile("/small", bytes(10, seed: 8), sync: true)
        let small = try files.openReadable("/small")
        _ = try await store.upload(small, to: prefix + "small", condition: .ifAbsent)
        try await expectFailure(.preconditionFailed, "a conditional upload over an existing object") {
            _ = try await store.upload(small, to: prefix + "small", condition: .ifAbsent)
        }
    }
}
