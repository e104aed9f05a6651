import Foundation

/// A checked flow: what starts it and the steps it runs, each with its place in the file.
public struct Flow: Sendable {
    public var name: String
    public var file: String
    public var trigger: Trigger
    /// A condition on the event: when false, no run is created.
    public var condition: Expression?
    public var steps: [Step]
    /// A hash of the file's text, so a run knows which version of the flow it started on.
    public var version: String

    public init(name: String, file: String, trigger: Trigger, condition: Expression? = nil, steps: [Step], version: String) {
        self.name = name
        self.file = file
        self.trigger = trigger
        self.condition = condition
        self.steps = steps
        self.version = version
    }
}

/// What starts a flow.
public enum Trigger: Sendable {
    /// An event declared by a connector instance: `on: prodamus.paid`.
    case event(instance: String, name: String)
    /// A schedule: `on: { cron: "0 9 * * *", timezone: Europe/Moscow }`.
    case cron(CronSchedule, timeZone: TimeZone, missed: MissedSlots)
    /// A generic webhook: `on: { http: /hooks/form }` (POST).
    case http(path: String)
    /// Another run failed for good: `on: hub.run_failed`.
    case runFailed

    /// The key the hub matches incoming events against: `prodamus.paid`, `cron`, `http:/path`, `hub.run_failed`.
    public var key: String {
        switch self {
        case .event(let instance, let name): "\(instance).\(name)"
        case .cron: "cron"
        case .http(let path): "http:\(path)"
        case .runFailed: "hub.run_failed"
        }
    }
}

/// What the scheduler does with slots that passed while the hub was down.
public enum MissedSlots: Sendable, Hashable {
    /// Run the latest missed slot once, if it is no older than the grace period (default 1 hour).
    case latest(grace: Duration)
    /// Run every missed slot within the grace period (the newest 1,000 at most), oldest first.
    case all(grace: Duration)
    /// Never run a missed slot.
    case skip

    /// The grace period when the flow gives none.
    public static let defaultGrace = Duration.seconds(3600)

    /// How late a slot may run: the grace period; `skip` names none, so the default.
    public var grace: Duration {
        switch self {
        case .latest(let grace), .all(let grace): grace
        case .skip: Self.defaultGrace
        }
    }
}

/// One step of a flow.
public struct Step: Sendable {
    /// The author's id, or `step<N>` (1-based) when none is given.
    public var id: String
    public var hasExplicitID: Bool
    public var instance: String
    public var action: String
    public var inputs: [String: ValueTemplate]
    public var condition: Expression?
    public var retry: RetryPolicy
    public var onError: ErrorPolicy
    public var location: SourceLocation

    public init(id: String, hasExplicitID: Bool, instance: String, action: String, inputs: [String: ValueTemplate],
                condition: Expression?, retry: RetryPolicy, onError: ErrorPolicy, location: SourceLocation)
    {
        self.id = id
        self.hasExplicitID = hasExplicitID
        self.instance = instance
        self.action = action
        self.inputs = inputs
        self.condition = condition
        self.retry = retry
        self.onError = onError
        self.location = location
    }
}

/// How often and how patiently a failing step is tried again.
public struct RetryPolicy: Sendable, Hashable {
    /// Total tries, the first one included.
    public var attempts: Int
    /// Delay before the second try; doubles each time, with jitter.
    public var backoff: Duration
    public var maxDelay: Duration

    public init(attempts: Int = 3, backoff: Duration = .seconds(1), maxDelay: Duration = .seconds(300)) {
        self.attempts = attempts
        self.backoff = backoff
        self.maxDelay = maxDelay
    }

    /// The delay before try number `attempt + 1`, with ±20 % jitter so retries spread out.
    public func delay(afterAttempt attempt: Int, jitter: Double = Double.random(in: 0.8...1.2)) -> Duration {
        let base = backoff * (1 << min(max(attempt - 1, 0), 20))
        return min(base, maxDelay) * jitter
    }
}

/// What happens when a step fails for good.
public enum ErrorPolicy: Sendable, Hashable {
    /// The run fails (and `hub.run_failed` flows see it).
    case fail
    /// The step's result is `null` and the run goes on.
    case `continue`
    /// The run fails and the named flow starts with the failure as its event.
    case flow(String)
}

/// A `with:` value: a literal, a template, or a list or mapping of them.
public indirect enum ValueTemplate: Sendable, Hashable {
    case literal(Value)
    case template(Template)
    case array([ValueTemplate])
    case object([String: ValueTemplate])

    /// The value when nothing in it is a template.
    public var literalValue: Value? {
        switch self {
        case .literal(let v): return v
        case .template: return nil
        case .array(let items):
            var out: [Value] = []
            for item in items {
                guard let v = item.literalValue else { return nil }
                out.append(v)
            }
            return .array(out)
        case .object(let members):
            var out: [String: Value] = [:]
            for (k, item) in members {
                guard let v = item.literalValue else { return nil }
                out[k] = v
            }
            return .object(out)
        }
    }

    public func render(in scope: Scope) throws(ExpressionError) -> Value {
        switch self {
        case .literal(let v): return v
        case .template(let t): return try t.render(in: scope)
        case .array(let items):
            var out: [Value] = []
            for item in items { out.append(try item.render(in: scope)) }
            return .array(out)
        case .object(let members):
            var out: [String: Value] = [:]
            for (k, v) in members { out[k] = try v.render(in: scope) }
            return .object(out)
        }
    }
}
