import Flows
import Foundation

/// OpenAI Chat Completions (or any OpenAI-compatible server): answers clients' support questions
/// from the admin's knowledge file and the member's own state, and decides when a human operator
/// should take over (the `escalate_to_human` tool).
///
/// Without an API key it still answers, from the knowledge file alone, by matching the question
/// against its `## Question` sections, so a shop without an OpenAI account gets a FAQ bot.
/// The API key lives only in memory: it is not logged, not stored and cut out of every error.
public struct OpenAIConnector: Connector {
    /// YAML keys of the config, declared once.
    enum Key {
        static let apiKey = "api_key"
        static let baseURL = "base_url"
        static let model = "model"
        static let temperature = "temperature"
        static let maxCompletionTokens = "max_completion_tokens"
        static let maxTokensField = "max_tokens_field"
        static let timeout = "timeout"
        static let knowledge = "knowledge"
        static let systemPrompt = "system_prompt"
    }

    let settings: OpenAISettings
    let knowledge: KnowledgeFile
    /// Nil without an API key: the connector then answers from the FAQ only.
    let client: ChatCompletionClient?

    /// Reads and checks the config; a missing knowledge file is not an error (it may appear later).
    public init(config: ConnectorConfig, services: ConnectorServices) throws {
        let settings = try OpenAISettings(config: config)
        self.settings = settings
        knowledge = KnowledgeFile(path: settings.knowledgePath, logger: services.logger)
        client = settings.apiKey.map { ChatCompletionClient(http: services.http, settings: settings, apiKey: $0, logger: services.logger) }
    }

    /// Carries out one declared action.
    public func perform(_ call: ActionCall) async throws -> Value {
        switch call.action {
        case Self.answerSpec.name: try await answer(call)
        default: throw ConnectorError.permanent("unknown-action", "openai has no action '\(call.action)'")
        }
    }
}
