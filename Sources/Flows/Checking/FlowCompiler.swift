import Foundation

/// Turns a flow file into a checked `Flow`, collecting every problem on the way instead of
/// stopping at the first, each located at file:line:col with a note on what to write instead.
public struct FlowCompiler {
    public let catalog: Catalog
    public let environment: [String: String]
    var diagnostics: [Diagnostic] = []
    var file = ""
    /// Values this file took from the environment, with their variable's name: a message that
    /// quotes a value shows `${NAME}` instead, since the value may be a secret.
    var substituted: [String: String] = [:]
    /// Every `${NAME}` substituted in this file, in order, with where it was written.
    var environmentReferences: [(name: String, scalar: SourceNode.Scalar)] = []
    /// The file's lines, to place carets inside values (see `locate`).
    var sourceLines: [Substring] = []

    public init(catalog: Catalog, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.catalog = catalog
        self.environment = environment
    }

    /// Compiles one file's text. The flow is `nil` when there are errors.
    public mutating func compile(_ text: String, file: String) -> (flow: Flow?, diagnostics: [Diagnostic]) {
        begin(text, file: file)
        let flow = compileDocument(text)
        let found = diagnostics.sortedByLocation
        return (found.hasErrors ? nil : flow, found)
    }

    /// Forgets the previous file: its diagnostics, the values it substituted, its lines.
    mutating func begin(_ text: String, file: String) {
        diagnostics = []
        substituted = [:]
        environmentReferences = []
        sourceLines = text.sourceLines
        self.file = file
    }

    mutating func error(_ at: SourceLocation, _ message: String, _ code: String, _ notes: [String] = []) {
        diagnostics.append(.error(at: at, withoutValues(message), code: code, notes: notes.map(withoutValues)))
    }

    mutating func warning(_ at: SourceLocation, _ message: String, _ code: String, _ notes: [String] = []) {
        diagnostics.append(.warning(at: at, withoutValues(message), code: code, notes: notes.map(withoutValues)))
    }

    /// `text` with every value taken from the environment (four characters or more) written as
    /// the reference it came from.
    private func withoutValues(_ text: String) -> String {
        substituted.filter { $0.key.count >= 4 }.sorted { $0.key.count > $1.key.count }.reduce(text) {
            $0.replacingOccurrences(of: $1.key, with: "${\($1.value)}")
        }
    }

    private mutating func compileDocument(_ text: String) -> Flow? {
        let root: SourceNode
        do {
            guard let parsed = try SourceNode.parse(text, file: file) else {
                error(SourceLocation(file: file, line: 1, column: 1), "the flow file is empty", "empty-flow",
                      ["a flow needs at least 'on:' and 'steps:'"])
                return nil
            }
            root = parsed
        } catch {
            diagnostics.append(error)
            return nil
        }
        guard let members = root.mapping else {
            self.error(root.location, "a flow must be a mapping with 'name', 'on' and 'steps', found \(root.kindName)", "wrong-type")
            return nil
        }
        checkKeys(members, allowed: FlowKey.all, context: "flow")

        var name = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        if let node = root[FlowKey.name] { name = string(node, what: "the flow name") ?? name }

        guard let onNode = root[FlowKey.on] else {
            error(root.location, "the flow has no 'on:' trigger", "missing-key",
                  ["add e.g. 'on: prodamus.paid' or 'on: { cron: \"0 9 * * *\", timezone: Europe/Moscow }'"])
            return nil
        }
        let trigger = compileTrigger(onNode)
        let eventFields = trigger.flatMap(fields(of:))

        var references = References(eventFields: eventFields)
        var condition: Expression?
        if let node = root[FlowKey.condition] { condition = compileCondition(node, references: references) }

        var steps: [Step] = []
        if let stepsNode = root[FlowKey.steps] {
            if let items = stepsNode.sequence {
                if items.isEmpty { error(stepsNode.location, "the flow has no steps", "empty-steps", ["list at least one '- do: instance.action'"]) }
                references.allStepIDs = collectStepIDs(items)
                for (index, item) in items.enumerated() {
                    if let step = compileStep(item, index: index, references: &references) { steps.append(step) }
                }
            } else {
                error(stepsNode.location, "'steps' must be a list of steps, found \(stepsNode.kindName)", "wrong-type",
                      ["write each step on its own line starting with '- do: instance.action'"])
            }
        } else {
            error(root.location, "the flow has no 'steps:'", "missing-key", ["add 'steps:' with at least one '- do: instance.action'"])
        }
        guard let trigger else { return nil }
        return Flow(name: name, file: file, trigger: trigger, condition: condition, steps: steps,
                    version: Crypto.hex(Crypto.sha256(Array(text.utf8)).prefix(8)))
    }

    /// Reports keys outside `allowed` with a did-you-mean, and duplicated keys.
    mutating func checkKeys(_ members: [(key: SourceNode.Scalar, value: SourceNode)], allowed: [String], context: String) {
        var seen = Set<String>()
        for (key, _) in members {
            if !seen.insert(key.text).inserted {
                error(key.location, "'\(key.text)' appears twice in this \(context)", "duplicate-key", ["keep one of them"])
            }
            if !allowed.contains(key.text) {
                error(key.location, "unknown key '\(key.text)' in \(context)", "unknown-key",
                      [Suggestions.note(for: key.text, in: allowed, kind: "key")])
            }
        }
    }

    private func collectStepIDs(_ items: [SourceNode]) -> [String: Int] {
        var ids: [String: Int] = [:]
        for (index, item) in items.enumerated() {
            if let id = item[StepKey.id]?.scalar?.text, ids[id] == nil { ids[id] = index }
        }
        return ids
    }

    /// The event fields a trigger provides, when it declares them.
    private func fields(of trigger: Trigger) -> [FieldSpec]? {
        switch trigger {
        case .event(let instance, let name): catalog.instance(instance)?.spec.trigger(name)?.fields
        case .cron: BuiltIn.cronFields
        case .http: BuiltIn.httpFields
        case .runFailed: BuiltIn.runFailedFields
        }
    }
}

/// What expressions in the current position may refer to.
struct References {
    var eventFields: [FieldSpec]?
    /// Every step id in the flow with its index, to tell "unknown" from "not run yet".
    var allStepIDs: [String: Int] = [:]
    /// Steps that have run before the current one, with their declared outputs (nil = unknown shape).
    var earlier: [String: [FieldSpec]?] = [:]
    var currentIndex = -1
}
