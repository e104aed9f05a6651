import Flows
import Foundation

/// The connector's config, read once and checked.
struct OpenAISettings: Sendable {
    static let defaultBaseURL = "https://api.openai.com/v1"
    /// A small, cheap current chat model; support answers need no more.
    static let defaultModel = "gpt-4o-mini"
    static let defaultKnowledgePath = "knowledge/faq.md"

    var apiKey: String?
    /// Without a trailing slash; `/chat/completions` is appended.
    var baseURL: String
    var model: String
    var temperature: Double?
    var maxCompletionTokens: Int
    var maxTokensField: String
    var timeout: Duration
    var knowledgePath: String?
    var systemPrompt: String?

    init(config: ConnectorConfig) throws {
        typealias Key = OpenAIConnector.Key
        let key = config.get(Key.apiKey)?.trimmingCharacters(in: .whitespacesAndNewlines)
        apiKey = (key?.isEmpty ?? true) ? nil : key
        var base = config.get(Key.baseURL) ?? Self.defaultBaseURL
        if base.hasSuffix("/") { base.removeLast() }
        guard let url = URL(string: base), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
            throw ConnectorError.permanent("bad-config", "'\(Key.baseURL)' must be an http(s) URL such as \(Self.defaultBaseURL), found '\(base)'")
        }
        baseURL = base
        model = config.get(Key.model).flatMap { $0.isEmpty ? nil : $0 } ?? Self.defaultModel
        temperature = config.get(Key.temperature, as: Double.self)
        if let t = temperature, !(0...2).contains(t) {
            throw ConnectorError.permanent("bad-config", "'\(Key.temperature)' must be between 0 and 2, found \(t)")
        }
        maxCompletionTokens = config.get(Key.maxCompletionTokens, as: Int.self) ?? 400
        guard maxCompletionTokens > 0 else {
            throw ConnectorError.permanent("bad-config", "'\(Key.maxCompletionTokens)' must be a positive number of tokens")
        }
        maxTokensField = config.get(Key.maxTokensField) ?? "max_completion_tokens"
        let seconds = config.get(Key.timeout, as: Double.self) ?? 30
        guard seconds > 0, seconds <= 3600 else {
            throw ConnectorError.permanent("bad-config", "'\(Key.timeout)' must be a number of seconds above 0 and at most 3600")
        }
        timeout = .milliseconds(Int64(seconds * 1000))
        knowledgePath = config.get(Key.knowledge).flatMap { $0.isEmpty ? nil : $0 }
        systemPrompt = config.get(Key.systemPrompt).flatMap { $0.isEmpty ? nil : $0 }
    }
}
