/// The problems a check found: the first `kept` in words, and how many in all (a damaged table
/// can have millions; a report stays small).
struct ProblemList: Sendable {
    static let kept = 100
    private(set) var first: [String] = []
    private(set) var count = 0

    mutating func report(_ problem: String) {
        count += 1
        if first.count < ProblemList.kept { first.append(problem) }
    }
}
