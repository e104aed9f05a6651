import Flows
import Foundation

extension OpenAIEmulator {
    /// The assistant message the emulator sends back.
    struct Reply {
        var content: String?
        var toolCall: (name: String, arguments: String)?

        var json: Value {
            var message: [String: Value] = ["role": "assistant", "content": content.map(Value.string) ?? .null,
                                            "refusal": nil, "annotations": []]
            if let toolCall {
                message["tool_calls"] = [["id": "call_emulated1", "type": "function",
                                          "function": ["name": .string(toolCall.name), "arguments": .string(toolCall.arguments)]]]
            }
            return .object(message)
        }
    }

    static let escalationWords = ["оператор", "человек", "operator"]
    static let refundWords = ["возврат", "refund"]
    static let escalationTool = "escalate_to_human"

    /// The rules in the type's documentation, in order.
    static func reply(to messages: [Value], tools: [Value]) -> Reply {
        let question = messages.last { $0["role"]?.stringValue == "user" }.map { text(of: $0) } ?? ""
        let lowered = question.lowercased()
        let offersEscalation = tools.contains { $0["function"]?["name"]?.stringValue == escalationTool }
        if offersEscalation, escalationWords.contains(where: lowered.contains) {
            return Reply(content: nil, toolCall: (escalationTool, Value.object(["reason": "the client asked for a human"]).json))
        }
        if offersEscalation, refundWords.contains(where: lowered.contains) {
            return Reply(content: nil, toolCall: (escalationTool, Value.object(["reason": "the client asks for a refund"]).json))
        }
        let system = messages.filter { ["system", "developer"].contains($0["role"]?.stringValue) }.map { text(of: $0) }.joined(separator: "\n")
        if let line = knowledgeLine(in: system, for: question) {
            return Reply(content: "По базе знаний: \(line)")
        }
        return Reply(content: "Ответ: \(question)")
    }

    /// `content` as a string, or its text parts joined.
    static func text(of message: Value) -> String {
        if let s = message["content"]?.stringValue { return s }
        return (message["content"]?.arrayValue ?? []).compactMap { $0["text"]?.stringValue }.joined(separator: "\n")
    }

    /// The answer line from the `<knowledge>` block: the block is split into sections at lines
    /// starting with `#`; each scores 2 per keyword in its heading and 1 per keyword only in its
    /// text; the best (the earliest on a tie) gives its first non-empty line, or for text before
    /// any heading, its first line holding a keyword.
    static func knowledgeLine(in system: String, for question: String) -> String? {
        guard let start = system.range(of: "<knowledge>"), let end = system.range(of: "</knowledge>", range: start.upperBound..<system.endIndex)
        else { return nil }
        let keywords = Set(question.lowercased().split { !$0.isLetter && !$0.isNumber }.filter { $0.count >= 4 }.map { String($0.prefix(5)) })
        guard !keywords.isEmpty else { return nil }
        var sections: [(heading: String?, lines: [String])] = [(nil, [])]
        for line in system[start.upperBound..<end.lowerBound].split(separator: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("#") { sections.append((trimmed, [])) } else if !trimmed.isEmpty { sections[sections.count - 1].lines.append(trimmed) }
        }
        func has(_ text: String, _ keyword: String) -> Bool { text.lowercased().contains(keyword) }
        var best: (section: (heading: String?, lines: [String]), score: Int)?
        for section in sections {
            let score = keywords.reduce(0) { sum, keyword in
                sum + (section.heading.map { has($0, keyword) } == true ? 2 : section.lines.contains { has($0, keyword) } ? 1 : 0)
            }
            if score > (best?.score ?? 0) { best = (section, score) }
        }
        guard let section = best?.section else { return nil }
        guard let heading = section.heading else { return section.lines.first { line in keywords.contains { has(line, $0) } } }
        return section.lines.first ?? heading
    }
}
