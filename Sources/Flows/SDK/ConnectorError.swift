/// A failure reported by a connector, with what the engine should do about it.
public struct ConnectorError: Error, Sendable, CustomStringConvertible {
    /// What the engine should do next.
    public enum Disposition: Sendable, Hashable {
        /// A transient failure: retry with the step's backoff.
        case retry
        /// The service asked us to wait (Telegram 429 `retry_after`, HTTP `Retry-After`).
        case retryAfter(Duration)
        /// Retrying cannot help (HTTP 400, bad input): fail the step now.
        case permanent
    }

    /// A stable identifier, e.g. `http-429`, `missing-field`, `not-found`.
    public var code: String
    public var message: String
    public var disposition: Disposition

    public init(code: String, _ message: String, _ disposition: Disposition = .retry) {
        self.code = code
        self.message = message
        self.disposition = disposition
    }

    public static func permanent(_ code: String, _ message: String) -> ConnectorError {
        ConnectorError(code: code, message, .permanent)
    }

    public static func missingField(_ name: String, expected: String = "a value") -> ConnectorError {
        .permanent("missing-field", "'\(name)' needs \(expected)")
    }

    public var description: String { "\(message) [\(code)]" }
}
