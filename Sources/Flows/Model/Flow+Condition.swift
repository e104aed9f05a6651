import Foundation

extension Flow {
    /// Whether the flow's `if:` lets `event` start a run. A flow without one takes every event; a
    /// condition that cannot be evaluated turns the event down, as a false one does.
    public func accepts(_ event: Value) -> Bool {
        (try? admits(event)) ?? false
    }

    /// `accepts`, with the reason a condition cannot be evaluated, for a caller that reports it.
    public func admits(_ event: Value) throws -> Bool {
        guard let condition else { return true }
        return try condition.evaluate(in: Scope(values: ["event": event], timeZone: timeZone)).isTruthy
    }
}
