import Flows

extension TelegramConnector {
    /// Long polling: deleteWebhook (getUpdates refuses to work while one is set), then
    /// getUpdates in a loop. Each update is stored before the next call's `offset` confirms it
    /// to Telegram (persist, then acknowledge); after a restart Telegram sends the unconfirmed
    /// ones again and the dedup key makes them harmless.
    func poll() async throws {
        var failures = 0
        while !Task.isCancelled {
            do {
                // Without drop_pending_updates: queued join requests of paying clients must not be lost.
                _ = try await api.call("deleteWebhook", ["drop_pending_updates": false])
                break
            } catch {
                failures += 1
                logger.warning("telegram deleteWebhook failed; retrying", metadata: ["error": "\(error)"])
                try await Task.sleep(for: timings.backoff(after: failures))
            }
        }
        failures = 0
        var offset: Int64?
        while !Task.isCancelled {
            do {
                var parameters: [String: Value] = ["timeout": .number(Double(timings.longPoll)), "allowed_updates": Self.allowedUpdates]
                if let offset { parameters["offset"] = .id(offset) }
                let result = try await api.call("getUpdates", parameters, timeout: .seconds(timings.longPoll + 15))
                failures = 0
                for json in result.arrayValue ?? [] {
                    guard let update = TelegramUpdate(json) else { continue }
                    try await deliver(update)
                    offset = max(offset ?? 0, update.id + 1)
                }
            } catch {
                if Task.isCancelled { return }
                failures += 1
                if let error = error as? ConnectorError, error.code == "telegram-409" {
                    logger.warning("telegram getUpdates conflict: another bot instance or a webhook uses this token", metadata: ["error": "\(error)"])
                } else {
                    logger.warning("telegram getUpdates failed; retrying", metadata: ["error": "\(error)", "failures": "\(failures)"])
                }
                var wait = timings.backoff(after: failures)
                if let error = error as? ConnectorError, case .retryAfter(let asked) = error.disposition { wait = max(wait, asked) }
                try await Task.sleep(for: wait)
            }
        }
    }
}
