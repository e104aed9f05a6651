import Emulators
import Flows
import Foundation
import Testing
@testable import OpenAIConnector

/// The database's `find_member` result can be passed as `member` unchanged.
@Suite struct OpenAIMemberTests {
    typealias H = OpenAIHarness

    @Test func aFindMemberResultIsReadAndItsPrivateFieldsStayOut() async throws {
        try await H.with { h in
            let member: Value = ["found": true, "id": "m-1", "full_name": "Анна", "phone": "+79990001122", "email": "ann@example.com",
                                 "token": "DEEPLINKTOKEN42", "status": "joined", "paid": true, "joined_at": 1_767_225_600_000]
            _ = try await h.connector().perform(H.call(["question": "Где моя ссылка?", "member": member]))
            let system = try #require(h.lastMessages.first?.content)
            #expect(system.contains("Имя: Анна") && system.contains("В группе Telegram: да") && system.contains("Статус: joined"))
            #expect(!system.contains("DEEPLINKTOKEN42") && !system.contains("+79990001122") && !system.contains("ann@example.com"))

            _ = try await h.connector().perform(H.call(["question": "Где моя ссылка?", "member": ["found": false, "paid": false]]))
            #expect(h.lastMessages.first?.content?.contains("Клиент не найден") == true)
        }
    }
}
