/// A hub failure with a stable code and a message meant for the person running the hub.
public struct HubError: Error, Sendable, CustomStringConvertible {
    public var code: String
    public var message: String

    public init(code: String, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
