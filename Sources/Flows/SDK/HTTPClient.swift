import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// An outbound HTTP request, as connectors build it.
public struct HTTPClientRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [String: String]
    public var body: [UInt8]
    public var timeout: Duration

    public init(method: String = "GET", url: String, headers: [String: String] = [:], body: [UInt8] = [], timeout: Duration = .seconds(30)) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
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

/// Outbound HTTP; the hub passes URLSession (libcurl on Linux), tests can count calls.
public protocol HTTPClient: Sendable {
    func send(_ request: HTTPClientRequest) async throws -> HTTPClientResponse
}

/// `HTTPClient` over URLSession. Network failures become retryable `ConnectorError`s.
public struct URLSessionHTTPClient: HTTPClient {
    private let session: URLSession

    public init(session: URLSession = Self.apiSession) { self.session = session }

    /// One session for every connector: API calls, so no response cache (the shared session's
    /// disk cache lists its folder on every request and would keep API answers on disk) and no
    /// cookie jar (one service's cookies must not ride along on the next call).
    public static let apiSession: URLSession = {
        let configuration = URLSessionConfiguration.default
        configuration.urlCache = nil
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.httpCookieStorage = nil
        configuration.httpShouldSetCookies = false
        // Without this, each response header line is still parsed for cookies (to be dropped).
        configuration.httpCookieAcceptPolicy = .never
        return URLSession(configuration: configuration)
    }()

    public func send(_ request: HTTPClientRequest) async throws -> HTTPClientResponse {
        guard let url = URL(string: request.url) else { throw ConnectorError.permanent("bad-url", "not a URL: \(request.url)") }
        var r = URLRequest(url: url)
        r.httpMethod = request.method
        r.timeoutInterval = Double(request.timeout.components.seconds) + Double(request.timeout.components.attoseconds) / 1e18
        for (k, v) in request.headers { r.setValue(v, forHTTPHeaderField: k) }
        if !request.body.isEmpty { r.httpBody = Data(request.body) }
        let data: Data, response: URLResponse
        do {
            (data, response) = try await session.data(for: r)
        } catch {
            // The message names only the host, never the path: bot tokens live in Telegram paths.
            throw ConnectorError(code: "network", "cannot reach \(url.host ?? "the server"): \((error as NSError).localizedDescription)")
        }
        let http = response as? HTTPURLResponse
        var headers: [String: String] = [:]
        for (k, v) in http?.allHeaderFields ?? [:] { headers[String(describing: k).lowercased()] = String(describing: v) }
        return HTTPClientResponse(status: http?.statusCode ?? 0, headers: headers, body: Array(data))
    }
}
