/// The type of a config field, action input or output, or event field.
public enum FieldType: Sendable, Hashable, CustomStringConvertible {
    case string, number, integer, boolean, object, array, any
    /// Text restricted to these choices.
    case choice([String])

    public var description: String {
        switch self {
        case .string: "string"
        case .number: "number"
        case .integer: "integer"
        case .boolean: "boolean"
        case .object: "object"
        case .array: "array"
        case .any: "any"
        case .choice(let c): "one of " + c.map { "'\($0)'" }.joined(separator: ", ")
        }
    }

    /// Whether a concrete value fits this type.
    public func accepts(_ value: Value) -> Bool {
        switch (self, value) {
        case (.any, _), (_, .null): true
        case (.string, .string), (.number, .number), (.boolean, .bool), (.object, .object), (.array, .array): true
        case (.integer, .number(let n)): n.rounded() == n
        case (.choice(let c), .string(let s)): c.contains(s)
        default: false
        }
    }
}

/// One declared field: a connector's config key, an action's input or output, a trigger's event field.
public struct FieldSpec: Sendable, Hashable {
    public var name: String
    public var type: FieldType
    public var summary: String
    public var required: Bool
    /// Secret fields must come from the environment (`${NAME}`) and are never logged or stored.
    public var secret: Bool
    /// Whether `{{ … }}` templates are allowed in the value.
    public var templated: Bool
    public var defaultValue: Value?
    /// The environment variable that supplies the value when the config does not (e.g. `TELEGRAM_BOT_TOKEN`).
    public var environment: String?
    /// Members of an object, when known (outputs and event fields may nest).
    public var fields: [FieldSpec]

    public init(_ name: String, _ type: FieldType, _ summary: String, required: Bool = false, secret: Bool = false,
                templated: Bool = true, default defaultValue: Value? = nil, environment: String? = nil, fields: [FieldSpec] = [])
    {
        self.name = name
        self.type = type
        self.summary = summary
        self.required = required
        self.secret = secret
        self.templated = templated
        self.defaultValue = defaultValue
        self.environment = environment
        self.fields = fields
    }

    /// A required field.
    public static func required(_ name: String, _ type: FieldType, _ summary: String, secret: Bool = false, environment: String? = nil) -> FieldSpec {
        FieldSpec(name, type, summary, required: true, secret: secret, environment: environment)
    }

    /// An optional field.
    public static func optional(_ name: String, _ type: FieldType, _ summary: String, default defaultValue: Value? = nil,
                                secret: Bool = false, environment: String? = nil, fields: [FieldSpec] = []) -> FieldSpec
    {
        FieldSpec(name, type, summary, secret: secret, default: defaultValue, environment: environment, fields: fields)
    }

    /// An output or event field (always present unless said otherwise).
    public static func output(_ name: String, _ type: FieldType, _ summary: String, fields: [FieldSpec] = []) -> FieldSpec {
        FieldSpec(name, type, summary, fields: fields)
    }
}

extension Array where Element == FieldSpec {
    public subscript(named name: String) -> FieldSpec? { first { $0.name == name } }
    public var names: [String] { map(\.name) }
}
