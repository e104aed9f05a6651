/// One finding about a connector instance's connection to its outside system, said twice:
/// in English for `hub check --online` and logs, and in plain Russian for the dashboard.
///
/// Messages are for people: they say what is wrong and what to do. They never hold a secret
/// (a token, a key, a password), not even part of one.
public struct HealthCheck: Sendable, Hashable {
    /// How bad a finding is. `error`: something the hub needs does not work; `warning`: it
    /// works, but not as it should (a group whose content can be saved).
    public enum Level: String, Sendable, Hashable, Comparable, CaseIterable {
        case ok, warning, error

        public static func < (a: Level, b: Level) -> Bool { a.rank < b.rank }
        private var rank: Int { self == .ok ? 0 : self == .warning ? 1 : 2 }
    }

    /// A stable, short identifier within the connector (`bot`, `group_protection`), for scripts and tests.
    public var name: String
    public var level: Level
    /// English, for the terminal and logs.
    public var message: String
    /// Russian, in plain words, for the owner on the dashboard.
    public var russian: String

    public init(_ name: String, _ level: Level, _ message: String, russian: String) {
        self.name = name
        self.level = level
        self.message = message
        self.russian = russian
    }

    public static func ok(_ name: String, _ message: String, russian: String) -> HealthCheck { HealthCheck(name, .ok, message, russian: russian) }
    public static func warning(_ name: String, _ message: String, russian: String) -> HealthCheck { HealthCheck(name, .warning, message, russian: russian) }
    public static func error(_ name: String, _ message: String, russian: String) -> HealthCheck { HealthCheck(name, .error, message, russian: russian) }
}
