import CoreConnector
import Flows

/// The connectors this hub ships with. Adding one is a folder under Sources/Connectors,
/// a line in Package.swift and a line here.
public enum BuiltinConnectors {
    public static let all: [any Connector.Type] = [
        CoreConnector.self,
    ]

    public static var registry: ConnectorRegistry { ConnectorRegistry(all) }
}
