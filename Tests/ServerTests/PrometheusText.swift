import Engine

/// A parser for the Prometheus text exposition format (version 0.0.4), strict enough that a
/// malformed line fails the test: `# HELP` / `# TYPE` comments, then samples
/// `name{label="value",…} number`.
struct PrometheusText {
    struct Sample {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    var samples: [Sample] = []
    var types: [String: String] = [:]

    static func parse(_ text: String) throws -> PrometheusText {
        var result = PrometheusText()
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: true).enumerated() {
            func fail(_ why: String) -> StrataError { StrataError.invalidArgument("line \(number + 1) \(why): \(line)") }
            if line.hasPrefix("#") {
                let parts = line.split(separator: " ", maxSplits: 3)
                guard parts.count >= 3, parts[1] == "HELP" || parts[1] == "TYPE" else { throw fail("is a malformed comment") }
                if parts[1] == "TYPE" {
                    guard parts.count == 4, ["counter", "gauge", "histogram", "summary", "untyped"].contains(parts[3]) else { throw fail("has a bad TYPE") }
                    result.types[String(parts[2])] = String(parts[3])
                }
                continue
            }
            var rest = Substring(line)
            let nameEnd = rest.firstIndex(where: { $0 == "{" || $0 == " " }) ?? rest.endIndex
            let name = String(rest[..<nameEnd])
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == ":" }) else { throw fail("has a bad metric name") }
            rest = rest[nameEnd...]
            var labels: [String: String] = [:]
            if rest.first == "{" {
                rest = rest.dropFirst()
                while rest.first != "}" {
                    guard let equals = rest.firstIndex(of: "=") else { throw fail("has a label without =") }
                    let label = String(rest[..<equals])
                    rest = rest[rest.index(after: equals)...]
                    guard rest.first == "\"" else { throw fail("has an unquoted label value") }
                    rest = rest.dropFirst()
                    var value = ""
                    while let character = rest.first, character != "\"" {
                        if character == "\\" {
                            rest = rest.dropFirst()
                            guard let escaped = rest.first else { throw fail("ends inside an escape") }
                            value.append(escaped == "n" ? "\n" : escaped)
                        } else {
                            value.append(character)
                        }
                        rest = rest.dropFirst()
                    }
                    guard rest.first == "\"" else { throw fail("has an unterminated label value") }
                    rest = rest.dropFirst()
                    labels[label] = value
                    if rest.first == "," { rest = rest.dropFirst() }
                }
                rest = rest.dropFirst()
            }
            let fields = rest.split(separator: " ")
            guard fields.count == 1 || fields.count == 2 else { throw fail("has no value") }
            let valueText = String(fields[0])
            guard let value = Double(valueText) ?? (valueText == "+Inf" ? .infinity : valueText == "-Inf" ? -.infinity : valueText == "NaN" ? .nan : nil) else {
                throw fail("has a value that is not a number")
            }
            result.samples.append(Sample(name: name, labels: labels, value: value))
        }
        return result
    }

    /// The sum of the samples named `name` whose labels include `labels`.
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double {
        samples.filter { sample in sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value } }.reduce(0) { $0 + $1.value }
    }
}
