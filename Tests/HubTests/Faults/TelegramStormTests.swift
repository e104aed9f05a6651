import Emulators
import Flows
import Foundation
@testable import Hub
import Testing

/// Telegram answering 429 (with retry_after), 5xx and hanging while a child hub sends a burst
/// of messages to several chats and posts to the group: every message arrives exactly once and
/// in order per chat, and the group is never posted to faster than its limit.
@Suite(.serialized, .timeLimit(.minutes(3))) struct TelegramStormTests {
    static let retry = "retry: { attempts: 40, backoff: 100ms, max_delay: 1s }"
    static let partsPerChat = 4
    static let groupPosts = 6

    /// One run per chat sends its parts in order: order within a chat is the flow's step order.
    static var chatFlow: String {
        "name: chat-burst\non: { http: /hooks/burst }\nsteps:\n" + (1...partsPerChat).map { part in
            """
              - id: part\(part)
                do: telegram.send_message
                \(retry)
                with: { chat_id: "{{ event.body.chat }}", text: "{{ event.body.tag }} part \(part)" }
            """
        }.joined(separator: "\n") + "\n"
    }

    static var groupFlow: String {
        "name: group-burst\non: { http: /hooks/group }\nsteps:\n" + (1...groupPosts).map { post in
            """
              - id: post\(post)
                do: telegram.post_group
                \(retry)
                with: { text: "Пост \(post) {{ event.body.tag }}" }
            """
        }.joined(separator: "\n") + "\n"
    }

    @Test("429 storm, 5xx burst and gateway timeouts: each message once, in order per chat, group paced")
    func stormAndBursts() async throws {
        let telegram = TelegramEmulator(token: PaidFunnel.botToken)
        telegram.addGroup(id: PaidFunnel.groupID, title: "Сеансы", hasProtectedContent: true)
        // Telegram's own flood control on top of the injected faults.
        telegram.setRateLimit(perChatPerSecond: 1, perGroupPerMinute: 20, globalPerSecond: 30)
        let faults = TelegramFaults()
        faults.stallNext(3, method: "sendMessage", for: .seconds(2))
        faults.storm(method: "sendMessage", status: 429, retryAfter: 1, failures: 2, every: 5, total: 24)
        faults.storm(method: "sendMessage", status: 502, failures: 1, every: 4, total: 8)
        faults.storm(method: "sendMessage", status: 500, failures: 1, every: 7, total: 4)
        let router = telegram.router(faults: faults)
        let server = try await EmulatorServer.start(router, name: "telegram")
        let folder = try FlowFolder(["chat-burst.yaml": Self.chatFlow, "group-burst.yaml": Self.groupFlow])
        defer { folder.remove() }
        let chats = (1...6).map { EmulatedUser(id: 810_000 + Int64($0), firstName: "Чат \($0)", username: nil) }
        for user in chats { _ = await telegram.userSends("/start", from: user) }

        try await TestDatabases.withURL(.sqlite) { url in
            let funnel = PaidFunnel(count: 0)
            let hub = try HubProcess(environment: funnel.environment(database: url, flows: folder.flows, telegramURL: server.baseURL),
                                     workingDirectory: folder.root)
            let hubURL = "http://127.0.0.1:\(try await hub.waitForPort())"
            #expect(await TestHTTP.postJSON(hubURL + "/hooks/group", #"{"tag":"g"}"#, key: "group") == 202)
            for user in chats {
                #expect(await TestHTTP.postJSON(hubURL + "/hooks/burst", #"{"chat":\#(user.id),"tag":"c\#(user.id)"}"#, key: "chat-\(user.id)") == 202)
            }
            try await PaidFunnel.waitForRuns(databaseURL: url, completed: chats.count + 1, timeout: .seconds(100))

            for user in chats {
                let texts = telegram.messages(to: user.id).map { $0.text ?? "" }
                #expect(texts == (1...Self.partsPerChat).map { "c\(user.id) part \($0)" }, "chat \(user.id): \(texts)")
            }
            let posts = telegram.messages(to: PaidFunnel.groupID)
            #expect(posts.map { $0.text ?? "" } == (1...Self.groupPosts).map { "Пост \($0) g" })
            #expect(posts.allSatisfy { $0.protectContent })
            // Every attempt at the group took a slot of the hub's pacing (3 at once, then one per 3 s),
            // so the j-th attempt after the i-th cannot arrive much earlier than (j - i - 2) × 3 s later.
            let groupAttempts = faults.arrivals.filter { $0.chatID == PaidFunnel.groupID }.map(\.at)
            for i in groupAttempts.indices {
                for j in groupAttempts.indices where j > i + 2 {
                    let least = Duration.seconds(3 * (j - i - 2)) - .milliseconds(1500)
                    #expect(groupAttempts[j] - groupAttempts[i] >= least, "group attempts \(i) and \(j) too close")
                }
            }
            let injected = faults.injected
            #expect(injected["429"] == 24 && injected["502"] == 8 && injected["500"] == 4 && injected["timeout"] == 3, "\(injected)")
            let floodControl = telegram.calls(of: "sendMessage").filter { $0.status == 429 }.count
            print("telegram storm: \(chats.count * Self.partsPerChat + Self.groupPosts) messages, injected \(injected), "
                  + "\(floodControl) flood-control 429s from the emulator, \(faults.arrivals.count) send attempts")
            hub.kill(SIGTERM)
            #expect(try await hub.waitForExit() == 0)
        }
        await telegram.shutdown()
        await server.stop()
    }

    @Test("Telegram hangs past the hub's 30 s request timeout: the message is sent again and arrives once")
    func clientTimeout() async throws {
        let telegram = PaidFunnel.telegram()
        let faults = TelegramFaults()
        faults.stallNext(1, method: "sendMessage", for: .seconds(32))
        let server = try await EmulatorServer.start(telegram.router(faults: faults), name: "telegram")
        let folder = try FlowFolder(["chat-burst.yaml": Self.chatFlow])
        defer { folder.remove() }
        let user = EmulatedUser(id: 820_001, firstName: "Ожидающий", username: nil)
        _ = await telegram.userSends("/start", from: user)
        try await TestDatabases.withURL(.sqlite) { url in
            let hub = try HubProcess(environment: PaidFunnel(count: 0).environment(database: url, flows: folder.flows, telegramURL: server.baseURL),
                                     workingDirectory: folder.root)
            let hubURL = "http://127.0.0.1:\(try await hub.waitForPort())"
            #expect(await TestHTTP.postJSON(hubURL + "/hooks/burst", #"{"chat":\#(user.id),"tag":"t"}"#, key: "timeout") == 202)
            try await PaidFunnel.waitForRuns(databaseURL: url, completed: 1, timeout: .seconds(100))
            #expect(telegram.messages(to: user.id).map { $0.text ?? "" } == (1...Self.partsPerChat).map { "t part \($0)" })
            #expect(faults.injected["timeout"] == 1)
            hub.kill(SIGTERM)
            #expect(try await hub.waitForExit() == 0)
        }
        await telegram.shutdown()
        await server.stop()
    }
}
