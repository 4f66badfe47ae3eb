import Encoding

/// The kind of object-store failure `body` threw, or `nil` when it succeeded or threw something
/// else.
func failureKind(of body: () async throws -> Void) async -> ObjectStoreFailure.Kind? {
    do {
        try await body()
        return nil
    } catch StrataError.objectStore(let failure) {
        return failure.kind
    } catch {
        return nil
    }
}
