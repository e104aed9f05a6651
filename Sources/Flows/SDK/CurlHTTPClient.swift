import Foundation

/// `HTTPClient` over libcurl's multi interface, the library URLSession runs on Linux, without
/// URLSession's layers: one thread of its own drives every transfer, so a call costs a wake-up
/// of that thread instead of Dispatch queues, timers and sources per transfer. TLS, proxies
/// (`https_proxy`, `no_proxy`), HTTP/2 and the system's CA store come from curl as before.
/// Network failures become retryable `ConnectorError`s. Only GET and HEAD follow redirects;
/// any other method gets the 3xx answer itself.
public struct CurlHTTPClient: HTTPClient {
    private let engine: CurlEngine

    public init() { engine = .shared }

    public func send(_ request: HTTPClientRequest) async throws -> HTTPClientResponse {
        guard let url = URL(string: request.url), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https" else {
            throw ConnectorError.permanent("bad-url", Self.notHTTP(request.url))
        }
        for (name, value) in request.headers where !Self.isHeaderSafe(name) || !Self.isHeaderSafe(value) || name.contains(":") {
            throw ConnectorError.permanent("bad-header", "header \(name.debugDescription) has a line break or colon in it")
        }
        let transfer = CurlTransfer(request, host: url.host ?? "the server")
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                transfer.continuation = continuation
                engine.submit(.start(transfer))
            }
        } onCancel: {
            engine.submit(.cancel(transfer))
        }
    }

    /// Why a URL is refused, without the URL itself: its query or user part may hold a key, and
    /// this text goes to the run's record, the logs and the dashboard.
    static func notHTTP(_ url: String) -> String {
        let scheme = url.prefix { $0 != ":" }.lowercased()
        if scheme == "http" || scheme == "https" { return "not an http(s) URL: it starts with \(scheme): but is not a valid URL" }
        // A scheme is a short word; anything else before the colon may be a host or a user's name and key.
        if url.contains("://"), (1...10).contains(scheme.count), scheme.allSatisfy({ $0.isASCII && $0.isLetter }) {
            return "not an http(s) URL: it starts with '\(scheme):', not http:// or https://"
        }
        return "not an http(s) URL: it must start with http:// or https://"
    }

    /// A CR, LF or NUL in a header would let a value write headers of its own.
    private static func isHeaderSafe(_ text: String) -> Bool {
        !text.utf8.contains { $0 == 13 || $0 == 10 || $0 == 0 }
    }
}
