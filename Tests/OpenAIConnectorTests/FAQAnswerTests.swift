import Emulators
import Flows
import Foundation
import Logging
import Testing
@testable import OpenAIConnector

/// Without an API key the connector answers from the knowledge file alone, and never calls the API.
@Suite struct FAQAnswerTests {
    typealias H = OpenAIHarness

    @Test(arguments: [
        ("Где моя ссылка на сеанс?", "Ссылка на Zoom публикуется каждый день"),
        ("я потеряла ссылку, что делать", "Отправьте боту команду /start"),
        ("Как оплатить?", "страница оплаты Prodamus"),
        ("Сколько стоит участие", "Актуальная стоимость указана на нашем сайте"),
        ("хочу вернуть деньги, возврат возможен?", "публичной оферты"),
    ])
    func aFAQQuestionGetsItsSection(_ question: String, _ expected: String) async throws {
        try await H.with { h in
            let result = try await h.connector(apiKey: nil).perform(H.call(["question": .string(question)]))
            #expect(result["escalate"] == false, "\(question)")
            #expect(result["text"]?.stringValue?.contains(expected) == true, "\(question) → \(result["text"]?.text ?? "")")
            #expect(h.emulator.requests.isEmpty)
        }
    }

    @Test(arguments: ["Какая погода в Париже завтра?", "Расскажите анекдот", "🙂🙂🙂", "???"])
    func anUnknownQuestionEscalates(_ question: String) async throws {
        try await H.with { h in
            let result = try await h.connector(apiKey: nil).perform(H.call(["question": .string(question)]))
            #expect(result["escalate"] == true)
            #expect(result["reason"] == "no answer in FAQ")
            #expect(result["text"]?.stringValue?.isEmpty == false)
            #expect(h.emulator.requests.isEmpty)
        }
    }

    @Test func withoutAKnowledgeFileEverythingEscalates() async throws {
        try await H.with { h in
            let result = try await h.connector(apiKey: nil, settings: ["knowledge": "/nonexistent/faq.md"])
                .perform(H.call(["question": "Где моя ссылка?"]))
            #expect(result["escalate"] == true)
            #expect(result["reason"] == "no answer in FAQ")
        }
    }

    @Test func theAnswerIsDeterministicAndFollowsFileEdits() async throws {
        try await H.with { h in
            let connector = try h.connector(apiKey: nil)
            let first = try await connector.perform(H.call(["question": "Когда проходят сеансы?"]))
            let second = try await connector.perform(H.call(["question": "Когда проходят сеансы?"]))
            #expect(first == second)
            try h.writeKnowledge("# FAQ\n\n## Когда проходят сеансы?\n\nПо вторникам и четвергам.\n")
            let edited = try await connector.perform(H.call(["question": "Когда проходят сеансы?"]))
            #expect(edited["text"] == "По вторникам и четвергам.")
        }
    }

    @Test func sectionsSplitAtHeadingsAndTiesGoToTheEarlierOne() {
        let markdown = """
            # Title
            Intro text about оплата.
            ## Оплата картой
            Картой можно.
            ### Оплата СБП
            Через СБП можно.

            ## Пустой раздел
            """
        let matcher = FAQMatcher(markdown: markdown)
        #expect(matcher.sections == [.init(title: "Оплата картой", body: "Картой можно."), .init(title: "Оплата СБП", body: "Через СБП можно.")])
        #expect(matcher.bestSection(for: "оплата")?.title == "Оплата картой")
        #expect(matcher.bestSection(for: "оплата через СБП")?.title == "Оплата СБП")
        #expect(matcher.bestSection(for: "привет") == nil)
        #expect(FAQMatcher.stems(of: "Где МОЯ ссылка?! Ёлки") == ["ссылк", "елки"])
    }

    /// A file saved on Windows (CRLF, maybe a byte-order mark) has the same sections.
    @Test func windowsLineEndingsAndAByteOrderMark() {
        let sections = FAQMatcher.sections(of: "\u{FEFF}## Где ссылка?\r\nСсылка в группе.\r\nВ 19:00.\r\n## Оплата\r\nКартой.\r\n")
        #expect(sections == [.init(title: "Где ссылка?", body: "Ссылка в группе.\nВ 19:00."), .init(title: "Оплата", body: "Картой.")])
    }

    /// A section longer than a Telegram message is cut to fit, with room for the flow's own line.
    @Test func aLongAnswerFitsATelegramMessage() {
        let long = String(repeating: "Ответ 🙂 ", count: 1_000)
        let answer = OpenAIConnector.faqAnswer(SupportQuestion(Fields(["question": "Ответ"])),
                                               knowledge: "## Ответ\n" + long).value
        let text = answer["text"]?.stringValue ?? ""
        #expect(text.utf16.count <= SupportAnswer.maxTextUTF16 && text.utf16.count > SupportAnswer.maxTextUTF16 - 10)
        #expect(text.hasSuffix("…") && long.hasPrefix(String(text.dropLast())))
        #expect(SupportAnswer.fitted("коротко") == "коротко")
    }

    /// Only a regular file is read, and only as far as the limit reaches: /dev/zero or a FIFO
    /// would hang every question, a huge file would be read whole on every edit.
    @Test func theKnowledgeFileIsReadWithinBounds() throws {
        let logger = Logger(label: "test")
        #expect(KnowledgeFile(path: "/dev/zero", logger: logger).text() == nil)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("knowledge-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let fifo = folder.appendingPathComponent("faq.pipe").path
        #expect(mkfifo(fifo, 0o600) == 0)
        #expect(KnowledgeFile(path: fifo, logger: logger).text() == nil)
        let big = folder.appendingPathComponent("faq.md")
        try Data(repeating: UInt8(ascii: "a"), count: 3_000_000).write(to: big)
        #expect(KnowledgeFile(path: big.path, logger: logger).text()?.count == KnowledgeFile.maxCharacters)
        // A link (a mounted ConfigMap, `ln -s`) is followed to its file.
        let link = folder.appendingPathComponent("kb.md")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: big)
        #expect(KnowledgeFile(path: link.path, logger: logger).text()?.count == KnowledgeFile.maxCharacters)
    }
}

