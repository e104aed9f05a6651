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
            throw ConnectorError.permanent("bad-url", "not an http(s) URL: \(request.url)")
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

    /// A CR, LF or NUL in a header would let a value write headers of its own.
    private static func isHeaderSafe(_ text: String) -> Bool {
        !text.utf8.contains { $0 == 13 || $0 == 10 || $0 == 0 }
    }
}
