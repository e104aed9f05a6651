import Emulators
import Flows
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// Injected faults answer requests that carry the right key, whatever the fault's numbers.
@Suite struct OpenAIEmulatorFaultTests {
    typealias H = OpenAIHarness

    static func post(_ h: OpenAIHarness, key: String) async throws -> (status: Int, body: Value, retryAfter: String?) {
        var request = URLRequest(url: try #require(URL(string: h.baseURL + "/chat/completions")))
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("Bearer " + key, forHTTPHeaderField: "Authorization")
        request.httpBody = Data(#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"привет"}]}"#.utf8)
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = try #require(response as? HTTPURLResponse)
        return (http.statusCode, try Value(jsonData: data), http.value(forHTTPHeaderField: "retry-after"))
    }

    @Test func aWrongKeyDoesNotUseUpAFault() async throws {
        try await H.with { h in
            h.emulator.failNext(1, status: 500)
            let stranger = try await Self.post(h, key: "sk-wrong-key-0000000000000000")
            #expect(stranger.status == 401)
            #expect(stranger.body["error"]?["code"] == "invalid_api_key")
            let first = try await Self.post(h, key: H.apiKey)
            #expect(first.status == 500)
            #expect(first.body["error"]?["type"] == "server_error")
            let second = try await Self.post(h, key: H.apiKey)
            #expect(second.status == 200)
        }
    }

    /// Whole seconds are written as digits however many there are; what is no number stays as Swift prints it.
    @Test(arguments: [(1e19, "10000000000000000000"), (2, "2"), (1.5, "1.5"), (.infinity, "inf")])
    func anyRetryAfterIsWrittenWithoutTrapping(_ seconds: Double, _ header: String) async throws {
        try await H.with { h in
            h.emulator.failNext(1, status: 429, retryAfter: seconds)
            let limited = try await Self.post(h, key: H.apiKey)
            #expect(limited.status == 429)
            #expect(limited.retryAfter == header)
        }
    }
}
