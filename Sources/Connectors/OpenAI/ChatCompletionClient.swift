import Flows
import Foundation
import Logging
import Synchronization

/// One Chat Completions round trip: POST `{base_url}/chat/completions`, then the first choice
/// read as a `SupportAnswer` (text, or the `escalate_to_human` tool call).
///
/// It does not retry by itself: failures are thrown as `ConnectorError`s whose disposition
/// tells the engine what to do (see `ChatCompletionClient+Errors.swift`), so the step's
/// `retry` and `on_error` stay in the admin's hands.
final class ChatCompletionClient: Sendable {
    let http: any HTTPClient
    let settings: OpenAISettings
    let apiKey: String
    let logger: Logger
    /// Set once the model refused `temperature` (reasoning models take only their default):
    /// the model is often changed with OPENAI_MODEL alone, and the configured temperature stays.
    private let omitsTemperature = Atomic<Bool>(false)

    init(http: any HTTPClient, settings: OpenAISettings, apiKey: String, logger: Logger) {
        self.http = http
        self.settings = settings
        self.apiKey = apiKey
        self.logger = logger
    }

    var endpoint: String { settings.baseURL + "/chat/completions" }

    func complete(_ body: Value) async throws -> SupportAnswer {
        if omitsTemperature.load(ordering: .relaxed) { return try await send(Self.withoutTemperature(body)) }
        do {
            return try await send(body)
        } catch let error as RefusedTemperature {
            omitsTemperature.store(true, ordering: .relaxed)
            logger.notice("the model refuses the configured temperature; asking without it from now on",
                          metadata: ["openai.model": "\(settings.model)", "openai.message": "\(error.message)"])
            return try await send(Self.withoutTemperature(body))
        }
    }

    static func withoutTemperature(_ body: Value) -> Value {
        guard var object = body.objectValue else { return body }
        object["temperature"] = nil
        return .object(object)
    }

    /// The model's refusal of `temperature`: worth one more try without it.
    struct RefusedTemperature: Error {
        let message: String
    }

    private func send(_ body: Value) async throws -> SupportAnswer {
        let request = HTTPClientRequest(method: "POST", url: endpoint,
                                        headers: ["authorization": "Bearer \(apiKey)", "content-type": "application/json",
                                                  "accept": "application/json"],
                                        body: Array(body.json.utf8), timeout: settings.timeout)
        let response: HTTPClientResponse
        do {
            response = try await http.send(request)
        } catch let error as CancellationError {
            throw error
        } catch {
            // A timeout or a refused connection: worth another try later.
            throw ConnectorError(code: "openai-network", "cannot reach the OpenAI API: \(redacted("\(error)"))", .retry)
        }
        let requestID = response.headers["x-request-id"] ?? "-"
        guard (200..<300).contains(response.status) else {
            if response.status == 400, body["temperature"] != nil, let error = (try? response.json())?["error"], error["param"] == "temperature" {
                throw RefusedTemperature(message: String(redacted(error["message"]?.stringValue ?? "").prefix(300)))
            }
            let failure = failure(for: response)
            logger.debug("openai request failed",
                         metadata: ["openai.request_id": "\(requestID)", "http.status": "\(response.status)", "error.code": "\(failure.code)"])
            throw failure
        }
        guard let json = try? response.json() else {
            throw ConnectorError(code: "openai-bad-response", "the OpenAI API answered \(response.status) with a body that is not JSON", .retry)
        }
        let answer = try Self.answer(from: json)
        logger.debug("openai answered", metadata: [
            "openai.request_id": "\(requestID)", "openai.model": "\(json["model"]?.text ?? settings.model)",
            "openai.finish_reason": "\(json["choices"]?["0"]?["finish_reason"]?.text ?? "-")",
            "openai.total_tokens": "\(json["usage"]?["total_tokens"]?.text ?? "-")", "answer.escalate": "\(answer.escalate)",
        ])
        return answer
    }

    /// Reads the first choice leniently: unknown fields and unknown tool types are ignored.
    static func answer(from json: Value) throws -> SupportAnswer {
        guard let choice = json["choices"]?.arrayValue?.first, let message = choice["message"] else {
            throw ConnectorError(code: "openai-bad-response", "the OpenAI API answered without choices", .retry)
        }
        let content = message["content"]?.stringValue?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        for call in message["tool_calls"]?.arrayValue ?? [] {
            guard call["type"]?.stringValue ?? "function" == "function",
                  call["function"]?["name"]?.stringValue == SupportPrompt.escalationTool else { continue }
            // `arguments` is a JSON string the model wrote: it may be broken or carry extra keys.
            let arguments = (call["function"]?["arguments"]?.stringValue).flatMap { try? Value(json: $0) }
            let reason = arguments?["reason"]?.stringValue?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            return .escalation(reason.isEmpty ? "the assistant asked for an operator" : String(reason.prefix(500)), text: content)
        }
        if let refusal = message["refusal"]?.stringValue, !refusal.isEmpty {
            return .escalation("the model refused to answer")
        }
        if choice["finish_reason"]?.stringValue == "content_filter" {
            return .escalation("the answer was blocked by the content filter")
        }
        guard !content.isEmpty else { return .escalation("the model gave an empty answer") }
        // A cut answer (`length`) is still useful; the ellipsis tells the client it goes on.
        let text = choice["finish_reason"]?.stringValue == "length" ? content + "…" : content
        return SupportAnswer(text: text, escalate: false, reason: "")
    }

    /// `text` with the API key cut out, for anything that may reach an error or a log.
    func redacted(_ text: String) -> String {
        text.replacingOccurrences(of: apiKey, with: "<api key>")
    }
}
