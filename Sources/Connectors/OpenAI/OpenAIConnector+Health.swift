import Flows
import Foundation

extension OpenAIConnector: HealthReporting {
    /// The API (one `GET /models`, which costs nothing) or the FAQ mode, and the knowledge file.
    public func health() async -> [HealthCheck] {
        [await apiCheck(), knowledgeCheck()]
    }

    func apiCheck() async -> HealthCheck {
        guard let client else {
            return .ok("api", "no API key: FAQ mode (answers from the knowledge file by matching questions)",
                       russian: "Ключ OpenAI не задан: бот отвечает по базе знаний (режим FAQ), без нейросети.")
        }
        let request = HTTPClientRequest(method: "GET", url: settings.baseURL + "/models",
                                        headers: ["authorization": "Bearer \(client.apiKey)", "accept": "application/json"],
                                        timeout: .seconds(10))
        let response: HTTPClientResponse
        do {
            response = try await client.http.send(request)
        } catch {
            return .error("api", "cannot reach \(settings.baseURL): \(client.redacted("\(error)"))",
                          russian: "Нет связи с OpenAI (\(settings.baseURL)): бот пока не может отвечать нейросетью.")
        }
        guard (200..<300).contains(response.status) else {
            let failure = client.failure(for: response)
            let russian = response.status == 401
                ? "OpenAI не принимает ключ: проверьте OPENAI_API_KEY."
                : "OpenAI ответил ошибкой (HTTP \(response.status)): бот пока не может отвечать нейросетью."
            return .error("api", "\(settings.baseURL) answered: \(failure.message)", russian: russian)
        }
        let models = (try? response.json())?["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
        if !models.isEmpty && !models.contains(settings.model) {
            return .warning("api", "\(settings.baseURL) is reachable, but does not offer the model '\(settings.model)' (OPENAI_MODEL)",
                            russian: "OpenAI на связи, но модели «\(settings.model)» там нет: проверьте OPENAI_MODEL.")
        }
        return .ok("api", "\(settings.baseURL) is reachable; model \(settings.model)",
                   russian: "OpenAI на связи, модель \(settings.model).")
    }

    func knowledgeCheck() -> HealthCheck {
        guard let path = knowledge.path else {
            return .warning("knowledge", "no knowledge file configured: answers have nothing to go on",
                            russian: "База знаний не указана: боту не на что опираться в ответах.")
        }
        guard let text = knowledge.text(), !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            return .warning("knowledge", "the knowledge file \(path) is missing or empty",
                            russian: "Файл базы знаний \(path) не найден или пуст: боту не на что опираться в ответах.")
        }
        return .ok("knowledge", "knowledge file \(path) (\(text.count) characters)",
                   russian: "База знаний: \(path) (\(text.count) символов).")
    }
}
