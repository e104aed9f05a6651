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
        lines.log(event: event)
    }
}
