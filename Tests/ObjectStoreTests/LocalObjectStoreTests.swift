#if canImport(Glibc)
import Glibc
#endif
import Encoding
import ObjectStore
import Testing
import VFS

@Suite struct LocalObjectStoreTests {
    @Test func objectsAreFilesUnderTheRootAndStagingIsCleanedUp() async throws {
        let directory = try TemporaryDirectory()
        defer { withExtendedLifetime(directory) {} }
        let store = try LocalObjectStore(root: directory.path)
        _ = try await store.put("wal/000001", [1, 2, 3], condition: .ifAbsent)
        _ = try await store.put("manifest/000001", [4], condition: .none)
        let files = PosixFileSystem()
        #expect(try files.readFile(directory.path + "/wal/000001") == [1, 2, 3])
        #expect(try files.listDirectory(directory.path + "/.strata-staging").isEmpty)
        // A refused conditional put leaves no staging file behind either.
        await #expect(throws: StrataError.self) { _ = try await store.put("wal/000001", [9], condition: .ifAbsent) }
        #expect(try files.listDirectory(directory.path + "/.strata-staging").isEmpty)
    }

    @Test func aSecondInstanceOnTheSameDirectorySeesTheObjectsAndTheirTags() async throws {
        let directory = try TemporaryDirectory()
        defer { withExtendedLifetime(directory) {} }
        let first = try LocalObjectStore(root: directory.path)
        let tag = try await first.put("a/b", [7], condition: .none)
        let second = try LocalObjectStore(root: directory.path)
        #expect(try await second.head("a/b") == ObjectInfo(key: "a/b", size: 1, etag: tag))
        await #expect(throws: StrataError.self) { _ = try await second.put("a/b", [8], condition: .ifAbsent) }
        _ = try await second.put("a/b", [8], condition: .ifMatch(tag))
        #expect(try await first.get("a/b", range: nil) == [8])
    }

    @Test func aKeyThatIsADirectoryOfOtherKeysIsRejectedNotCorrupted() async throws {
        let directory = try TemporaryDirectory()
        defer { withExtendedLifetime(directory) {} }
        let store = try LocalObjectStore(root: directory.path)
        _ = try await store.put("a/b", [1], condition: .none)
        do {
            _ = try await store.put("a", [2], condition: .none)
            Issue.record("a put over a directory of objects succeeded")
        } catch StrataError.objectStore(let failure) {
            #expect(failure.kind == .rejected && failure.code == "KeyConflict")
        }
        do {
            _ = try await store.put("a/b/c", [3], condition: .none)
            Issue.record("a put under an object succeeded")
        } catch StrataError.objectStore(let failure) {
            #expect(failure.kind == .rejected && failure.code == "KeyConflict")
        }
        #expect(try await store.get("a/b", range: nil) == [1])
        #expect(try await store.head("a") == nil)
    }

    @Test func uploadIDsThatAreNotOursNameNoUpload() async throws {
        let directory = try TemporaryDirectory()
        defer { withExtendedLifetime(directory) {} }
        let store = try LocalObjectStore(root: directory.path)
        for id in ["../../etc", "", "ABC", "0/1"] {
            do {
                _ = try await store.uploadPart("k", upload: MultipartUploadID(id), partNumber: 1, bytes: [1])
                Issue.record("upload id \(id.debugDescription) was accepted")
            } catch StrataError.objectStore(let failure) {
                #expect(failure.kind == .notFound)
            }
            try await store.abortMultipartUpload("k", upload: MultipartUploadID(id))
        }
    }

    @Test func errorsNameTheStoreTheOperationAndTheKey() async throws {
        let directory = try TemporaryDirectory()
        defer { withExtendedLifetime(directory) {} }
        let store = try LocalObjectStore(root: directory.path)
        do {
            _ = try await store.get("missing/key", range: nil)
            Issue.record("get of a missing key succeeded")
        } catch let error as StrataError {
            let text = error.description
            #expect(text.contains("file://\(directory.path)") && text.contains("GET missing/key") && text.contains("notFound"), "\(text)")
        }
    }
}

@Suite struct AbortedUploadTests {
    /// S3's answer to completing an aborted upload is 404 NoSuchUpload; our stores give the same.
    @Test func completingAnAbortedUploadIsNotFound() async throws {
        let directory = try TemporaryDirectory()
        defer { withExtendedLifetime(directory) {} }
        let stores: [any ObjectStore] = [MemoryObjectStore(), try LocalObjectStore(root: directory.path)]
        for store in stores {
            let upload = try await store.createMultipartUpload("k")
            let tag = try await store.uploadPart("k", upload: upload, partNumber: 1, bytes: [1])
            try await store.abortMultipartUpload("k", upload: upload)
            do {
                _ = try await store.completeMultipartUpload("k", upload: upload, parts: [CompletedPart(partNumber: 1, etag: tag)])
                Issue.record("\(store): an aborted upload was completed")
            } catch StrataError.objectStore(let failure) {
                #expect(failure.kind == .notFound, "\(store): \(failure)")
            }
        }
    }
}
