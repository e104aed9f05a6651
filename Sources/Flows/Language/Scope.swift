import Foundation

/// What expressions can read while a run executes: `event`, each finished step's result by id,
/// `now`, and the flow's time zone for the `date` filter.
public struct Scope: Sendable {
    public var values: [String: Value]
    public var now: Date
    public var timeZone: TimeZone

    public init(values: [String: Value] = [:], now: Date = Date(), timeZone: TimeZone = .current) {
        self.values = values
        self.now = now
        self.timeZone = timeZone
    }

    /// Looks up a dotted path; a missing member is `null`, as in templates an admin expects.
    public func resolve(_ path: [String]) -> Value {
        guard let root = path.first else { return .null }
        var value: Value
        if root == "now" && values["now"] == nil {
            value = .string(Scope.iso8601(now))
        } else {
            value = values[root] ?? .null
        }
        for member in path.dropFirst() {
            guard let next = value[member] else { return .null }
            value = next
        }
        return value
    }

    static func iso8601(_ date: Date) -> String {
        date.formatted(.iso8601)
    }
}
