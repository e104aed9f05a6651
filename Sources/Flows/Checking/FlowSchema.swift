/// A JSON Schema for flow files, generated from the connector specs, so an editor with
/// yaml-language-server completes `on:`, `do:` and each action's `with:` keys.
public enum FlowSchema {
    public static func generate(_ catalog: Catalog) -> Value {
        var stepVariants: [Value] = []
        var triggers: [Value] = [.string("hub.run_failed")]
        for name in catalog.instanceNames {
            let spec = catalog.instance(name)!.spec
            for trigger in spec.triggers { triggers.append(.string("\(name).\(trigger.name)")) }
            for action in spec.actions {
                var inputs: [String: Value] = [:]
                for field in action.inputs { inputs[field.name] = schema(field) }
                let required = action.inputs.filter { $0.required && $0.defaultValue == nil }.map { Value.string($0.name) }
                stepVariants.append([
                    "if": ["properties": ["do": ["const": .string("\(name).\(action.name)")]], "required": ["do"]],
                    "then": ["properties": ["with": ["type": "object", "properties": .object(inputs), "required": .array(required),
                                                     "additionalProperties": false]]],
                ])
            }
        }
        let actions: [Value] = catalog.instanceNames.flatMap { name in
            catalog.instance(name)!.spec.actions.map { Value.string("\(name).\($0.name)") }
        }
        let duration: Value = ["type": ["string", "number"], "description": "e.g. 500ms, 2s, 5m, 1h"]
        let step: Value = [
            "type": "object",
            "required": ["do"],
            "additionalProperties": false,
            "properties": [
                "id": ["type": "string", "pattern": "^[A-Za-z][A-Za-z0-9_]*$", "description": "name to read this step's result by"],
                "name": ["type": "string"],
                "do": ["enum": .array(actions), "description": "instance.action"],
                "with": ["type": "object"],
                "if": ["type": "string", "description": "condition, e.g. {{ member.telegram_id != null }}"],
                "retry": ["oneOf": [["type": "integer", "minimum": 1],
                                    ["type": "object", "additionalProperties": false,
                                     "properties": ["attempts": ["type": "integer", "minimum": 1, "maximum": 100], "backoff": duration, "max_delay": duration]]]],
                "on_error": ["type": "string", "description": "fail, continue, or the name of a flow"],
            ],
            "allOf": .array(stepVariants),
        ]
        return [
            "$schema": "http://json-schema.org/draft-07/schema#",
            "title": "Session Hub flow",
            "type": "object",
            "required": ["on", "steps"],
            "additionalProperties": false,
            "properties": [
                "name": ["type": "string"],
                "description": ["type": "string"],
                "if": ["type": "string"],
                "on": ["oneOf": [
                    ["enum": .array(triggers)],
                    ["type": "object", "required": ["cron", "timezone"], "additionalProperties": false,
                     "properties": ["cron": ["type": "string"], "timezone": ["type": "string"],
                                    "missed": ["enum": ["latest", "all", "skip"]], "grace": duration]],
                    ["type": "object", "required": ["http"], "additionalProperties": false,
                     "properties": ["http": ["type": "string", "pattern": "^/"]]],
                ]],
                "steps": ["type": "array", "minItems": 1, "items": step],
            ],
        ]
    }

    private static func schema(_ field: FieldSpec) -> Value {
        var s: [String: Value] = ["description": .string(field.summary)]
        switch field.type {
        case .string: s["type"] = "string"
        case .number: s["type"] = ["number", "string"]
        case .integer: s["type"] = ["integer", "string"]
        case .boolean: s["type"] = ["boolean", "string"]
        case .object: s["type"] = ["object", "string"]
        case .array: s["type"] = ["array", "string"]
        case .any: break
        case .choice(let c): s["anyOf"] = [["enum": .array(c.map(Value.string))], ["type": "string", "pattern": "\\{\\{"]]
        }
        return .object(s)
    }
}
