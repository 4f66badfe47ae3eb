import Testing
import Encoding
import StrataTestSupport
import VFS
import WAL

@Suite struct WALPowerCutTests {
    @Test(arguments: 0..<25)
    func syncedRecordsSurviveAPowerCutAndTheRestIsAPrefix(seed: Int) throws {
        let fileSystem = try memoryDirectory()
        var random = SplitMix64(seed: UInt64(seed))
        let writer = try WALWriter.create(directory: "/db", segmentNumber: 1, databaseID: testDatabaseID, fileSystem: fileSystem)
        var written: [[UInt8]] = []
        var durable = 0
        for index in 0..<Int(200 + random.next() % 800) {
            let record = payload(index: index, size: Int(random.next() % 3_000))
            try writer.append(record)
            written.append(record)
            let roll = random.next() % 100
            if roll < 10 {
                try writer.sync()
                durable = written.count
            } else if roll < 12 {
                try writer.rotateNext()  // rotation seals (syncs) the segment
                durable = written.count
            } else if roll < 30 {
                try writer.flush()
            }
        }
        fileSystem.simulatePowerCut(.keepRandomPrefix(seed: UInt64(seed)))
        let (records, _) = try replayAll(fileSystem)
        // Every synced record is there; what follows is a prefix of what was written.
        #expect(records.count >= durable)
        #expect(Array(written.prefix(records.count)) == records)
    }
}
