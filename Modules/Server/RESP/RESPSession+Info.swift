#if canImport(Glibc)
import Glibc
#endif
import Encoding
import Strata

extension RESPSession {
    /// INFO's text: the requested sections (default, "all" or "everything": every section) in
    /// Redis' `field:value` lines, engine statistics under `# Strata`.
    func info(_ sections: [String]) -> String {
        let all = ["server", "clients", "stats", "persistence", "keyspace", "strata"]
        let wanted = sections.isEmpty || sections.contains("all") || sections.contains("everything") || sections.contains("default")
            ? all : sections.filter(all.contains)
        let statistics = keyspace.database.statistics
        var text = ""
        for section in wanted {
            var lines: [(String, String)] = []
            switch section {
            case "server":
                let uptime = (WallClock.monotonicNanoseconds() - server.started) / 1_000_000_000
                lines = [
                    ("redis_version", Self.redisVersion), ("redis_mode", "standalone"), ("server_name", "strata-server"),
                    ("process_id", String(getpid())), ("tcp_port", String(server.port.load(ordering: .relaxed))),
                    ("uptime_in_seconds", String(uptime)), ("uptime_in_days", String(uptime / 86_400)),
                ]
            case "clients":
                lines = [("connected_clients", String(server.connectedClients.load(ordering: .relaxed)))]
            case "stats":
                lines = [
                    ("total_connections_received", String(server.connectionsReceived.load(ordering: .relaxed))),
                    ("total_commands_processed", String(server.commandsProcessed.load(ordering: .relaxed))),
                    ("rejected_connections", String(server.rejectedConnections.load(ordering: .relaxed))),
                    ("keyspace_hits", String(statistics.getHits)),
                    ("keyspace_misses", String(statistics.gets - statistics.getHits)),
                ]
            case "persistence":
                lines = [
                    ("loading", "0"), ("aof_enabled", "1"), ("appendfsync", keyspace.fsync.rawValue),
                    ("rdb_changes_since_last_save", "0"), ("wal_syncs", String(statistics.walSyncs)),
                ]
            case "keyspace":
                if let count = try? liveKeyCount(now: keyspace.now()), count > 0 {
                    lines = [("db0", "keys=\(count),expires=0,avg_ttl=0")]
                }
            case "strata":
                lines = [
                    ("puts", String(statistics.puts)), ("deletes", String(statistics.deletes)), ("gets", String(statistics.gets)),
                    ("memtable_bytes", String(statistics.memtableBytes)), ("frozen_memtables", String(statistics.frozenMemtables)),
                    ("flushes", String(statistics.flushes)), ("write_amplification", RESPNumber.format(statistics.writeAmplification)),
                    ("block_cache_hits", String(statistics.blockCacheHits)), ("block_cache_misses", String(statistics.blockCacheMisses)),
                    ("stall_microseconds", String(statistics.stallMicroseconds)), ("last_sequence", String(statistics.lastSequence)),
                    ("transaction_commits", String(statistics.transactionCommits)), ("transaction_conflicts", String(statistics.transactionConflicts)),
                ] + statistics.levels.enumerated().filter { $0.element.files > 0 }.map { ("level\($0.offset)", "files=\($0.element.files),bytes=\($0.element.bytes)") }
            default:
                continue
            }
            text += "# \(section.prefix(1).uppercased() + section.dropFirst())\r\n"
            for (key, value) in lines { text += "\(key):\(value)\r\n" }
            text += "\r\n"
        }
        return text
    }
}
