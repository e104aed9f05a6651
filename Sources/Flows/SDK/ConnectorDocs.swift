/// Reference docs for connectors, generated from their specs (what `hub connectors` prints).
public enum ConnectorDocs {
    /// Markdown text: each connector's config, actions with inputs/outputs, triggers with event fields.
    public static func markdown(_ specs: [ConnectorSpec]) -> String {
        var out = "# Connectors\n"
        for spec in specs {
            out += "\n## \(spec.name)\n\n\(spec.summary)\n\nDefault instance name: `\(spec.defaultInstance)`\n"
            if !spec.config.isEmpty {
                out += "\n### Config\n\n" + table(spec.config)
            }
            for action in spec.actions {
                out += "\n### `\(spec.defaultInstance).\(action.name)`\n\n\(action.summary)"
                out += action.hasSideEffects ? " (side effect; idempotent per run step)\n" : "\n"
                if !action.inputs.isEmpty { out += "\nInputs:\n\n" + table(action.inputs) }
                if let outputs = action.outputs, !outputs.isEmpty { out += "\nOutputs:\n\n" + table(outputs) }
                out += "\n```yaml\n\(action.example)\n```\n"
            }
            for trigger in spec.triggers {
                out += "\n### on `\(spec.defaultInstance).\(trigger.name)`\n\n\(trigger.summary)\n"
                if !trigger.fields.isEmpty { out += "\nEvent fields:\n\n" + table(trigger.fields) }
                out += "\n```yaml\n\(trigger.example)\n```\n"
            }
        }
        return out
    }

    private static func table(_ fields: [FieldSpec], prefix: String = "") -> String {
        var out = prefix.isEmpty ? "| field | type | required | description |\n|---|---|---|---|\n" : ""
        for f in fields {
            var notes: [String] = [f.summary]
            if let d = f.defaultValue { notes.append("default `\(d.text)`") }
            if let e = f.environment { notes.append("env `\(e)`") }
            if f.secret { notes.append("secret: write `${NAME}`") }
            out += "| `\(prefix)\(f.name)` | \(f.type) | \(f.required ? "yes" : "") | \(notes.joined(separator: "; ")) |\n"
            if !f.fields.isEmpty { out += table(f.fields, prefix: prefix + f.name + ".") }
        }
        return out
    }

    /// The specs as JSON, for tools (`hub connectors --json`).
    public static func json(_ specs: [ConnectorSpec]) -> Value {
        .array(specs.map { spec in
            [
                "name": .string(spec.name), "summary": .string(spec.summary), "default_instance": .string(spec.defaultInstance),
                "config": .array(spec.config.map(fieldJSON)),
                "actions": .array(spec.actions.map { a in
                    ["name": .string(a.name), "summary": .string(a.summary), "side_effects": .bool(a.hasSideEffects),
                     "inputs": .array(a.inputs.map(fieldJSON)), "outputs": a.outputs.map { .array($0.map(fieldJSON)) } ?? .null,
                     "example": .string(a.example)]
                }),
                "triggers": .array(spec.triggers.map { t in
                    ["name": .string(t.name), "summary": .string(t.summary), "fields": .array(t.fields.map(fieldJSON)), "example": .string(t.example)]
                }),
            ]
        })
    }

    static func fieldJSON(_ f: FieldSpec) -> Value {
        var o: [String: Value] = ["name": .string(f.name), "type": .string(f.type.description), "summary": .string(f.summary),
                                  "required": .bool(f.required), "secret": .bool(f.secret)]
        if let d = f.defaultValue { o["default"] = d }
        if let e = f.environment { o["environment"] = .string(e) }
        if !f.fields.isEmpty { o["fields"] = .array(f.fields.map(fieldJSON)) }
        return .object(o)
    }
}
