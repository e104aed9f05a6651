import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A browser without a browser: GETs and form POSTs that keep cookies and do not follow
/// redirects, so a test walks pages the way a person does and sees every 303.
final class PageClient: @unchecked Sendable {
    private(set) var cookies: [String: String] = [:]

    struct Page {
        var status: Int
        var location: String?
        var body: String
    }

    func get(_ url: String) async throws -> Page {
        try await send(URLRequest(url: URL(string: url)!))
    }

    func post(_ url: String, _ fields: [(String, String)]) async throws -> Page {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = "POST"
        request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(fields.map { "\(TestHTTP.encode($0.0))=\(TestHTTP.encode($0.1))" }.joined(separator: "&").utf8)
        return try await send(request)
    }

    private func send(_ request: URLRequest) async throws -> Page {
        var request = request
        request.timeoutInterval = 15
        request.httpShouldHandleCookies = false
        if !cookies.isEmpty {
            request.setValue(cookies.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: "; "), forHTTPHeaderField: "Cookie")
        }
        let (data, response) = try await TestHTTP.noRedirects.data(for: request)
        let http = response as! HTTPURLResponse
        if let set = http.value(forHTTPHeaderField: "Set-Cookie"), let pair = set.split(separator: ";").first {
            let parts = pair.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { cookies[String(parts[0])] = String(parts[1]) }
        }
        return Page(status: http.statusCode, location: http.value(forHTTPHeaderField: "Location"), body: String(decoding: data, as: UTF8.self))
    }
}
