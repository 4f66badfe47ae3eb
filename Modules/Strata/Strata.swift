// The umbrella module: `import Strata` is all an application needs. It re-exports the Engine
// API and adds Foundation interoperability (`Data` keys and values).
@_exported import Engine

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension Data: BytesConvertible {
    // `Data.withUnsafeBytes(_:)` already has the required shape; its bytes are read in place.
}

extension Data: BytesDecodable {
    /// The stored bytes as `Data`.
    public init(strataBytes bytes: [UInt8]) {
        self.init(bytes)
    }
}
