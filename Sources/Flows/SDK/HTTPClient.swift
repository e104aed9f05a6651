import Foundation

/// An outbound HTTP request, as connectors build it.
public struct HTTPClientRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [String: String]
    public var body: [UInt8]
    public var timeout: Duration
    /// Whether a GET (or HEAD) follows redirects; other methods never do. Off where the headers
    /// hold a key that must not go to whatever host a redirect names.
    public var followsRedirects: Bool

    public init(method: String = "GET", url: String, headers: [String: String] = [:], body: [UInt8] = [], timeout: Duration = .seconds(30),
                followsRedirects: Bool = true) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
        self.followsRedirects = followsRedirects
    }
}

public struct HTTPClientResponse: Sendable {
    public var status: Int
    /// Header names lowercased.
    public var headers: [String: String]
    public var body: [UInt8]

    public init(status: Int, headers: [String: String] = [:], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public var text: String { String(decoding: body, as: UTF8.self) }

    /// The body parsed as JSON.
    public func json() throws -> Value { try Value(jsonData: Data(body)) }
}

/// Outbound HTTP; the hub passes `CurlHTTPClient`, tests can count calls.
public protocol HTTPClient: Sendable {
    func send(_ request: HTTPClientRequest) async throws -> HTTPClientResponse
}
