import Flows

extension OpenAIConnector {
    /// The declaration that drives config checking, flow checking and the docs.
    public static let spec = ConnectorSpec(
        name: "openai",
        summary: "Answers support questions with OpenAI (or a compatible server) from a knowledge file; without a key, from the FAQ alone.",
        defaultInstance: "openai",
        config: [
            .optional(Key.apiKey, .string, "the API key; without it answers come from the knowledge file's FAQ by simple matching",
                      secret: true, environment: "OPENAI_API_KEY"),
            .optional(Key.baseURL, .string, "the API base URL including /v1 (a local OpenAI-compatible server works too)",
                      default: .string(OpenAISettings.defaultBaseURL), environment: "OPENAI_BASE_URL"),
            .optional(Key.model, .string, "the chat model", default: .string(OpenAISettings.defaultModel), environment: "OPENAI_MODEL"),
            .optional(Key.temperature, .number, "sampling temperature 0–2; null leaves it out (reasoning models refuse it)", default: 0.3),
            .optional(Key.maxCompletionTokens, .integer, "the longest answer, in tokens", default: 400),
            .optional(Key.maxTokensField, .choice(["max_completion_tokens", "max_tokens"]),
                      "the request field that carries the limit; older compatible servers know only max_tokens", default: "max_completion_tokens"),
            .optional(Key.timeout, .number, "seconds to wait for an answer", default: 30),
            .optional(Key.knowledge, .string, "a Markdown file (relative to the working directory) with the facts the bot may use, in '## Question' sections; re-read when it changes",
                      default: .string(OpenAISettings.defaultKnowledgePath)),
            .optional(Key.systemPrompt, .string, "extra instructions for the assistant (tone, what to avoid)"),
        ],
        actions: [answerSpec]
    )
}
