import Foundation
import Logging

/// Runs a flow's steps against connector instances: renders inputs, evaluates `if:`, passes
/// results on, and reports failures with the step id. It never sleeps and keeps no state:
/// a durable worker or the in-process runner decides when to call it again.
public struct Engine: Sendable {
    public let connectors: [String: any Connector]
    public let specs: [String: ConnectorSpec]
    public var logger: Logger

    public init(connectors: [String: any Connector], logger: Logger = Logger(label: "hub.engine")) {
        self.connectors = connectors
        self.specs = connectors.mapValues { type(of: $0).spec }
        self.logger = logger
    }

    /// Runs the steps after the last recorded one; returns when the run finishes, fails or must wait.
    public func execute(_ flow: Flow, state: RunState, journal: any RunJournal, now: @Sendable () -> Date = Date.init) async throws -> RunOutcome {
        var scope = Scope(values: state.results, now: now(), timeZone: flow.timeZone)
        scope.values[ScopeRoot.event] = state.event
        for (index, step) in flow.steps.enumerated() where state.results[step.id] == nil {
            scope.now = now()
            let attempt = (state.attempts[step.id] ?? 0) + 1
            let result: Value
            do {
                if let condition = step.condition, !(try Self.holds(condition, in: scope)) {
                    try await journal.stepFinished(runID: state.runID, step: step, index: index, result: .null, skipped: true)
                    scope.values[step.id] = .null
                    continue
                }
                result = try await perform(step, flow: flow, scope: scope, runID: state.runID)
            } catch let failure as ConnectorError {
                try await journal.stepFailed(runID: state.runID, step: step, index: index, attempt: attempt, error: failure)
                if case .permanent = failure.disposition {} else if attempt < step.retry.attempts {
                    // A service's own wait, kept within an hour: a run must not be parked for a year.
                    let delay: Duration = if case .retryAfter(let d) = failure.disposition { min(max(d, .zero), .seconds(3600)) }
                        else { step.retry.delay(afterAttempt: attempt) }
                    return .retry(stepID: step.id, after: delay, error: failure)
                }
                if step.onError == .continue {
                    try await journal.stepFinished(runID: state.runID, step: step, index: index, result: .null, skipped: false)
                    scope.values[step.id] = .null
                    continue
                }
                let handler: String? = if case .flow(let name) = step.onError { name } else { nil }
                return .failed(StepFailure(flow: flow.name, stepID: step.id, error: failure, attempts: attempt, handler: handler))
            }
            try await journal.stepFinished(runID: state.runID, step: step, index: index, result: result, skipped: false)
            scope.values[step.id] = result
        }
        var results = scope.values
        results[ScopeRoot.event] = nil
        return .completed(results: results)
    }

    /// Whether a step's `if:` holds. A condition that cannot be evaluated (a time zone from the
    /// event that does not exist) is a permanent failure of the step, as a bad input is: thrown
    /// as is, it left the run to be retried every few seconds for ever.
    private static func holds(_ condition: Expression, in scope: Scope) throws(ConnectorError) -> Bool {
        do {
            return try condition.evaluate(in: scope).isTruthy
        } catch {
            throw .permanent("bad-condition", "cannot evaluate 'if': \(error.message)")
        }
    }

    /// Renders the inputs and calls the connector. Template and input problems are permanent failures.
    private func perform(_ step: Step, flow: Flow, scope: Scope, runID: String) async throws(ConnectorError) -> Value {
        guard let connector = connectors[step.instance], let action = specs[step.instance]?.action(step.action) else {
            throw .permanent("unknown-action", "connector instance '\(step.instance)' with action '\(step.action)' is not running")
        }
        var inputs: [String: Value] = [:]
        do {
            for (name, template) in step.inputs { inputs[name] = try template.render(in: scope) }
        } catch {
            throw .permanent("bad-template", "cannot render inputs: \(error.message)")
        }
        for field in action.inputs where field.required && (inputs[field.name] ?? .null).isNull {
            throw .permanent("missing-input", "input '\(field.name)' of \(step.instance).\(step.action) is empty")
        }
        let call = ActionCall(action: step.action, inputs: Fields(inputs), idempotencyKey: "\(runID):\(step.id)",
                              runID: runID, stepID: step.id, flow: flow.name, logger: logger)
        do {
            return try await connector.perform(call)
        } catch let error as ConnectorError {
            throw error
        } catch is CancellationError {
            throw ConnectorError(code: "cancelled", "the hub is shutting down")
        } catch {
            throw ConnectorError(code: "error", "\(error)")
        }
    }
}

extension Flow {
    /// The zone templates format dates in: the schedule's, or UTC.
    public var timeZone: TimeZone {
        if case .cron(_, let zone, _) = trigger { return zone }
        return Flow.utc
    }

    /// Made once: looking a zone up by name goes through Foundation's zone database each time.
    private static let utc = TimeZone(identifier: "UTC")!
}
