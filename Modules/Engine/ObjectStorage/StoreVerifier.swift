import Encoding
import ObjectStore

/// What `strata objects verify` checks in a store: every manifest and WAL object decodes with
/// valid checksums, every file a manifest names is there with its size, and the WAL objects from
/// the oldest manifest's replay start to the newest have no gap.
package struct StoreVerifier {
    /// The findings: problems (each naming an object) and counts.
    package struct Report: Sendable {
        package var problems: [String] = []
        package var manifests = 0
        package var walObjects = 0
        package var tables = 0
        package var bytes: UInt64 = 0
        package var firstWAL: UInt64?
        package var lastWAL: UInt64?
        package var latestManifest: UInt64?
        package var latestEpoch: UInt64?
    }

    package let store: any ObjectStore

    package init(store: any ObjectStore) { self.store = store }

    /// Runs the checks; never throws for damage (it is reported), only for the store's errors.
    package func verify() throws -> Report {
        let store = store
        return try blockingAwait {
            var report = Report()
            var sizes: [String: UInt64] = [:]
            var manifestNumbers: [UInt64] = []
            var walNumbers: [UInt64] = []
            for try await object in store.objects(prefix: "") {
                sizes[object.key] = object.size
                report.bytes += object.size
                if let number = StoreLayout.number(of: object.key, prefix: StoreLayout.manifestPrefix) { manifestNumbers.append(number) }
                if let number = StoreLayout.number(of: object.key, prefix: StoreLayout.walPrefix) { walNumbers.append(number) }
                if object.key.hasPrefix(StoreLayout.tablePrefix) { report.tables += 1 }
            }
            var firstNeeded: UInt64?
            for number in manifestNumbers {
                let key = StoreLayout.manifestKey(number)
                do {
                    let manifest = try StoreManifest(decoding: try await store.get(key, range: nil), key: key)
                    report.manifests += 1
                    if manifest.number != number { report.problems.append("\(key): says it is manifest \(manifest.number)") }
                    for file in manifest.files {
                        guard let size = sizes[file.key] else {
                            report.problems.append("\(key): names \(file.key), which is missing")
                            continue
                        }
                        if size != file.size { report.problems.append("\(key): \(file.key) holds \(size) bytes, the manifest says \(file.size)") }
                    }
                    firstNeeded = min(firstNeeded ?? manifest.firstWALObject, manifest.firstWALObject)
                    report.latestManifest = number
                    report.latestEpoch = manifest.epoch
                } catch {
                    report.problems.append("\(key): \(error)")
                }
            }
            var previous: UInt64?
            for number in walNumbers {
                let key = StoreLayout.walKey(number)
                do {
                    let object = try WALObject(decoding: try await store.get(key, range: nil), key: key)
                    report.walObjects += 1
                    if object.number != number { report.problems.append("\(key): says it is WAL object \(object.number)") }
                } catch {
                    report.problems.append("\(key): \(error)")
                }
                if let previous, number != previous + 1, number > (firstNeeded ?? 0) {
                    report.problems.append("\(key): WAL objects \(previous + 1)…\(number - 1) are missing")
                }
                previous = number
            }
            if let firstNeeded, let first = walNumbers.first, first > firstNeeded {
                report.problems.append("WAL objects from \(firstNeeded) are needed, but the first is \(first)")
            }
            report.firstWAL = walNumbers.first
            report.lastWAL = walNumbers.last
            return report
        }
    }
}
