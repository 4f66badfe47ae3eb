// Types of lower modules that appear in the Engine's public API, re-exported so `import Strata`
// (or `import Engine`) is enough to use them.
@_exported import struct Encoding.SequenceNumber
@_exported import enum Encoding.StrataError
@_exported import enum Encoding.Compression
@_exported import protocol VFS.FileSystem
@_exported import struct VFS.PosixFileSystem
@_exported import class VFS.MemoryFileSystem
@_exported import class VFS.FaultInjectionFileSystem
@_exported import struct WAL.WriteBatch
@_exported import enum WAL.WALRecoveryMode
@_exported import protocol Encoding.BytesConvertible
@_exported import protocol Encoding.BytesDecodable
@_exported import enum Encoding.KeyRange
@_exported import struct Encoding.ObjectStoreFailure
@_exported import protocol ObjectStore.ObjectStore
@_exported import class ObjectStore.LocalObjectStore
@_exported import class ObjectStore.MemoryObjectStore
@_exported import class ObjectStore.FaultInjectingObjectStore
@_exported import protocol Compaction.CompactionFilter
@_exported import struct Compaction.ExpiryCompactionFilter
@_exported import enum Compaction.ExpiringValue
