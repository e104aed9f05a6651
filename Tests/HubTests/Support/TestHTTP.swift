import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Small HTTP calls for tests.
enum TestHTTP {
    /// POSTs JSON with an idempotency key; `nil` when the connection failed (the server died).
    static func postJSON(_ url: String, _ json: String, key: String? = nil, timeout: TimeInterval = 10) async -> Int? {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = "POST"
        request.timeoutInterval = timeout
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        if let key { request.setValue(key, forHTTPHeaderField: "Idempotency-Key") }
        request.httpBody = Data(json.utf8)
        guard let (_, response) = try? await URLSession.shared.data(for: request) else { return nil }
        return (response as? HTTPURLResponse)?.statusCode
    }

    static func get(_ url: String) async -> (status: Int, body: String)? {
        guard let (data, response) = try? await URLSession.shared.data(from: URL(string: url)!) else { return nil }
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }
}
