import Flows
import Foundation
import Logging
import Synchronization
import Testing
@testable import TelegramConnector

/// A Telegram stand-in that answers from a script, for answers the emulator cannot produce on demand.
final class ScriptedTelegram: HTTPClient {
    let answers: Mutex<[HTTPClientResponse]>
    let requests = Mutex<[HTTPClientRequest]>([])

    init(_ answers: [HTTPClientResponse]) { self.answers = Mutex(answers) }

    func send(_ request: HTTPClientRequest) async throws -> HTTPClientResponse {
        requests.withLock { $0.append(request) }
        return answers.withLock { $0.isEmpty ? HTTPClientResponse(status: 500) : $0.removeFirst() }
    }
}

@Suite struct TelegramAPITests {
    static let token = "123456:SECRET-token-xyz"

    static func api(_ http: any HTTPClient) -> TelegramAPI {
        TelegramAPI(http: http, apiURL: "http://127.0.0.1:9", token: token, limiter: TelegramRateLimiter(clock: ContinuousClock()),
                    logger: Logger(label: "test"))
    }

    @Test func aMigratedGroupIsCalledAgainOnItsNewID() async throws {
        let http = ScriptedTelegram([
            HTTPClientResponse(status: 400, body: Array(#"{"ok":false,"error_code":400,"description":"Bad Request: group chat was upgraded to a supergroup chat","parameters":{"migrate_to_chat_id":-1001111111111}}"#.utf8)),
            HTTPClientResponse(status: 200, body: Array(#"{"ok":true,"result":{"message_id":5}}"#.utf8)),
            HTTPClientResponse(status: 200, body: Array(#"{"ok":true,"result":{"message_id":6}}"#.utf8)),
        ])
        let api = Self.api(http)
        let result = try await api.call("sendMessage", ["chat_id": -4242, "text": "hi"])
        #expect(result["message_id"]?.telegramID == 5)
        // Later calls go straight to the supergroup.
        _ = try await api.call("sendMessage", ["chat_id": -4242, "text": "again"])
        let sent = http.requests.withLock { $0 }
        #expect(sent.count == 3)
        let bodies = try sent.map { try Value(jsonData: Data($0.body)) }
        #expect(bodies[0]["chat_id"]?.telegramID == -4242)
        #expect(bodies[1]["chat_id"]?.telegramID == -1001111111111)
        #expect(bodies[2]["chat_id"]?.telegramID == -1001111111111)
        #expect(sent[0].url == "http://127.0.0.1:9/bot\(Self.token)/sendMessage")
        #expect(sent[0].method == "POST" && sent[0].headers["content-type"] == "application/json")
    }

    @Test func networkErrorsAreRetriedAndNeverShowTheToken() async throws {
        struct Down: HTTPClient {
            func send(_ request: HTTPClientRequest) async throws -> HTTPClientResponse {
                throw URLError(.cannotConnectToHost, userInfo: [NSLocalizedDescriptionKey: "failed: \(request.url)"])
            }
        }
        do {
            _ = try await Self.api(Down()).call("getMe")
            Issue.record("no error")
        } catch let error as ConnectorError {
            #expect(error.disposition == .retry)
            #expect(error.code == "telegram-network")
            #expect(!error.description.contains(Self.token))
        }
    }
}
