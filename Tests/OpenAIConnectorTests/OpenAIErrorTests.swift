import Emulators
import Flows
import Foundation
import Testing
@testable import OpenAIConnector

/// Failures become `ConnectorError`s whose disposition follows OpenAI's retry rules, and the
/// API key never appears in them.
@Suite struct OpenAIErrorTests {
    typealias H = OpenAIHarness
    static let question = H.call(["question": "Когда проходят сеансы?"])

    @Test func rateLimitWithRetryAfterAsksToWaitThenTheNextAttemptAnswers() async throws {
        try await H.with { h in
            let connector = try h.connector()
            h.emulator.failNext(1, status: 429, retryAfter: 7)
            let error = try #require(await connectorError { try await connector.perform(Self.question) })
            #expect(error.code == "openai-rate-limit")
            #expect(error.disposition == .retryAfter(.seconds(7)))
            let result = try await connector.perform(Self.question)
            #expect(result["text"]?.stringValue?.hasPrefix("По базе знаний:") == true)
            #expect(h.emulator.requests.count == 2)
        }
    }

    @Test func retryAfterMillisecondsWinsOverSeconds() async throws {
        try await H.with { h in
            h.emulator.failNext(1, status: 429, retryAfter: 9, retryAfterMilliseconds: 1_500)
            let error = try #require(await connectorError { try await h.connector().perform(Self.question) })
            #expect(error.disposition == .retryAfter(.milliseconds(1_500)))
        }
    }

    @Test func aRetryAfterTooLongForAChatFailsTheStep() async throws {
        try await H.with { h in
            h.emulator.failNext(1, status: 429, retryAfter: 600)
            let error = try #require(await connectorError { try await h.connector().perform(Self.question) })
            #expect(error.disposition == .permanent)
        }
    }

    @Test func insufficientQuotaIsPermanent() async throws {
        try await H.with { h in
            h.emulator.failNext(1, status: 429, code: "insufficient_quota")
            let error = try #require(await connectorError { try await h.connector().perform(Self.question) })
            #expect(error.code == "openai-insufficient-quota")
            #expect(error.disposition == .permanent)
            #expect(error.description.contains("billing"))
        }
    }

    @Test(arguments: [500, 503])
    func serverErrorsAreRetried(_ status: Int) async throws {
        try await H.with { h in
            h.emulator.failNext(1, status: status)
            let error = try #require(await connectorError { try await h.connector().perform(Self.question) })
            #expect(error.code == "openai-http-\(status)")
            #expect(error.disposition == .retry)
        }
    }

    @Test func aBadRequestIsPermanentAndQuotesTheServer() async throws {
        try await H.with { h in
            h.emulator.failNext(1, status: 400, code: "invalid_value")
            let error = try #require(await connectorError { try await h.connector().perform(Self.question) })
            #expect(error.code == "openai-http-400")
            #expect(error.disposition == .permanent)
            #expect(error.description.contains("Emulated failure."))
        }
    }

    @Test func aWrongKeyIsPermanentAndNeverShown() async throws {
        try await H.with { h in
            let wrong = "sk-proj-WRONGkey9876543210zyxwvutsrqponmlkjihgfeLEAK"
            let error = try #require(await connectorError { try await h.connector(apiKey: wrong).perform(Self.question) })
            #expect(error.code == "openai-auth")
            #expect(error.disposition == .permanent)
            #expect(!error.description.contains(wrong))
            #expect(!error.description.contains("LEAK"), "not even the masked tail the server quotes")
            #expect(!"\(error)".contains(wrong))
        }
    }

    @Test func theKeyIsNeverInAnyErrorDescription() async throws {
        try await H.with { h in
            let connector = try h.connector()
            h.emulator.failNext(1, status: 429, code: "insufficient_quota")
            h.emulator.failNext(1, status: 429, retryAfter: 2)
            h.emulator.failNext(1, status: 500)
            h.emulator.failNext(1, status: 400)
            for _ in 0..<4 {
                let error = try #require(await connectorError { try await connector.perform(Self.question) })
                #expect(!error.description.contains(H.apiKey))
                #expect(!error.message.contains(H.apiKey))
            }
            #expect(h.emulator.requests.count == 4)
        }
    }

    @Test func anUnreachableServerIsRetriedAndTheKeyIsNotShown() async throws {
        try await H.with { h in
            // A port that was just free: nothing listens there.
            let closed = try await EmulatorServer.start(OpenAIEmulator(apiKey: nil).router(), name: "closed")
            let url = closed.baseURL + "/v1"
            await closed.stop()
            let connector = try h.connector(settings: ["base_url": .string(url), "timeout": 2])
            let error = try #require(await connectorError { try await connector.perform(Self.question) })
            #expect(error.code == "openai-network")
            #expect(error.disposition == .retry)
            #expect(!error.description.contains(H.apiKey))
        }
    }

    @Test func aBadBaseURLIsRefusedAtStart() throws {
        #expect(throws: ConnectorError.self) {
            _ = try OpenAIConnector(config: Fields(["base_url": "api.openai.com"]),
                                    services: ConnectorServices(instance: "openai", logger: .init(label: "t"), database: nil,
                                                                http: CurlHTTPClient(), events: NoEvents(), publicURL: ""))
        }
    }

    static func client(apiKey: String = H.apiKey) throws -> ChatCompletionClient {
        ChatCompletionClient(http: CurlHTTPClient(), settings: try OpenAISettings(config: Fields([:])), apiKey: apiKey, logger: .init(label: "t"))
    }

    /// A proxy's absurd wait is "too long", and one that is no number is no wait: neither may trap.
    @Test(arguments: [(["retry-after": "1e19"], true), (["retry-after-ms": "1e30"], true),
                      (["retry-after": "inf"], false), (["retry-after-ms": "nan", "retry-after": "-inf"], false)])
    func anAbsurdRetryAfterNeverCrashes(_ headers: [String: String], _ tooLong: Bool) throws {
        let error = try Self.client().failure(for: HTTPClientResponse(status: 429, headers: headers))
        #expect(error.disposition == (tooLong ? .permanent : .retry))
        if tooLong { #expect(error.description.contains("asks to wait 10000000000000000")) }
    }

    /// `x-should-retry` does not open a way for the server's 401 text, which quotes the key's tail.
    @Test(arguments: ["true", "false"])
    func aWrongKeyIsNeverQuotedWhateverTheRetryHint(_ hint: String) throws {
        let body = #"{"error":{"message":"Incorrect API key provided: sk-proj-****LEAK","type":"invalid_request_error","code":"invalid_api_key"}}"#
        let error = try Self.client().failure(for: HTTPClientResponse(status: 401, headers: ["x-should-retry": hint], body: Array(body.utf8)))
        #expect(error.code == "openai-auth")
        #expect(error.disposition == .permanent)
        #expect(!error.description.contains("LEAK"))
    }

    @Test(arguments: [1e19, 3601, 0]) func aTimeoutOutOfRangeIsRefusedAtStart(_ seconds: Double) {
        #expect(throws: ConnectorError.self) { try OpenAISettings(config: Fields(["timeout": .number(seconds)])) }
    }

    @Test func retryAfterAcceptsAnHTTPDate() {
        let now = Date(timeIntervalSince1970: 1_767_225_600)  // Thu, 01 Jan 2026 00:00:00 GMT
        #expect(ChatCompletionClient.retryDelay(["retry-after": "Thu, 01 Jan 2026 00:00:30 GMT"], now: now) == 30)
        #expect(ChatCompletionClient.retryDelay(["retry-after": "0"], now: now) == nil)
        #expect(ChatCompletionClient.retryDelay(["retry-after": "1.5"], now: now) == 1.5)
        #expect(ChatCompletionClient.retryDelay([:], now: now) == nil)
    }
}
