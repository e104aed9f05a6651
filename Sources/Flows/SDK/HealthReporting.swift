/// A connector that can tell whether its outside system is reachable and set up right.
/// `hub check --online` prints the checks; the dashboard's overview shows them.
///
/// An implementation must guarantee:
/// - `health()` changes nothing outside (read-only calls such as Telegram `getMe`/`getChat`,
///   an OAuth token request, `GET /models`) and returns in a few seconds: bound every call.
/// - It never throws: a failure to reach the system is itself an `.error` check.
/// - No message holds a secret.
///
/// ```swift
/// extension MailConnector: HealthReporting {
///     func health() async -> [HealthCheck] {
///         [key.isEmpty ? .error("api_key", "no API key", russian: "Не задан ключ API.")
///                      : .ok("api_key", "API key set", russian: "Ключ API задан.")]
///     }
/// }
/// ```
public protocol HealthReporting: Sendable {
    func health() async -> [HealthCheck]
}

extension HealthCheck {
    /// The worst level among `checks` (`ok` for none).
    public static func worst(_ checks: [HealthCheck]) -> Level { checks.map(\.level).max() ?? .ok }
}
