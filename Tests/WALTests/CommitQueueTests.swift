import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import Testing
import Encoding
import WAL

/// A request for the queue under test: `bytes == nil` travels alone.
struct TestRequest: GroupCommitRequest, Equatable {
    var thread: Int
    var index: Int
    var bytes: Int?
    var sync = false

    var groupedBytes: Int? { bytes }
    var wantsSync: Bool { sync }
}

@Suite struct CommitQueueTests {
    @Test func aLoneWriterLeadsItsOwnGroupOfOne() throws {
        let groups = Locked<[[TestRequest]]>([])
        let queue = CommitQueue<TestRequest>(policy: .standard) { group in groups.withLock { $0.append(group) } }
        for index in 0..<10 { try queue.submit(TestRequest(thread: 0, index: index, bytes: 10)) }
        let seen = groups.withLock { $0 }
        #expect(seen.count == 10)
        #expect(seen.allSatisfy { $0.count == 1 })
        #expect(seen.map { $0[0].index } == Array(0..<10))
    }

    @Test func concurrentWritersAreProcessedOnceEachInSubmissionOrderOneGroupAtATime() throws {
        let threads = 8
        let perThread = 2_000
        let processed = Locked<[TestRequest]>([])
        let groupCount = Atomic<Int>(0)
        let inside = Atomic<Int>(0)
        let overlaps = Atomic<Int>(0)
        let queue = CommitQueue<TestRequest>(policy: .standard) { group in
            if inside.add(1, ordering: .acquiringAndReleasing).newValue != 1 { overlaps.add(1, ordering: .relaxed) }
            processed.withLock { $0.append(contentsOf: group) }
            groupCount.add(1, ordering: .relaxed)
            inside.subtract(1, ordering: .acquiringAndReleasing)
        }
        Threads.run(threads) { thread in
            for index in 0..<perThread { try! queue.submit(TestRequest(thread: thread, index: index, bytes: 100)) }
        }
        let all = processed.withLock { $0 }
        #expect(overlaps.load(ordering: .relaxed) == 0, "process ran concurrently with itself")
        #expect(all.count == threads * perThread)
        // Each thread's requests appear once, in its own submission order (submit returns only
        // after its request was processed, so a thread's next request always comes later).
        var next = [Int](repeating: 0, count: threads)
        for request in all {
            #expect(request.index == next[request.thread])
            next[request.thread] = request.index + 1
        }
        print("commit queue: \(all.count) requests in \(groupCount.load(ordering: .relaxed)) groups")
    }

    @Test func requestsThatTravelAloneFormGroupsOfTheirOwn() throws {
        let groups = Locked<[[TestRequest]]>([])
        let gate = DispatchSemaphore(value: 0)
        let queue = CommitQueue<TestRequest>(policy: .standard) { group in
            // The first group holds the leader back until every other thread has queued.
            if group.first?.index == -1 { gate.wait() }
            groups.withLock { $0.append(group) }
        }
        var workers = [Threads.start { try! queue.submit(TestRequest(thread: 0, index: -1, bytes: 1)) }]
        usleep(20_000)  // the leader is now blocked inside `process`
        for index in 0..<6 {
            workers.append(Threads.start {
                // Even indices are groupable writes, odd ones travel alone.
                try! queue.submit(TestRequest(thread: 1 + index, index: index, bytes: index % 2 == 0 ? 10 : nil))
            })
            usleep(5_000)  // queue them in index order
        }
        gate.signal()
        for worker in workers { worker.join() }
        for group in groups.withLock({ $0 }) where group.count > 1 {
            #expect(group.allSatisfy { $0.bytes != nil }, "a travel-alone request shared a group: \(group)")
        }
        #expect(groups.withLock { $0 }.flatMap { $0 }.count == 7)
    }

    @Test func aGroupStopsAtThePolicysByteLimit() throws {
        let policy = WriteGroupPolicy(maxGroupBytes: 300, syncCollectionWindowNanoseconds: 0)
        let groups = Locked<[[TestRequest]]>([])
        let gate = DispatchSemaphore(value: 0)
        let queue = CommitQueue<TestRequest>(policy: policy) { group in
            if group.first?.index == -1 { gate.wait() }
            groups.withLock { $0.append(group) }
        }
        var workers = [Threads.start { try! queue.submit(TestRequest(thread: 0, index: -1, bytes: 1)) }]
        usleep(20_000)
        for index in 0..<10 {
            workers.append(Threads.start { try! queue.submit(TestRequest(thread: 1, index: index, bytes: 100)) })
        }
        usleep(50_000)
        gate.signal()
        for worker in workers { worker.join() }
        let sizes = groups.withLock { $0 }.map { $0.reduce(0) { $0 + ($1.bytes ?? 0) } }
        #expect(sizes.allSatisfy { $0 <= 300 }, "\(sizes)")
        #expect(groups.withLock { $0 }.flatMap { $0 }.count == 11)
        // The ten queued writes did share groups (three per group at most).
        #expect(groups.withLock { $0 }.contains { $0.count == 3 })
    }

    @Test func anErrorReachesEveryMemberOfItsGroupAndOnlyThatGroup() throws {
        struct Failure: Error {}
        let gate = DispatchSemaphore(value: 0)
        let queue = CommitQueue<TestRequest>(policy: .standard) { group in
            if group.first?.index == -1 { gate.wait() }
            if group.contains(where: { $0.index == 3 }) { throw Failure() }
        }
        var workers = [Threads.start { try! queue.submit(TestRequest(thread: 0, index: -1, bytes: 1)) }]
        usleep(20_000)
        let outcomes = Locked<[Int: Bool]>([:])
        for index in 0..<6 {
            workers.append(Threads.start {
                let ok = (try? queue.submit(TestRequest(thread: 1, index: index, bytes: 10))) != nil
                outcomes.withLock { $0[index] = ok }
            })
        }
        usleep(50_000)
        gate.signal()
        for worker in workers { worker.join() }
        // All six queued behind the leader and formed one group with request 3: all fail.
        #expect(outcomes.withLock { $0 }.count == 6)
        #expect(outcomes.withLock { $0 }.values.allSatisfy { !$0 })
        // The queue stays usable after a failed group.
        try queue.submit(TestRequest(thread: 0, index: 100, bytes: 10))
    }

    @Test func thePolicyGroupsWritesAndOpensTheWindowOnlyForSyncs() {
        let policy = WriteGroupPolicy(maxGroupBytes: 250, syncCollectionWindowNanoseconds: 7_000)
        let write = TestRequest(thread: 0, index: 0, bytes: 100)
        let synced = TestRequest(thread: 0, index: 1, bytes: 100, sync: true)
        let alone = TestRequest(thread: 0, index: 2, bytes: nil)
        #expect(policy.accepts([write], write))
        #expect(!policy.accepts([write, write], write))  // 300 > 250
        #expect(!policy.accepts([write], alone))
        #expect(!policy.accepts([alone], write))
        #expect(policy.collectionWindow([write, write]) == 0)
        #expect(policy.collectionWindow([write, synced]) == 7_000)
        #expect(WriteGroupPolicy.standard.maxGroupBytes == 1 << 20)
    }
}
