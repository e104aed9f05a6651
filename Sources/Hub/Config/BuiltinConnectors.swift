import CoreConnector
import DatabaseConnector
import HTTPConnector
import OpenAIConnector
import WebConnector
import Flows
import ProdamusConnector
import TelegramConnector
import ZoomConnector

/// The connectors this hub ships with. Adding one is a folder under Sources/Connectors,
/// a line in Package.swift and a line here.
public enum BuiltinConnectors {
    public static let all: [any Connector.Type] = [
        CoreConnector.self,
        DatabaseConnector.self,
        ProdamusConnector.self,
        HTTPConnector.self,
        WebConnector.self,
        TelegramConnector.self,
        ZoomConnector.self,
        OpenAIConnector.self,
    ]

    public static var registry: ConnectorRegistry { ConnectorRegistry(all) }
}
