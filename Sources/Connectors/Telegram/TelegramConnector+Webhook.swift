import Flows
import Foundation

extension TelegramConnector {
    /// Webhook mode: setWebhook to `{public URL}{webhook_path}` with the secret token, then
    /// hold on (the route receives the updates) until cancelled.
    func registerWebhook() async throws {
        var failures = 0
        while !Task.isCancelled {
            do {
                _ = try await api.call("setWebhook", [
                    "url": .string(settings.publicURL + settings.webhookPath),
                    "secret_token": .string(settings.webhookSecret),
                    "allowed_updates": Self.allowedUpdates,
                ])
                logger.debug("telegram webhook set", metadata: ["webhook.path": "\(settings.webhookPath)"])
                break
            } catch {
                failures += 1
                logger.warning("telegram setWebhook failed; retrying", metadata: ["error": "\(error)"])
                var wait = timings.backoff(after: failures)
                if let error = error as? ConnectorError, case .retryAfter(let asked) = error.disposition { wait = max(wait, asked) }
                try await Task.sleep(for: wait)
            }
        }
        while !Task.isCancelled { try await Task.sleep(for: .seconds(3600)) }
    }

    /// Checks the secret header in constant time (wrong → 401, nothing stored), stores the
    /// update, then answers 200; 503 when it could not be stored, so Telegram sends it again.
    func handleWebhook(_ request: WebhookRequest) async -> WebhookResponse {
        let given = request.headers["x-telegram-bot-api-secret-token"] ?? ""
        guard Crypto.constantTimeEquals(Array(given.utf8), Array(settings.webhookSecret.utf8)) else {
            logger.warning("telegram webhook with a wrong secret token refused")
            return WebhookResponse(status: 401, body: "unauthorized")
        }
        guard let json = try? Value(jsonData: Data(request.body)), let update = TelegramUpdate(json) else {
            return WebhookResponse(status: 400, body: "not a Telegram update")
        }
        do {
            try await deliver(update)
            return WebhookResponse(status: 200, body: "ok")
        } catch {
            logger.error("telegram update not stored; Telegram will send it again", metadata: ["update.id": "\(update.id)", "error": "\(error)"])
            return WebhookResponse(status: 503, body: "try again")
        }
    }
}
