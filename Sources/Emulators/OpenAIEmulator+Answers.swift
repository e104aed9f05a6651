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
    static let escalationTool = "escalate_to_human"

    /// The rules in the type's documentation, in order.
    static func reply(to messages: [Value], tools: [Value]) -> Reply {
        let question = messages.last { $0["role"]?.stringValue == "user" }.map { text(of: $0) } ?? ""
        let lowered = question.lowercased()
        let offersEscalation = tools.contains { $0["function"]?["name"]?.stringValue == escalationTool }
        if offersEscalation, escalationWords.contains(where: lowered.contains) {
            return Reply(content: nil, toolCall: (escalationTool, Value.object(["reason": "the client asked for a human"]).json))
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

    /// The first non-empty line of the `<knowledge>` block that holds one of the question's keywords.
    static func knowledgeLine(in system: String, for question: String) -> String? {
        guard let start = system.range(of: "<knowledge>"), let end = system.range(of: "</knowledge>", range: start.upperBound..<system.endIndex)
        else { return nil }
        let keywords = Set(question.lowercased().split { !$0.isLetter && !$0.isNumber }.filter { $0.count >= 4 }.map { String($0.prefix(5)) })
        guard !keywords.isEmpty else { return nil }
        for line in system[start.upperBound..<end.lowerBound].split(separator: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            let lowered = trimmed.lowercased()
            if !trimmed.isEmpty, keywords.contains(where: lowered.contains) { return trimmed }
        }
        return nil
    }
}
