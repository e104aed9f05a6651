/// Every key a flow file may use, declared once. YAML is snake_case; Swift names are camelCase.
enum FlowKey {
    static let name = "name"
    static let description = "description"
    static let on = "on"
    static let condition = "if"
    static let steps = "steps"
    static let all = [name, description, on, condition, steps]
}

enum TriggerKey {
    static let cron = "cron"
    static let timezone = "timezone"
    static let missed = "missed"
    static let grace = "grace"
    static let http = "http"
    static let event = "event"
    static let cronKeys = [cron, timezone, missed, grace]
}

enum StepKey {
    static let id = "id"
    static let name = "name"
    static let action = "do"
    static let inputs = "with"
    static let condition = "if"
    static let retry = "retry"
    static let onError = "on_error"
    static let all = [id, name, action, inputs, condition, retry, onError]
}

enum RetryKey {
    static let attempts = "attempts"
    static let backoff = "backoff"
    static let maxDelay = "max_delay"
    static let all = [attempts, backoff, maxDelay]
}

/// Names that expressions can always read, besides step ids.
enum ScopeRoot {
    static let event = "event"
    static let now = "now"
    static let all = [event, now]
}

/// The built-in trigger and instance names.
enum BuiltIn {
    static let hubInstance = "hub"
    static let runFailed = "run_failed"
    static let cronFields: [FieldSpec] = [
        .output("slot", .string, "the scheduled time (ISO 8601) this run is for"),
        .output("timezone", .string, "the schedule's time zone"),
    ]
    static let httpFields: [FieldSpec] = [
        .output("body", .any, "the request body: JSON or form fields"),
        .output("query", .object, "query string parameters"),
        .output("headers", .object, "request headers, names lowercased"),
    ]
    static let runFailedFields: [FieldSpec] = [
        .output("flow", .string, "the failed flow's name"),
        .output("run_id", .string, "the failed run"),
        .output("step", .string, "the step that failed"),
        .output("error", .string, "what went wrong"),
        .output("event", .any, "the failed run's event"),
    ]
}
