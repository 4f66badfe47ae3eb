import Encoding
import ObjectStore

/// Builds a store from the URL forms the tools and the server accept.
public enum ObjectStoreURL {
    /// `file:///path` → ``LocalObjectStore``; `s3://bucket/prefix` → ``S3ObjectStore`` with
    /// credentials, region and endpoint from the environment (`AWS_*`), overridden by the
    /// explicit arguments.
    ///
    /// - Throws: `StrataError.invalidArgument` for another scheme, a malformed URL, or missing
    ///   S3 credentials.
    public static func open(_ url: String, endpoint: String? = nil, region: String? = nil, pathStyle: Bool? = nil) throws -> any ObjectStore {
        if url.hasPrefix("file://") {
            let path = String(url.dropFirst("file://".count))
            guard path.hasPrefix("/") else {
                throw StrataError.invalidArgument("object store URL \(url.debugDescription) needs an absolute path: file:///path")
            }
            return try LocalObjectStore(root: path)
        }
        if url.hasPrefix("s3://") {
            return try S3ObjectStore(S3Configuration.fromEnvironment(url: url, region: region, endpoint: endpoint, pathStyle: pathStyle))
        }
        throw StrataError.invalidArgument("object store URL \(url.debugDescription) must start with file:// or s3://")
    }
}
