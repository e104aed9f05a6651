import Emulators
import Flows
import Foundation
import Testing
@testable import OpenAIConnector

/// The `answer` action against the emulator: what the model was sent, what the flow gets back.
@Suite struct OpenAIAnswerTests {
    typealias H = OpenAIHarness

    static let member: Value = [
        "full_name": "Анна Смирнова", "paid": true, "joined": false, "status": "paid", "next_session": "сегодня в 19:00 МСК",
    ]

    @Test func answersFromTheKnowledgeWithTheMemberStateInTheSystemPrompt() async throws {
        try await H.with { h in
            let connector = try h.connector()
            let history: [Value] = (1...14).map { i in ["role": i % 2 == 1 ? "user" : "assistant", "text": .string("реплика \(i)")] }
            let result = try await connector.perform(H.call([
                "question": "Где моя ссылка на сеанс?", "member": Self.member, "history": .array(history),
            ]))

            #expect(result["escalate"] == false)
            #expect(result["reason"] == "")
            #expect(result["text"]?.stringValue?.hasPrefix("По базе знаний: ") == true)
            #expect(result["text"]?.stringValue?.contains("Ссылка на Zoom публикуется") == true)

            let request = try #require(h.emulator.requests.last)
            #expect(h.emulator.requests.count == 1)
            #expect(request["model"] == "gpt-4o-mini")
            #expect(request["max_completion_tokens"] == 400)
            #expect(request["temperature"] == 0.3)
            #expect(request["tools"]?["0"]?["function"]?["name"] == "escalate_to_human")
            #expect(request["parallel_tool_calls"] == false)

            let messages = h.lastMessages
            let system = try #require(messages.first?.content)
            #expect(messages.first?.role == "system")
            #expect(system.contains("Имя: Анна Смирнова"))
            #expect(system.contains("Оплачено: да"))
            #expect(system.contains("В группе Telegram: нет"))
            #expect(system.contains("Ближайший сеанс: сегодня в 19:00 МСК"))
            #expect(system.contains("## Где взять ссылку на сеанс?"), "the knowledge file is in the system prompt")
            #expect(!system.contains("Где моя ссылка"), "the question is not in the system prompt")
            // The last 10 turns, then the question.
            #expect(messages.count == 1 + 10 + 1)
            #expect(messages[1].content == "реплика 5" && messages[1].role == "user")
            #expect(messages[10].content == "реплика 14" && messages[10].role == "assistant")
            #expect(messages.last?.role == "user" && messages.last?.content == "Где моя ссылка на сеанс?")
        }
    }

    @Test("a reasoning model that refuses the temperature (OPENAI_MODEL changed, hub.yaml untouched) gets the question again without it, and from then on")
    func aModelThatRefusesTheTemperatureIsAskedWithoutIt() async throws {
        try await H.with { h in
            let connector = try h.connector(settings: ["model": "o4-mini"])
            let first = try await connector.perform(H.call(["question": "Где моя ссылка на сеанс?", "member": Self.member]))
            #expect(first["escalate"] == false)
            #expect(first["text"]?.stringValue?.contains("Ссылка на Zoom публикуется") == true)
            let second = try await connector.perform(H.call(["question": "Какая погода завтра?"]))
            #expect(second["text"] == "Ответ: Какая погода завтра?")
            // Once with the temperature (refused: 400, param "temperature"), then never again.
            #expect(h.emulator.requests.map { $0["temperature"] } == [0.3, nil, nil])
        }
    }

    @Test func theModelsToolCallEscalatesToAHuman() async throws {
        try await H.with { h in
            let result = try await h.connector().perform(H.call(["question": "Я оплатила, но ничего не пришло, позовите оператора!",
                                                                  "member": Self.member]))
            #expect(result["escalate"] == true)
            #expect(result["reason"] == "the client asked for a human")
            #expect(result["text"]?.stringValue == SupportAnswer.handoverText)
            #expect(h.emulator.requests.count == 1)
        }
    }

    @Test func anUnknownQuestionGetsTheEmulatorsEchoAndAnAbsentKnowledgeFileIsNoError() async throws {
        try await H.with { h in
            try FileManager.default.removeItem(atPath: h.knowledgePath)
            let result = try await h.connector().perform(H.call(["question": "Какая погода завтра?"]))
            #expect(result["text"] == "Ответ: Какая погода завтра?")
            let system = try #require(h.lastMessages.first?.content)
            #expect(system.contains("(база знаний пуста)"))
            #expect(system.contains("Клиент не найден"), "no member: the prompt says so instead of guessing")
        }
    }

    @Test func extraKnowledgeAndAdminInstructionsGoIntoTheSystemPrompt() async throws {
        try await H.with { h in
            let connector = try h.connector(settings: ["system_prompt": "Обращайся на «вы».", "temperature": nil,
                                                       "max_tokens_field": "max_tokens", "model": "local-model"])
            _ = try await connector.perform(H.call(["question": "Во сколько сегодня?", "knowledge": "Сегодня сеанс в 19:00 по Москве."]))
            let request = try #require(h.emulator.requests.last)
            let system = try #require(h.lastMessages.first?.content)
            #expect(system.contains("Обращайся на «вы»."))
            #expect(system.contains("Сегодня сеанс в 19:00 по Москве."))
            #expect(request["temperature"] == nil, "temperature: null leaves it out")
            #expect(request["max_tokens"] == 400 && request["max_completion_tokens"] == nil)
            #expect(request["model"] == "local-model")
        }
    }

    @Test func anEditedKnowledgeFileIsUsedForTheNextQuestion() async throws {
        try await H.with { h in
            let connector = try h.connector()
            _ = try await connector.perform(H.call(["question": "Сколько стоит участие?"]))
            #expect(h.lastMessages.first?.content?.contains("Актуальная стоимость указана на нашем сайте") == true)
            try h.writeKnowledge("## Стоимость\n\nУчастие стоит столько, сколько написано на сайте; скидка для студентов 10%.\n")
            let result = try await connector.perform(H.call(["question": "Сколько стоит участие?"]))
            let system = try #require(h.lastMessages.first?.content)
            #expect(system.contains("скидка для студентов 10%"))
            #expect(!system.contains("Актуальная стоимость"))
            #expect(result["text"]?.stringValue?.contains("скидка для студентов") == true)
        }
    }
}
