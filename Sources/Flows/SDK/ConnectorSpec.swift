/// Everything a connector declares, once, as data. Execution, `hub check`, `hub connectors`,
/// `hub schema` and the dashboard all read this, so they cannot drift apart.
public struct ConnectorSpec: Sendable {
    /// The connector type as written in config (`type: telegram`), lowercase.
    public var name: String
    public var summary: String
    /// The instance name used when the config names none (`db` for the database connector).
    public var defaultInstance: String
    public var config: [FieldSpec]
    public var actions: [ActionSpec]
    public var triggers: [TriggerSpec]

    public init(name: String, summary: String, defaultInstance: String? = nil, config: [FieldSpec] = [],
                actions: [ActionSpec] = [], triggers: [TriggerSpec] = [])
    {
        self.name = name
        self.summary = summary
        self.defaultInstance = defaultInstance ?? name
        self.config = config
        self.actions = actions
        self.triggers = triggers
    }

    public func action(_ name: String) -> ActionSpec? { actions.first { $0.name == name } }
    public func trigger(_ name: String) -> TriggerSpec? { triggers.first { $0.name == name } }
}

/// An action a step can call: `do: instance.action`.
public struct ActionSpec: Sendable {
    public var name: String
    public var summary: String
    public var inputs: [FieldSpec]
    /// The fields of the result; `nil` means the result's shape is not known in advance.
    public var outputs: [FieldSpec]?
    /// Whether the action changes the outside world. Such calls get an idempotency key
    /// (run id + step id) that the connector must use so a resumed run never repeats the effect.
    public var hasSideEffects: Bool
    /// A step, as YAML, that uses the action; the conformance test checks it.
    public var example: String
    /// Where the inputs end up for anyone reading the log or the run's page, said after the
    /// action's name (`core.set` "returns its values: they are stored with the run …", `core.log`
    /// "writes its message to the hub's log"): `hub check` warns when a secret from the environment goes in.
    public var exposesInputs: String?

    public init(name: String, summary: String, inputs: [FieldSpec] = [], outputs: [FieldSpec]? = [],
                hasSideEffects: Bool = true, exposesInputs: String? = nil, example: String)
    {
        self.name = name
        self.summary = summary
        self.inputs = inputs
        self.outputs = outputs
        self.hasSideEffects = hasSideEffects
        self.exposesInputs = exposesInputs
        self.example = example
    }
}

/// An event a connector raises: `on: instance.trigger`. Its fields are what `event.*` reads.
public struct TriggerSpec: Sendable {
    public var name: String
    public var summary: String
    public var fields: [FieldSpec]
    /// A whole flow, as YAML, that starts on this trigger; the conformance test checks it.
    public var example: String

    public init(name: String, summary: String, fields: [FieldSpec], example: String) {
        self.name = name
        self.summary = summary
        self.fields = fields
        self.example = example
    }
}
