/// An HTTP endpoint a connector serves (a payment webhook, a bot webhook), independent of the server framework.
public struct WebhookRoute: Sendable {
    public var method: String
    public var path: String
    public var handler: @Sendable (WebhookRequest) async -> WebhookResponse

    public init(method: String = "POST", path: String, handler: @escaping @Sendable (WebhookRequest) async -> WebhookResponse) {
        self.method = method
        self.path = path
        self.handler = handler
    }
}

public struct WebhookRequest: Sendable {
    /// Header names lowercased.
    public var headers: [String: String]
    public var query: [String: String]
    public var body: [UInt8]

    public init(headers: [String: String], query: [String: String] = [:], body: [UInt8]) {
        self.headers = headers
        self.query = query
        self.body = body
    }
}

public struct WebhookResponse: Sendable {
    public var status: Int
    public var body: String
    public var headers: [String: String]

    public init(status: Int, body: String = "", headers: [String: String] = [:]) {
        self.status = status
        self.body = body
        self.headers = headers
    }
}
