import Foundation

/// Where a run stands: its event, the results of the steps that finished, failed tries so far.
/// The store loads it on resume, so a restarted run continues after its last finished step.
public struct RunState: Sendable {
    public var runID: String
    public var event: Value
    /// Finished steps' results by step id (`null` for a skipped step).
    public var results: [String: Value]
    /// Failed tries per step id.
    public var attempts: [String: Int]

    public init(runID: String, event: Value, results: [String: Value] = [:], attempts: [String: Int] = [:]) {
        self.runID = runID
        self.event = event
        self.results = results
        self.attempts = attempts
    }
}

/// Records step outcomes as they happen; the durable store implements it, tests may keep them in memory.
/// If recording throws, the engine stops and the run is retried later from the last recorded step.
public protocol RunJournal: Sendable {
    func stepFinished(runID: String, step: Step, index: Int, result: Value, skipped: Bool) async throws
    func stepFailed(runID: String, step: Step, index: Int, attempt: Int, error: ConnectorError) async throws
}

/// How a call to `Engine.execute` ended.
public enum RunOutcome: Sendable {
    case completed(results: [String: Value])
    /// A step must be tried again after `delay`; the caller decides how to wait (sleep or reschedule).
    case retry(stepID: String, after: Duration, error: ConnectorError)
    /// A step failed for good.
    case failed(StepFailure)
}

/// A step's final failure, carried with the step id.
public struct StepFailure: Error, Sendable, CustomStringConvertible {
    public var flow: String
    public var stepID: String
    public var error: ConnectorError
    public var attempts: Int
    /// The flow to start with this failure (`on_error: other-flow`).
    public var handler: String?

    public init(flow: String, stepID: String, error: ConnectorError, attempts: Int, handler: String? = nil) {
        self.flow = flow
        self.stepID = stepID
        self.error = error
        self.attempts = attempts
        self.handler = handler
    }

    public var description: String { "flow '\(flow)' step '\(stepID)' failed after \(attempts) attempt(s): \(error)" }
}
