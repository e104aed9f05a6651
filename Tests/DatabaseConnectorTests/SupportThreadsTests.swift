import DatabaseConnector
import Flows
import Foundation
import Logging
import Testing

@Suite("db: support threads, hand-over and the operators' mapping")
struct SupportThreadsTests {
    @Test("support_thread opens a chat once, with the member's facts, a dashboard link and the operators' summary", arguments: TestFunnel.available)
    func threadWithMember(kind: TestDatabaseKind) async throws {
        try await TestFunnel.with(kind) { funnel in
            let id = try await funnel.paidMember(phone: "+79160000101", telegramID: 7001)
            let first = try await funnel.call("support_thread", ["telegram_id": 7001], key: "r1:thread")
            #expect(first["created"] == true)
            #expect(first["mode"] == "ai")
            #expect(first["member_found"] == true)
            #expect(first["member_id"] == .string(id))
            #expect(first["full_name"] == "Анна Петрова")
            #expect(first["phone"] == "+79160000101")
            #expect(first["paid"] == true)
            #expect(first["joined"] == false)
            #expect(first["member_url"] == .string("http://127.0.0.1:8080/admin/members/\(id)"))
            #expect(first["summary"] == "Анна Петрова · +79160000101 · оплачено")
            #expect(first["history"] == [])
            let again = try await funnel.call("support_thread", ["telegram_id": "7001"], key: "r2:thread")
            #expect(again["created"] == false)
            #expect(try await funnel.rows("SELECT telegram_id, member_id, mode FROM funnel_support_threads").map(\.values)
                == [[7001, .string(id), "ai"]])

            let stranger = try await funnel.call("support_thread", ["telegram_id": 7002], key: "r3:thread")
            #expect(stranger["member_found"] == false)
            #expect(stranger["member_id"] == .null)
            #expect(stranger["member_url"] == .null)
            #expect(stranger["paid"] == false)
            #expect(stranger["summary"]?.stringValue?.hasPrefix("нет в базе") == true)

            // Binding the account later (/start TOKEN) shows up on the next message.
            let member = try await funnel.register(name: "Борис Петров", phone: "+79160000102", email: nil)
            try await funnel.bindThroughMemberToken(member, telegramID: 7002)
            let bound = try await funnel.call("support_thread", ["telegram_id": 7002], key: "r4:thread")
            #expect(bound["member_found"] == true)
            #expect(bound["summary"] == "Борис Петров · +79160000102 · не оплачено")
            #expect(try await funnel.rows("SELECT member_id FROM funnel_support_threads WHERE telegram_id = 7002").first?["member_id"] == member["id"])
        }
    }

    @Test("support_log records once per step, keeps order, and the thread returns the latest messages as history", arguments: TestFunnel.available)
    func logAndHistory(kind: TestDatabaseKind) async throws {
        try await TestFunnel.with(kind) { funnel in
            try await funnel.call("support_thread", ["telegram_id": 7010], key: "r0:thread")
            for turn in 1...6 {
                try await funnel.call("support_log", ["telegram_id": 7010, "direction": "in", "text": .string("вопрос \(turn)")], key: "r\(turn):in")
                try await funnel.call("support_log", ["telegram_id": 7010, "direction": "out", "text": .string("ответ \(turn)")], key: "r\(turn):out")
            }
            // A retried step records nothing new.
            let retried = try await funnel.call("support_log", ["telegram_id": 7010, "direction": "in", "text": "вопрос 6"], key: "r6:in")
            #expect(retried == ["id": "r6:in", "logged": false])
            #expect(try await funnel.rows("SELECT COUNT(*) AS n FROM funnel_support_messages").first?["n"] == 12)
            // Media without a caption is recorded but is no history for the model.
            try await funnel.call("support_log", ["telegram_id": 7010, "direction": "in", "text": "", "media_type": "photo"], key: "r7:in")

            let thread = try await funnel.call("support_thread", ["telegram_id": 7010, "history": 4], key: "r8:thread")
            #expect(thread["history"] == [
                ["role": "user", "text": "вопрос 5"], ["role": "assistant", "text": "ответ 5"],
                ["role": "user", "text": "вопрос 6"], ["role": "assistant", "text": "ответ 6"],
            ])
            let none = try await funnel.call("support_thread", ["telegram_id": 7010, "history": 0], key: "r9:thread")
            #expect(none["history"] == [])

            let long = String(repeating: "я", count: 5000)
            try await funnel.call("support_log", ["telegram_id": 7010, "direction": "in", "text": .string(long)], key: "r10:in")
            let stored = try await funnel.rows("SELECT text FROM funnel_support_messages WHERE id = 'r10:in'").first?["text"]?.stringValue
            #expect(stored?.count == 4096)

            await #expect(throws: ConnectorError.self) {
                try await funnel.call("support_log", ["telegram_id": 7010, "direction": "sideways", "text": "x"], key: "r11:in")
            }
        }
    }

    @Test("set_support_mode says 'changed' to the step that switched, also when that step is retried, and to no one else", arguments: TestFunnel.available)
    func modeSwitch(kind: TestDatabaseKind) async throws {
        try await TestFunnel.with(kind) { funnel in
            try await funnel.call("support_thread", ["telegram_id": 7020], key: "r0:thread")
            let first = try await funnel.call("set_support_mode", ["telegram_id": 7020, "mode": "operator", "reason": "просит человека"], key: "r1:handover")
            #expect(first == ["mode": "operator", "changed": true, "reason": "просит человека"])
            let retried = try await funnel.call("set_support_mode", ["telegram_id": 7020, "mode": "operator", "reason": "просит человека"], key: "r1:handover")
            #expect(retried["changed"] == true)
            let other = try await funnel.call("set_support_mode", ["telegram_id": 7020, "mode": "operator", "reason": "другое"], key: "r2:handover")
            #expect(other == ["mode": "operator", "changed": false, "reason": "просит человека"])
            #expect(try await funnel.call("support_thread", ["telegram_id": 7020], key: "r3:thread")["mode"] == "operator")

            let closed = try await funnel.call("set_support_mode", ["telegram_id": 7020, "mode": "ai"], key: "r4:close")
            #expect(closed["changed"] == true)
            #expect(closed["mode"] == "ai")
            // A chat never opened is opened by the switch.
            let fresh = try await funnel.call("set_support_mode", ["telegram_id": 7021, "mode": "operator"], key: "r5:handover")
            #expect(fresh["changed"] == true)
            await #expect(throws: ConnectorError.self) {
                try await funnel.call("set_support_mode", ["telegram_id": 7020, "mode": "human"], key: "r6:handover")
            }
        }
    }

    @Test("two runs handing the same chat over at once: exactly one is told it switched", arguments: TestFunnel.available)
    func concurrentHandover(kind: TestDatabaseKind) async throws {
        try await TestFunnel.with(kind) { funnel in
            try await funnel.call("support_thread", ["telegram_id": 7040], key: "r0:thread")
            let changed = try await withThrowingTaskGroup(of: Bool.self) { group in
                for run in 1...6 {
                    group.addTask {
                        try await funnel.call("set_support_mode", ["telegram_id": 7040, "mode": "operator"], key: "r\(run):handover")["changed"] == true
                    }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(changed == 1)
            #expect(try await funnel.rows("SELECT mode FROM funnel_support_threads WHERE telegram_id = 7040").first?["mode"] == "operator")
        }
    }

    @Test("support_client_for maps relayed messages, headers and operator replies to their own client only", arguments: TestFunnel.available)
    func operatorsMapping(kind: TestDatabaseKind) async throws {
        try await TestFunnel.with(kind) { funnel in
            let id = try await funnel.paidMember(phone: "+79160000131", telegramID: 7031)
            for client in [7031, 7032] {
                try await funnel.call("support_thread", ["telegram_id": .number(Double(client))], key: "t\(client)")
                try await funnel.call("set_support_mode", ["telegram_id": .number(Double(client)), "mode": "operator"], key: "m\(client)")
            }
            try await funnel.call("support_log", ["telegram_id": 7031, "direction": "in", "text": "где ссылка?",
                                                  "operators_message_id": 501, "header_message_id": 500], key: "a:in")
            try await funnel.call("support_log", ["telegram_id": 7032, "direction": "in", "text": "верните деньги",
                                                  "operators_message_id": 503, "header_message_id": 502], key: "b:in")
            try await funnel.call("support_log", ["telegram_id": 7031, "direction": "operator", "text": "вот она",
                                                  "operators_message_id": 504], key: "c:operator")
            let byCopy = try await funnel.call("support_client_for", ["operators_message_id": 501], key: "q1")
            #expect(byCopy == ["found": true, "telegram_id": 7031, "mode": "operator", "member_id": .string(id)])
            #expect(try await funnel.call("support_client_for", ["operators_message_id": 500], key: "q2")["telegram_id"] == 7031)
            #expect(try await funnel.call("support_client_for", ["operators_message_id": "503"], key: "q3")["telegram_id"] == 7032)
            #expect(try await funnel.call("support_client_for", ["operators_message_id": 502], key: "q4")["member_id"] == .null)
            #expect(try await funnel.call("support_client_for", ["operators_message_id": 504], key: "q5")["telegram_id"] == 7031)
            let unknown = try await funnel.call("support_client_for", ["operators_message_id": 999], key: "q6")
            #expect(unknown == ["found": false, "telegram_id": nil, "mode": nil, "member_id": nil])
        }
    }

    @Test("after the operators' group moved to a supergroup, whose ids start anew, an id is matched in its own chat only", arguments: TestFunnel.available)
    func operatorsMappingPerChat(kind: TestDatabaseKind) async throws {
        try await TestFunnel.with(kind) { funnel in
            let group = -4_000_001, supergroup = -100_4_000_001
            try await funnel.call("support_log", ["telegram_id": 7041, "direction": "in", "text": "старая группа",
                                                  "operators_message_id": 7, "header_message_id": 6,
                                                  "operators_chat_id": .number(Double(group))], key: "a:in")
            try await funnel.call("support_log", ["telegram_id": 7042, "direction": "in", "text": "новая группа",
                                                  "operators_message_id": 3, "operators_chat_id": .number(Double(supergroup))], key: "b:in")
            // Message 7 of the supergroup is not the relayed message 7 of the old group.
            let inNewChat = try await funnel.call("support_client_for", ["operators_message_id": 7, "operators_chat_id": .number(Double(supergroup))], key: "q1")
            #expect(inNewChat["found"] == false)
            #expect(try await funnel.call("support_client_for", ["operators_message_id": 6, "operators_chat_id": .number(Double(group))], key: "q2")["telegram_id"] == 7041)
            #expect(try await funnel.call("support_client_for", ["operators_message_id": 3, "operators_chat_id": .number(Double(supergroup))], key: "q3")["telegram_id"] == 7042)
            // Rows logged before chats were recorded, and lookups that name no chat, match by id as before.
            try await funnel.call("support_log", ["telegram_id": 7043, "direction": "in", "text": "до обновления", "operators_message_id": 11], key: "c:in")
            #expect(try await funnel.call("support_client_for", ["operators_message_id": 11, "operators_chat_id": .number(Double(supergroup))], key: "q4")["telegram_id"] == 7043)
            #expect(try await funnel.call("support_client_for", ["operators_message_id": 7], key: "q5")["telegram_id"] == 7041)
        }
    }
}

extension TestFunnel {
    /// Calls an action with its own idempotency key (`run:step`), as separate runs and steps do.
    @discardableResult
    func call(_ action: String, _ inputs: [String: Value], key: String) async throws -> Value {
        let parts = key.split(separator: ":", maxSplits: 1).map(String.init)
        return try await connector.perform(ActionCall(action: action, inputs: Fields(inputs), idempotencyKey: key,
                                                      runID: parts[0], stepID: parts.count > 1 ? parts[1] : "step",
                                                      flow: "test", logger: Logger(label: "test.flow")))
    }
}
