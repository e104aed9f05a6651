import Logging

/// Writes log lines as `StreamLogHandler` does, but keeps a logger's metadata as given until a
/// line is written. `StreamLogHandler` renders its metadata to text each time it is set, and
/// Hummingbird sets a request id on every request's logger: 1.6 % of the hub's CPU under webhook
/// load, for lines that are mostly never written.
public struct HubLogHandler: LogHandler {
    private var lines: StreamLogHandler
    public var metadata: Logger.Metadata = [:]

    /// Lines go to standard error, or to `stream` (tests).
    public init(label: String, level: Logger.Level, stream: (any TextOutputStream & Sendable)? = nil) {
        lines = stream.map { StreamLogHandler(label: label, stream: $0, metadataProvider: LoggingSystem.metadataProvider) }
            ?? .standardError(label: label)
        lines.logLevel = level
    }

    public var logLevel: Logger.Level {
        get { lines.logLevel }
        set { lines.logLevel = newValue }
    }

    public var metadataProvider: Logger.MetadataProvider? {
        get { lines.metadataProvider }
        set { lines.metadataProvider = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var event = event
        if !metadata.isEmpty {
            // The message's own metadata wins over the logger's, as in `StreamLogHandler`.
            event.metadata = metadata.merging(event.metadata ?? [:]) { _, message in message }
        }
        // One event, one line: a value from outside (a webhook's field, a name) that holds a line
        // break would otherwise write a line of its choosing into the log.
        event.message = Logger.Message(stringLiteral: Self.oneLine(event.message.description))
        event.metadata = event.metadata?.mapValues(Self.oneLine)
        lines.log(event: event)
    }

    static func oneLine(_ value: Logger.Metadata.Value) -> Logger.Metadata.Value {
        switch value {
        case .string(let text): .string(oneLine(text))
        case .stringConvertible(let item): .string(oneLine(item.description))
        case .array(let items): .array(items.map(oneLine))
        case .dictionary(let items): .dictionary(items.mapValues(oneLine))
        }
    }

    /// Control characters written as escapes (`\n`, `\u{7}`).
    static func oneLine(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.properties.generalCategory == .control: out += "\\u{\(String(scalar.value, radix: 16))}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
