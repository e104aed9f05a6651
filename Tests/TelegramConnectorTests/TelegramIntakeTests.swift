import Emulators
import Flows
import Foundation
import Hub
import Testing
@testable import TelegramConnector

/// Receiving updates from the emulator: polling, the lease, restarts, the webhook route.
@Suite(.serialized) struct TelegramIntakeTests {
    typealias H = TelegramHarness

    @Test func pollingEmitsAStartCommandOnceAcrossARestart() async throws {
        let h = try await H.start()
        defer { Task { await h.stop() } }
        let sink = RecordingSink()
        let updateID = await h.emulator.userSends("/start TOKEN_abc-1", from: H.ada)

        // First process: stores the update, then dies before confirming it to Telegram.
        await sink.set(hang: true)
        let first = try h.connector(sink)
        let firstRun = Task { try await first.run() }
        #expect(await eventually { await sink.emitted.count == 1 })
        firstRun.cancel()
        _ = await firstRun.result
        #expect(h.emulator.pendingUpdateCount == 1, "the update must stay unconfirmed until stored")

        // Second process: gets the same update again; the dedup key makes it a duplicate.
        await sink.set(hang: false)
        let second = try h.connector(sink)
        let secondRun = Task { try await second.run() }
        #expect(await eventually { await sink.emitted.count == 2 })
        #expect(await eventually { h.emulator.pendingUpdateCount == 0 }, "confirmed once stored")
        secondRun.cancel()
        _ = await secondRun.result

        let stored = await sink.stored, emitted = await sink.emitted
        #expect(stored.count == 1)
        #expect(emitted.map(\.dedupKey) == ["\(updateID)", "\(updateID)"])
        let event = try #require(stored.first)
        #expect(event.instance == "telegram")
        #expect(event.trigger == "command")
        #expect(event.payload["command"] == "start")
        #expect(event.payload["payload"] == "TOKEN_abc-1")
        #expect(event.payload["from"]?["id"]?.telegramID == H.ada.id)
        #expect(event.payload["chat_id"]?.telegramID == H.ada.id)

        // Polling mode removes any webhook first and asks for chat_member explicitly.
        let calls = h.emulator.calls
        #expect(calls.first { $0.method == "deleteWebhook" } != nil)
        let poll = try #require(h.emulator.calls(of: "getUpdates").first)
        #expect(poll.params["allowed_updates"]?.arrayValue?.contains("chat_member") == true)
        #expect(poll.params["timeout"]?.intValue == 1)
    }

    @Test func aStoreOutageKeepsTheUpdateForLater() async throws {
        let h = try await H.start()
        defer { Task { await h.stop() } }
        let sink = RecordingSink()
        await sink.set(failing: true)
        await h.emulator.userSends("hello, a question about the price", from: H.ada)
        let connector = try h.connector(sink)
        let run = Task { try await connector.run() }
        #expect(await eventually { await sink.emitted.count >= 2 }, "retried after the failure")
        #expect(h.emulator.pendingUpdateCount == 1, "never confirmed while it could not be stored")
        await sink.set(failing: false)
        #expect(await eventually { await sink.stored.count == 1 })
        #expect(await eventually { h.emulator.pendingUpdateCount == 0 })
        run.cancel()
        _ = await run.result
        #expect(await sink.stored.first?.trigger == "message")
        #expect(await sink.stored.first?.payload["text"] == "hello, a question about the price")
    }

    @Test func aProcessWithoutTheLeaseStandsBy() async throws {
        let h = try await H.start()
        defer { Task { await h.stop() } }
        // Another hub process holds the bot's lease.
        let other = TelegramLease(database: h.database, name: "telegram:7000000001", owner: "other-process")
        #expect(try await other.acquire(for: .seconds(60)))
        let sink = RecordingSink()
        await h.emulator.userSends("/start T1", from: H.ada)
        let connector = try h.connector(sink)
        let run = Task { try await connector.run() }
        #expect(await eventually { h.emulator.calls(of: "getMe").count >= 1 })
        try await Task.sleep(for: .milliseconds(400))
        #expect(h.emulator.calls(of: "getUpdates").isEmpty, "standby must not poll")
        #expect(await sink.emitted.isEmpty)

        // The owner goes away: the standby process takes over.
        try await other.release()
        #expect(await eventually { await sink.stored.count == 1 })
        run.cancel()
        _ = await run.result
        // A cancelled owner hands the lease over at once.
        #expect(try await other.acquire(for: .seconds(60)))
    }

    @Test("a receiver whose lease could not be renewed for a lease's time stops: another hub may hold it by then")
    func unrenewedLeaseStopsTheReceiver() async throws {
        let h = try await H.start()
        defer { Task { await h.stop() } }
        var connector = try h.connector(RecordingSink())
        connector.timings = TelegramTimings(lease: .milliseconds(800), renew: .milliseconds(100), standby: .milliseconds(100),
                                            backoff: .milliseconds(50), maxBackoff: .milliseconds(200), longPoll: 0)
        let run = Task { [connector] in try await connector.run() }
        #expect(await eventually { h.emulator.calls(of: "getUpdates").count >= 2 })
        // The database stops answering the renewals (here: their table is gone).
        try await h.database.execute("DROP TABLE hub_leader")
        try await Task.sleep(for: .seconds(2))
        let after = h.emulator.calls(of: "getUpdates").count
        try await Task.sleep(for: .seconds(1))
        #expect(h.emulator.calls(of: "getUpdates").count == after, "still polling without a lease")
        run.cancel()
        _ = await run.result
    }

    @Test func conflictsAndServerErrorsAreRetriedNotFatal() async throws {
        let h = try await H.start()
        defer { Task { await h.stop() } }
        h.emulator.failNext(2, method: "getUpdates", status: 409,
                            description: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running")
        h.emulator.failNext(1, method: "getUpdates", status: 500, description: "Internal Server Error")
        let logs = CapturedLogs()
        let sink = RecordingSink()
        await h.emulator.userSends("/start AFTER_CONFLICT", from: H.ada)
        let connector = try h.connector(sink, logger: logs.logger)
        let run = Task { try await connector.run() }
        #expect(await eventually { await sink.stored.count == 1 })
        run.cancel()
        _ = await run.result
        #expect(logs.all.contains { $0.contains("conflict") })
        #expect(!logs.all.contains { $0.contains(H.token) }, "the token must never be logged")
    }

    @Test func unprotectedGroupIsReportedLoudly() async throws {
        let h = try await H.start(protectedGroup: false)
        defer { Task { await h.stop() } }
        let logs = CapturedLogs()
        let connector = try h.connector(logger: logs.logger)
        let run = Task { try await connector.run() }
        #expect(await eventually { logs.all.contains { $0.contains("Restrict saving content") } })
        run.cancel()
        _ = await run.result
        #expect(logs.all.contains { $0.hasPrefix("warning") && $0.contains("Restrict saving content") })
    }

    @Test func webhookModeSetsTheHookAndChecksTheSecret() async throws {
        let h = try await H.start()
        defer { Task { await h.stop() } }
        let sink = RecordingSink()
        let connector = try h.connector(sink, publicURL: "https://hub.example.com")
        #expect(connector.settings.mode == .webhook)
        let route = try #require(connector.routes.first)
        #expect(route.path == "/hooks/telegram")

        let run = Task { try await connector.run() }
        #expect(await eventually { !h.emulator.calls(of: "setWebhook").isEmpty })
        run.cancel()
        _ = await run.result
        let set = try #require(h.emulator.calls(of: "setWebhook").first)
        #expect(set.params["url"] == "https://hub.example.com/hooks/telegram")
        let secret = try #require(set.params["secret_token"]?.stringValue)
        #expect(secret == connector.settings.webhookSecret)
        #expect(!secret.contains(H.token))

        let body = Array(#"{"update_id": 31, "message": {"message_id": 2, "from": {"id": 7, "first_name": "B"}, "chat": {"id": 7, "type": "private"}, "text": "/start W1", "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}}"#.utf8)
        let forged = await route.handler(WebhookRequest(headers: ["x-telegram-bot-api-secret-token": "guess"], body: body))
        #expect(forged.status == 401)
        let missing = await route.handler(WebhookRequest(headers: [:], body: body))
        #expect(missing.status == 401)
        #expect(await sink.emitted.isEmpty, "nothing stored from a forged request")

        let real = await route.handler(WebhookRequest(headers: ["x-telegram-bot-api-secret-token": secret], body: body))
        #expect(real.status == 200)
        let stored = await sink.stored
        #expect(stored.count == 1)
        #expect(stored.first?.dedupKey == "31")
        #expect(stored.first?.payload["payload"] == "W1")

        await sink.set(failing: true)
        let down = await route.handler(WebhookRequest(headers: ["x-telegram-bot-api-secret-token": secret], body: body))
        #expect(down.status == 503, "Telegram must send it again")
    }

    @Test func pollingModeServesNoWebhook() throws {
        let connector = try TelegramConnector(
            config: Fields(["token": .string(H.token)]),
            services: ConnectorServices(instance: "telegram", logger: .init(label: "t"), database: nil, http: CurlHTTPClient(),
                                        events: RecordingSink(), publicURL: "http://127.0.0.1:8080"))
        #expect(connector.routes.isEmpty)
    }
}
