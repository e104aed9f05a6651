/// The keys of `hub.yaml`.
enum ConfigKey {
    static let connectors = "connectors"
    static let type = "type"
    static let all = [connectors]
}

extension FlowCompiler {
    /// Reads `hub.yaml`: named connector instances and their settings. Each connector type not
    /// named there keeps its default instance (`db`, `telegram`, …) configured from the environment.
    public mutating func compileConfig(_ text: String, file: String) -> (catalog: Catalog, diagnostics: [Diagnostic]) {
        begin(text, file: file)
        var catalog = Catalog(registry: catalog.registry)
        var configuredTypes = Set<String>()
        do {
            if let root = try SourceNode.parse(text, file: file) {
                if let members = root.mapping {
                    checkKeys(members, allowed: ConfigKey.all, context: "hub config")
                    if let connectors = root[ConfigKey.connectors] {
                        for instance in compileInstances(connectors) {
                            catalog.add(instance)
                            configuredTypes.insert(instance.spec.name)
                        }
                    }
                } else {
                    error(root.location, "hub config must be a mapping, found \(root.kindName)", "wrong-type", ["start with 'connectors:'"])
                }
            }
        } catch {
            diagnostics.append(error)
        }
        for spec in catalog.registry.specs where !configuredTypes.contains(spec.name) && catalog.instance(spec.defaultInstance) == nil {
            catalog.add(Catalog.Instance(name: spec.defaultInstance, spec: spec, settings: [:], location: nil))
        }
        return (catalog, diagnostics.sortedByLocation)
    }

    private mutating func compileInstances(_ node: SourceNode) -> [Catalog.Instance] {
        guard let members = node.mapping else {
            error(node.location, "'connectors' must map instance names to settings, found \(node.kindName)", "wrong-type",
                  ["e.g.\n  connectors:\n    db: { type: database }"])
            return []
        }
        var instances: [Catalog.Instance] = []
        var seen = Set<String>()
        let types = catalog.registry.specs.map(\.name)
        for (key, value) in members {
            guard seen.insert(key.text).inserted else {
                error(key.location, "instance '\(key.text)' is configured twice", "duplicate-key", ["keep one of them"])
                continue
            }
            guard FlowCompiler.isIdentifier(key.text), key.text != BuiltIn.hubInstance else {
                error(key.location, "'\(key.text)' cannot name an instance", "bad-instance-name", ["use letters, digits and '_', and not 'hub'"])
                continue
            }
            guard let settings = value.mapping else {
                error(value.location, "instance '\(key.text)' needs settings with a 'type'", "wrong-type", ["e.g. '\(key.text): { type: telegram }'"])
                continue
            }
            guard let typeNode = value[ConfigKey.type], let typeName = string(typeNode, what: "the connector type") else {
                error(key.location, "instance '\(key.text)' has no 'type'", "missing-key", ["valid types: " + types.joined(separator: ", ")])
                continue
            }
            guard let spec = catalog.registry.type(named: typeName)?.spec else {
                error(typeNode.location, "unknown connector type '\(typeName)'", "unknown-connector", [Suggestions.note(for: typeName, in: types, kind: "type")])
                continue
            }
            checkKeys(settings, allowed: [ConfigKey.type] + spec.config.names, context: "\(typeName) settings")
            var values: [String: Value] = [:]
            for (settingKey, settingValue) in settings where settingKey.text != ConfigKey.type {
                guard let field = spec.config[named: settingKey.text] else { continue }
                let template = valueTemplate(settingValue, field: FieldSpec(field.name, field.type, field.summary, secret: field.secret,
                                                                            templated: false, environment: field.environment),
                                             references: References())
                if let value = template?.literalValue {
                    values[field.name] = value
                } else if template != nil {
                    error(settingValue.location, "settings cannot hold templates", "bad-template", ["write fixed values; use ${NAME} for secrets"])
                }
            }
            instances.append(Catalog.Instance(name: key.text, spec: spec, settings: values, location: key.location))
        }
        return instances
    }
}

extension Catalog.Instance {
    /// The instance's config: written settings, else the field's environment variable, else its default.
    public func config(environment: [String: String]) -> ConnectorConfig {
        var values = settings
        for field in spec.config where values[field.name] == nil {
            if let name = field.environment, let text = environment[name], !text.isEmpty {
                values[field.name] = FlowCompiler.convert(.string(text), to: field.type) ?? .string(text)
            } else if let value = field.defaultValue {
                values[field.name] = value
            }
        }
        return Fields(values)
    }

    /// Required settings that neither the config nor the environment supplies.
    public func missingSettings(environment: [String: String]) -> [FieldSpec] {
        let config = config(environment: environment)
        return spec.config.filter { $0.required && config[$0.name] == nil }
    }
}
