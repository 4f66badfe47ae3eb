// strata-fuzz: the libFuzzer driver for Strata's decoders (see `FuzzHarness`).
//
//     strata-fuzz <harness> [libFuzzer options] [corpus directories]     (built by `make fuzz`)
//     strata-fuzz <harness> FILE...        (an ordinary build: replay inputs, e.g. a crash)
//     strata-fuzz seed DIRECTORY           (write seed inputs for every harness)
//
// Harnesses: table, wal, version-edit, encoding, exec.
#if canImport(Glibc)
import Glibc
#endif
import StrataFuzzHarness

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    print("usage: strata-fuzz <\(FuzzHarness.allCases.map(\.rawValue).joined(separator: "|"))> [args] | strata-fuzz seed DIR")
    exit(2)
}

if arguments[1] == "seed" {
    guard arguments.count == 3 else { print("usage: strata-fuzz seed DIR"); exit(2) }
    do {
        for harness in FuzzHarness.allCases {
            let directory = arguments[2] + "/" + harness.rawValue
            mkdir(directory, 0o755)
            for (name, bytes) in try FuzzSeeds.seeds(for: harness) {
                let path = directory + "/seed-" + name
                guard let file = fopen(path, "wb") else { print("cannot write \(path)"); exit(1) }
                _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
                fclose(file)
            }
        }
    } catch {
        print("seeding failed: \(error)")
        exit(1)
    }
    exit(0)
}

// The harness is the first argument. libFuzzer re-runs this program for some jobs (`-merge=1`)
// with the options it was given, so the choice is also passed down in the environment.
let named = FuzzHarness(rawValue: arguments[1])
let inherited = getenv("STRATA_FUZZ_HARNESS").flatMap { FuzzHarness(rawValue: String(cString: $0)) }
guard let harness = named ?? inherited else {
    print("unknown harness \(arguments[1]); harnesses: \(FuzzHarness.allCases.map(\.rawValue).joined(separator: ", "))")
    exit(2)
}
setenv("STRATA_FUZZ_HARNESS", harness.rawValue, 1)
/// The arguments after the harness name.
let harnessArguments = named != nil ? Array(arguments.dropFirst(2)) : Array(arguments.dropFirst())

#if STRATA_FUZZING
// libFuzzer's own driver, with our first argument (the harness name) taken out.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32

nonisolated(unsafe) var selected: FuzzHarness = .table
selected = harness
var driverArguments: [UnsafeMutablePointer<CChar>?] = ([arguments[0]] + harnessArguments).map { strdup($0) } + [nil]
var count = Int32(driverArguments.count - 1)
let status = driverArguments.withUnsafeMutableBufferPointer { buffer -> Int32 in
    var base: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = buffer.baseAddress
    return LLVMFuzzerRunDriver(&count, &base) { data, size in
        selected.run(UnsafeRawBufferPointer(start: data, count: size))
        return 0
    }
}
exit(status)
#else
// Replay: run every given file (or every file of a given directory) through the harness.
var inputs = 0
for file in harnessArguments.flatMap(FuzzInputs.files(at:)) {
    FuzzInputs.read(file).withUnsafeBytes { harness.run($0) }
    inputs += 1
}
print("replayed \(inputs) inputs through \(harness.rawValue)")
#endif
