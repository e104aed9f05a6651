/// The connector types the hub knows, by type name. The `hub` executable fills it with the built-ins.
public struct ConnectorRegistry: Sendable {
    public private(set) var types: [String: any Connector.Type] = [:]

    public init(_ types: [any Connector.Type] = []) {
        for t in types { register(t) }
    }

    public mutating func register(_ type: any Connector.Type) {
        precondition(types[type.spec.name] == nil, "connector type '\(type.spec.name)' registered twice")
        types[type.spec.name] = type
    }

    public var specs: [ConnectorSpec] { types.values.map { $0.spec }.sorted { $0.name < $1.name } }

    public func type(named name: String) -> (any Connector.Type)? { types[name] }
}

/// Connector instances by name (`db` → the database connector), as config sets them up.
/// The checker resolves `do: db.mark_paid` through this.
public struct Catalog: Sendable {
    public struct Instance: Sendable {
        public var name: String
        public var spec: ConnectorSpec
        /// Config values as written (after `${ENV}` substitution), not yet turned into a `ConnectorConfig`.
        public var settings: [String: Value]
        public var location: SourceLocation?
    }

    public private(set) var instances: [String: Instance] = [:]
    public let registry: ConnectorRegistry

    public init(registry: ConnectorRegistry) { self.registry = registry }

    /// Every registered connector under its default instance name, configured from the environment only.
    public static func defaults(_ registry: ConnectorRegistry) -> Catalog {
        var catalog = Catalog(registry: registry)
        for spec in registry.specs { catalog.add(Instance(name: spec.defaultInstance, spec: spec, settings: [:], location: nil)) }
        return catalog
    }

    public mutating func add(_ instance: Instance) { instances[instance.name] = instance }

    public func instance(_ name: String) -> Instance? { instances[name] }

    public var instanceNames: [String] { instances.keys.sorted() }
}
