#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Encoding
import GRPCCore
import Strata
import Tables

// The Query RPC: a typed table read through its stored layout (UntypedTableQuery), without the
// table's Swift schema. Contract: Protos/strata/v1/strata.proto; Docs/SERVER.md.

extension KVService {
    /// Rows per query message (a chunk is also cut at `scanChunkBytes` of encoded rows).
    static let queryChunkRows = 128

    func query(request: Strata_V1_QueryRequest, response: RPCWriter<Strata_V1_QueryResponse>, context: ServerContext) async throws {
        try await mappingErrors {
            try configuration.checkSize(request)
            let query = try KVService.untypedQuery(request)
            let keyspace = try keyspace(named: request.keyspace)
            let snapshot = try snapshots.snapshot(request.snapshotID) ?? database.snapshot()
            let projection = request.fields
            // The rows are read on the database's threads a chunk at a time; the next chunk is read
            // only once the client took the previous one (`write` waits on flow control).
            var position = query.after
            var remaining = request.limit == 0 ? UInt64.max : request.limit
            while remaining > 0 {
                if context.cancellation.isCancelled { throw RPCError(code: .cancelled, message: "the query's RPC was cancelled (deadline or client)") }
                try Task.checkCancellation()
                var next = query
                next.after = position
                next.limit = Int(min(remaining, UInt64(KVService.queryChunkRows)))
                let page = next
                let rows: [UntypedRow] = try await database.executor.run {
                    var rows: [UntypedRow] = []
                    var bytes = 0
                    try page.run(in: keyspace, at: snapshot) { row in
                        rows.append(row)
                        bytes += row.primaryKey.count + row.position.count + 64
                        return bytes < KVService.scanChunkBytes
                    }
                    return rows
                }
                guard let last = rows.last else { break }
                try await response.write(.with { chunk in
                    chunk.rows = rows.map { row in
                        .with {
                            $0.primaryKey = Data(row.primaryKey)
                            $0.record = Strata_V1_Value(row.record, fields: projection)
                            $0.position = Data(row.position)
                        }
                    }
                })
                remaining -= UInt64(rows.count)
                position = last.position
            }
        }
    }

    /// The query a request describes (everything but the keyspace, snapshot and projection).
    static func untypedQuery(_ request: Strata_V1_QueryRequest) throws -> UntypedTableQuery {
        guard !request.table.isEmpty else { throw StrataError.invalidArgument("a query names its table") }
        var query = UntypedTableQuery(table: request.table)
        if !request.keyPrefix.isEmpty { query.keyPrefix = Array(request.keyPrefix) }
        if !request.index.isEmpty { query.index = request.index }
        if !request.prefix.isEmpty { query.prefix = try encode(request.prefix) }
        if !request.start.isEmpty { query.from = try encode(request.start) }
        if !request.end.isEmpty { query.to = try encode(request.end) }
        if let from = query.from, let to = query.to, BytewiseComparator.compare(from, to) > 0 {
            throw StrataError.invalidArgument("the query's start sorts after its end")
        }
        query.filters = try request.filters.map { filter in
            guard !filter.field.isEmpty else { throw StrataError.invalidArgument("a filter names its field") }
            let comparison: RecordFilter.Comparison
            switch filter.comparison {
            case .equal: comparison = .equal
            case .notEqual: comparison = .notEqual
            case .less: comparison = .less
            case .lessOrEqual: comparison = .lessOrEqual
            case .greater: comparison = .greater
            case .greaterOrEqual: comparison = .greaterOrEqual
            case .hasPrefix: comparison = .hasPrefix
            case .hasSuffix: comparison = .hasSuffix
            case .UNRECOGNIZED(let raw): throw StrataError.invalidArgument("unknown filter comparison \(raw)")
            }
            return RecordFilter(field: filter.field, comparison, try RecordValue(filter.value, depth: 0))
        }
        query.reversed = request.reverse
        if !request.after.isEmpty { query.after = Array(request.after) }
        return query
    }

    /// The ordered-key encoding of a key's leading fields.
    static func encode(_ parts: [Strata_V1_KeyPart]) throws -> [UInt8] {
        var bytes: [UInt8] = []
        for part in parts {
            switch part.kind {
            case .int64(let value)?: bytes += value.orderedKeyBytes
            case .int32(let value)?: bytes += value.orderedKeyBytes
            case .int16(let value)?:
                guard let narrow = Int16(exactly: value) else { throw StrataError.invalidArgument("int16 key part \(value) out of range") }
                bytes += narrow.orderedKeyBytes
            case .int8(let value)?:
                guard let narrow = Int8(exactly: value) else { throw StrataError.invalidArgument("int8 key part \(value) out of range") }
                bytes += narrow.orderedKeyBytes
            case .uint64(let value)?: bytes += value.orderedKeyBytes
            case .uint32(let value)?: bytes += value.orderedKeyBytes
            case .uint16(let value)?:
                guard let narrow = UInt16(exactly: value) else { throw StrataError.invalidArgument("uint16 key part \(value) out of range") }
                bytes += narrow.orderedKeyBytes
            case .uint8(let value)?:
                guard let narrow = UInt8(exactly: value) else { throw StrataError.invalidArgument("uint8 key part \(value) out of range") }
                bytes += narrow.orderedKeyBytes
            case .string(let value)?: bytes += value.orderedKeyBytes
            case .bytes(let value)?: bytes += Array(value).orderedKeyBytes
            case .bool(let value)?: bytes += value.orderedKeyBytes
            case .double(let value)?: bytes += value.orderedKeyBytes
            case .date(let value)?: bytes += Date(timeIntervalSince1970: value).orderedKeyBytes
            case .uuid(let value)?:
                guard value.count == 16 else { throw StrataError.invalidArgument("a uuid key part has 16 bytes, not \(value.count)") }
                bytes += Array(value)
            case nil: throw StrataError.invalidArgument("a key part without a value")
            }
        }
        return bytes
    }
}

extension Strata_V1_Value {
    /// `value` on the wire; for an object with `fields` non-empty, only those fields, in that order.
    init(_ value: RecordValue, fields: [String] = []) {
        self.init()
        switch value {
        case .null: kind = .null(true)
        case .bool(let bool): kind = .bool(bool)
        case .int(let int): kind = .int(int)
        case .uint(let uint): kind = .uint(uint)
        case .double(let double): kind = .double(double)
        case .string(let string): kind = .string(string)
        case .bytes(let bytes): kind = .bytes(Data(bytes))
        case .array(let items): kind = .list(.with { $0.items = items.map { Strata_V1_Value($0) } })
        case .object(let all):
            let chosen = fields.isEmpty ? all : fields.compactMap { name in all.last { $0.name == name } }
            kind = .object(.with { $0.fields = chosen.map { field in .with { $0.name = field.name; $0.value = Strata_V1_Value(field.value) } } })
        }
    }
}

extension RecordValue {
    /// A filter's value from the wire (nesting bounded like a stored record's).
    init(_ value: Strata_V1_Value, depth: Int) throws {
        guard depth < RecordValue.maxDepth else { throw StrataError.invalidArgument("a filter value nested deeper than \(RecordValue.maxDepth)") }
        switch value.kind {
        case .null?: self = .null
        case .bool(let bool)?: self = .bool(bool)
        case .int(let int)?: self = .int(int)
        case .uint(let uint)?: self = .uint(uint)
        case .double(let double)?: self = .double(double)
        case .string(let string)?: self = .string(string)
        case .bytes(let bytes)?: self = .bytes(Array(bytes))
        case .list(let list)?: self = .array(try list.items.map { try RecordValue($0, depth: depth + 1) })
        case .object(let object)?: self = .object(try object.fields.map { RecordField(name: $0.name, value: try RecordValue($0.value, depth: depth + 1)) })
        case nil: throw StrataError.invalidArgument("a filter without a value")
        }
    }
}
