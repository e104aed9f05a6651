import Flows
import Foundation
import HTTPTypes

extension TelegramEmulator {
    /// Update types sent when `allowed_updates` is unset or empty (Telegram leaves these three out).
    static let typesNeedingOptIn: Set<String> = ["chat_member", "message_reaction", "message_reaction_count"]

    static let conflictOtherPoll = "terminated by other getUpdates request; make sure that only one bot instance is running"
    static let conflictWebhookActive = "can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"

    /// Queues an update (lock held) unless the bot's `allowed_updates` leaves its type out, like
    /// Telegram, which never creates such updates. Returns the update_id, or 0 when dropped.
    func enqueue(_ type: String, _ payload: Value, in s: inout State) -> Int64 {
        if let allowed = s.allowedUpdates {
            guard allowed.contains(type) else { return 0 }
        } else if Self.typesNeedingOptIn.contains(type) {
            return 0
        }
        let id = s.nextUpdateID
        s.nextUpdateID += 1
        s.queue.append(QueuedUpdate(id: id, type: type, json: .object(["update_id": .number(Double(id)), type: payload])))
        for (pollID, waiter) in s.pollWaiters {
            s.pollWaiters[pollID] = nil
            waiter.resume(returning: .updates)
        }
        wakeWebhookLocked(&s)
        return id
    }

    /// Reads `allowed_updates`: nil when absent; an empty list stands for the default set.
    static func allowedUpdates(_ p: Params) throws -> [String]?? {
        guard let value = p["allowed_updates"] else { return nil }
        guard case .array(let items) = value else { throw APIError.badRequest("can't parse allowed updates JSON array") }
        let types = items.compactMap(\.stringValue)
        return .some(types.isEmpty ? nil : types)
    }

    // MARK: getUpdates

    func getUpdates(_ p: Params) async throws -> MethodOutput {
        let offset = p.int64("offset") ?? 0
        var limit = p.int("limit") ?? 100
        if limit <= 0 || limit > 100 { limit = 100 }
        // The official server clamps long polls to 50 s.
        let timeout = min(max(p.int("timeout") ?? 0, 0), 50)
        let allowed = try Self.allowedUpdates(p)
        let pollID = try state.withLock { s in
            guard s.webhook == nil else { throw APIError.conflict(Self.conflictWebhookActive) }
            if let older = s.currentPoll { wakePollLocked(older, .conflict(Self.conflictOtherPoll), &s) }
            if let allowed { s.allowedUpdates = allowed }
            // A higher offset confirms (forgets) everything before it; a negative one keeps the last -offset.
            if offset > 0 {
                s.queue.removeAll { $0.id < offset }
            } else if offset < 0 {
                // The magnitude, not -offset: Int64.min has no positive counterpart.
                s.queue = Array(s.queue.suffix(Int(clamping: offset.magnitude)))
            }
            let id = s.nextPollID
            s.nextPollID += 1
            s.currentPoll = id
            s.activePolls.insert(id)
            return id
        }
        let deadline = ContinuousClock.now + .seconds(timeout)
        while true {
            let wake = timeout == 0 ? PollWake.timeout : await waitForUpdates(pollID, offset: offset, deadline: deadline)
            let outcome: Result<[Value], APIError>? = state.withLock { s in
                if case .conflict(let text) = wake { return endPoll(pollID, &s, .failure(APIError(code: 409, description: "Conflict: \(text)"))) }
                let ready = s.queue.filter { offset <= 0 || $0.id >= offset }.prefix(limit).map(\.json)
                if !ready.isEmpty || ContinuousClock.now >= deadline || !s.activePolls.contains(pollID) { return endPoll(pollID, &s, .success(ready)) }
                return nil
            }
            switch outcome {
            case .success(let updates)?: return MethodOutput(result: .array(updates))
            case .failure(let error)?: throw error
            case nil: continue
            }
        }
    }

    private func endPoll(_ pollID: Int, _ s: inout State, _ outcome: Result<[Value], APIError>) -> Result<[Value], APIError> {
        if s.currentPoll == pollID { s.currentPoll = nil }
        s.activePolls.remove(pollID)
        s.pollEarly[pollID] = nil
        s.pollWaiters[pollID] = nil
        return outcome
    }

    /// Suspends until an update arrives, another poller takes over, or the deadline passes.
    private func waitForUpdates(_ pollID: Int, offset: Int64, deadline: ContinuousClock.Instant) async -> PollWake {
        await withTaskGroup(of: PollWake?.self) { group in
            group.addTask {
                await withTaskCancellationHandler {
                    await withCheckedContinuation { (waiter: CheckedContinuation<PollWake, Never>) in
                        self.state.withLock { s in
                            if let early = s.pollEarly.removeValue(forKey: pollID) {
                                waiter.resume(returning: early)
                            } else if !s.activePolls.contains(pollID) {
                                waiter.resume(returning: .timeout)
                            } else if s.queue.contains(where: { offset <= 0 || $0.id >= offset }) {
                                waiter.resume(returning: .updates)
                            } else {
                                s.pollWaiters[pollID] = waiter
                            }
                        }
                    }
                } onCancel: {
                    self.state.withLock { s in self.wakePollLocked(pollID, .timeout, &s) }
                }
            }
            group.addTask {
                // Only a deadline that really passed wakes the poll; a cancelled timer must not.
                do { try await Task.sleep(until: deadline, clock: .continuous) } catch { return nil }
                self.state.withLock { s in self.wakePollLocked(pollID, .timeout, &s) }
                return nil
            }
            var wake = PollWake.timeout
            for await result in group {
                if let result {
                    wake = result
                    group.cancelAll()
                    break
                }
            }
            return wake
        }
    }

    /// Wakes a waiting poll, or remembers why for when it next waits (a conflict beats a timeout).
    func wakePollLocked(_ pollID: Int, _ wake: PollWake, _ s: inout State) {
        if let waiter = s.pollWaiters.removeValue(forKey: pollID) {
            waiter.resume(returning: wake)
        } else if s.activePolls.contains(pollID) {
            if case .conflict = s.pollEarly[pollID] { return }
            s.pollEarly[pollID] = wake
        }
    }

    // MARK: Webhooks

    func setWebhook(_ p: Params) throws -> MethodOutput {
        let url = p.string("url") ?? ""
        if url.isEmpty { return deleteWebhook(p) }
        guard let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(), ["http", "https"].contains(scheme),
              let host = parsed.host, !host.isEmpty
        else { throw APIError.badRequest("bad webhook: Wrong HTTP URL specified") }
        let secret = p.string("secret_token")
        if let secret {
            guard !secret.isEmpty, secret.utf8.count <= 256 else { throw APIError.badRequest("secret token must be 1-256 characters long") }
            let allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
            guard secret.unicodeScalars.allSatisfy(allowed.contains) else {
                throw APIError.badRequest("secret token contains unallowed characters")
            }
        }
        let maxConnections = min(max(p.int("max_connections") ?? 40, 1), 100)
        let allowed = try Self.allowedUpdates(p)
        let dropPending = p.bool("drop_pending_updates")
        let ipAddress = p.string("ip_address")
        return try state.withLock { s in
            let now = ContinuousClock.now
            if let current = s.webhook {
                let same = current.url == url && current.secretToken == secret && current.maxConnections == maxConnections
                    && current.ipAddress == ipAddress && allowed == nil && !dropPending
                if same { return MethodOutput(result: true, description: "Webhook is already set") }
                // The official server refuses a different webhook within a second of the last one.
                if now - current.setAt < .seconds(1) { throw APIError.tooManyRequests(retryAfter: 1) }
            }
            if let poll = s.currentPoll { wakePollLocked(poll, .conflict("terminated by setWebhook request"), &s) }
            if let allowed { s.allowedUpdates = allowed }
            if dropPending { s.queue.removeAll() }
            s.webhook = Webhook(url: url, secretToken: secret, maxConnections: maxConnections, ipAddress: ipAddress, setAt: now)
            s.lastWebhookError = nil
            if s.webhookTask == nil {
                s.webhookTask = Task { await self.deliverToWebhook() }
            } else {
                wakeWebhookLocked(&s)
            }
            return MethodOutput(result: true, description: "Webhook was set")
        }
    }

    func deleteWebhook(_ p: Params) -> MethodOutput {
        let dropPending = p.bool("drop_pending_updates")
        let (task, wasSet) = state.withLock { s in
            let wasSet = s.webhook != nil
            s.webhook = nil
            if dropPending { s.queue.removeAll() }
            let task = s.webhookTask
            s.webhookTask = nil
            return (task, wasSet)
        }
        // An update being POSTed right now stays queued unless that POST succeeds.
        task?.cancel()
        return MethodOutput(result: true, description: wasSet ? "Webhook was deleted" : "Webhook is already deleted")
    }

    func getWebhookInfo(_ p: Params) -> MethodOutput {
        state.withLock { s in
            var info: [String: Value] = [
                "url": .string(s.webhook?.url ?? ""), "has_custom_certificate": false,
                "pending_update_count": .number(Double(s.queue.count)),
            ]
            if let webhook = s.webhook {
                info["max_connections"] = .number(Double(webhook.maxConnections))
                if let ip = webhook.ipAddress { info["ip_address"] = .string(ip) }
                if let error = s.lastWebhookError {
                    info["last_error_date"] = .number(Double(error.date))
                    info["last_error_message"] = .string(error.message)
                }
            }
            if let allowed = s.allowedUpdates { info["allowed_updates"] = .array(allowed.map { .string($0) }) }
            return MethodOutput(result: .object(info))
        }
    }

    func wakeWebhookLocked(_ s: inout State) {
        if let waiter = s.webhookWaiter {
            s.webhookWaiter = nil
            waiter.resume()
        } else {
            s.webhookSignalled = true
        }
    }

    /// POSTs queued updates one at a time, in order, retrying with backoff; an update that still
    /// fails after the last attempt is given up, as Telegram does "after a reasonable amount of attempts".
    private func deliverToWebhook() async {
        while !Task.isCancelled {
            let next = state.withLock { s -> (QueuedUpdate, Webhook, Int, Duration)?? in
                guard let webhook = s.webhook else { return .some(nil) }
                guard let update = s.queue.first else { return nil }
                return .some((update, webhook, s.webhookAttempts, s.webhookBackoff))
            }
            guard let next else {
                await waitForWebhookSignal()
                continue
            }
            guard let (update, webhook, attempts, backoff) = next else { return }
            var delay = backoff
            for attempt in 1...attempts {
                let failure = await post(update.json, to: webhook)
                if failure == nil {
                    state.withLock { s in s.queue.removeAll { $0.id == update.id } }
                    break
                }
                if Task.isCancelled { return }
                state.withLock { s in s.lastWebhookError = (Self.now(), failure ?? "") }
                if attempt == attempts {
                    state.withLock { s in s.queue.removeAll { $0.id == update.id } }
                    break
                }
                do { try await Task.sleep(for: delay) } catch { return }
                delay *= 2
            }
        }
    }

    private func waitForWebhookSignal() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
                state.withLock { s in
                    if s.webhookSignalled {
                        s.webhookSignalled = false
                        waiter.resume()
                    } else {
                        // A delivery task being replaced may still wait here; wake it rather than lose it.
                        s.webhookWaiter?.resume()
                        s.webhookWaiter = waiter
                    }
                }
            }
        } onCancel: {
            state.withLock { s in wakeWebhookLocked(&s) }
        }
    }

    /// One webhook POST; nil on a 2xx answer, else the error text getWebhookInfo reports.
    private func post(_ update: Value, to webhook: Webhook) async -> String? {
        var headers = ["Content-Type": "application/json"]
        if let secret = webhook.secretToken { headers["X-Telegram-Bot-Api-Secret-Token"] = secret }
        let request = HTTPClientRequest(method: "POST", url: webhook.url, headers: headers, body: Array(update.json.utf8), timeout: .seconds(10))
        do {
            let status = try await CurlHTTPClient().send(request).status
            if (200..<300).contains(status) { return nil }
            return "Wrong response from the webhook: \(status) \(HTTPResponse.Status(code: status).reasonPhrase)"
        } catch {
            return "Connection failed: \((error as? ConnectorError)?.message ?? "\(error)")"
        }
    }
}
