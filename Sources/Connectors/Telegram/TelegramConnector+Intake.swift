import Flows
import Logging

extension TelegramConnector {
    /// The update types the hub asks for. `allowed_updates` is sticky on Telegram's side and
    /// `chat_member` is not in its default set, so the list is always sent.
    static let allowedUpdates: Value = ["message", "callback_query", "chat_join_request", "chat_member", "my_chat_member"]

    var logger: Logger { services.logger }

    /// Receives updates while this process holds the bot's lease; stands by otherwise.
    /// Failures are logged and retried with backoff; only cancellation ends it.
    public func run() async throws {
        await followChatMoves()
        guard await startupChecks() else { return }
        guard let database = services.database else {
            logger.warning("telegram has no database: receiving updates without the one-receiver-per-token lease")
            try await receive()
            return
        }
        let lease = TelegramLease(database: database, name: "telegram:\(settings.botID)", owner: ownerID)
        var failures = 0
        while !Task.isCancelled {
            let held: Bool
            let asked = ContinuousClock.now
            do {
                held = try await lease.acquire(for: timings.lease)
                failures = 0
            } catch {
                failures += 1
                logger.warning("telegram lease check failed", metadata: ["lease": "\(lease.name)", "error": "\(error)"])
                try await Task.sleep(for: timings.backoff(after: failures))
                continue
            }
            guard held else {
                logger.debug("telegram update receiver is another process; standing by", metadata: ["lease": "\(lease.name)"])
                try await Task.sleep(for: timings.standby)
                continue
            }
            logger.debug("telegram update receiver lease taken", metadata: ["lease": "\(lease.name)", "mode": "\(settings.mode.rawValue)"])
            // The hub that received before may have learnt of a move since this one started.
            await followChatMoves()
            await receiveWhileHolding(lease, since: asked)
        }
    }

    /// Runs the receiver alongside the lease renewal; whichever ends first ends both.
    /// `since`: when the lease was asked for, the moment it counts from.
    private func receiveWhileHolding(_ lease: TelegramLease, since acquired: ContinuousClock.Instant) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await receive() }
            group.addTask {
                // A short database outage is survivable while the lease has time left; once it may
                // have run out, a standby hub can take it, and two receivers would fight (409s). So
                // the receiver stops a renewal interval before then, also when a renewal hangs.
                var renewed = acquired
                while !Task.isCancelled {
                    guard (try? await Task.sleep(for: timings.renew)) != nil else { return }
                    let asked = ContinuousClock.now
                    let left = renewed + timings.lease - timings.renew - asked
                    let outcome = await Deadline.result(within: max(left, .zero)) { () async -> Result<Bool, any Error> in
                        do { return .success(try await lease.acquire(for: timings.lease)) } catch { return .failure(error) }
                    }
                    switch outcome {
                    case .success(true)?:
                        renewed = asked
                    case .success(false)?:
                        logger.warning("telegram lease lost to another process; stopping the update receiver", metadata: ["lease": "\(lease.name)"])
                        return
                    case .failure(let error)? where ContinuousClock.now - renewed < timings.lease - timings.renew:
                        logger.warning("telegram lease renewal failed", metadata: ["lease": "\(lease.name)", "error": "\(error)"])
                    case .failure(let error)?:
                        logger.warning("telegram lease not renewed in time; stopping the update receiver",
                                       metadata: ["lease": "\(lease.name)", "error": "\(error)"])
                        return
                    case nil:
                        logger.warning("telegram lease renewal did not answer in time; stopping the update receiver", metadata: ["lease": "\(lease.name)"])
                        return
                    }
                }
            }
            await group.next()
            group.cancelAll()
        }
        if Task.isCancelled {
            // Hand over at once on shutdown rather than after the lease runs out.
            try? await lease.release()
        }
    }

    /// The receiver for the configured mode; returns only when cancelled.
    func receive() async throws {
        switch settings.mode {
        case .polling: try await poll()
        case .webhook: try await registerWebhook()
        }
    }

    /// getMe (is the token good?) and getChat on the group (is saving content restricted?).
    /// Returns `false` when the token is refused: nothing can work then.
    func startupChecks() async -> Bool {
        var failures = 0
        while !Task.isCancelled {
            do {
                let bot = try rememberBot(try await api.call("getMe"))
                logger.debug("telegram bot", metadata: ["bot.username": "\(bot["username"]?.text ?? "")"])
                break
            } catch let error as ConnectorError where error.code == "telegram-401" || error.code == "telegram-404" {
                logger.error("telegram refused the bot token; check TELEGRAM_BOT_TOKEN (a new token from @BotFather)", metadata: ["error": "\(error)"])
                return false
            } catch {
                failures += 1
                logger.warning("telegram getMe failed; retrying", metadata: ["error": "\(error)"])
                guard (try? await Task.sleep(for: timings.backoff(after: failures))) != nil else { return false }
            }
        }
        await checkGroupProtection()
        return !Task.isCancelled
    }

    /// Logs the group check (`TelegramConnector+Health.swift`) loudly when the group's content
    /// is not protected or cannot be read: the owner has to act, a bot cannot.
    func checkGroupProtection() async {
        guard let group = settings.groupID else { return }
        let check = await groupProtectionCheck(group)
        guard check.level != .ok else { return }
        logger.warning("\(check.message)", metadata: ["chat.id": "\(group)"])
    }

    /// Follows the group moves any hub stored (`TelegramEffects.rememberMove`).
    func followChatMoves() async {
        do {
            let moves = try await effects.chatMoves()
            api.migrated.withLock { $0.merge(moves) { _, stored in stored } }
        } catch {
            logger.warning("telegram chat moves not read; following only those this hub learns", metadata: ["error": "\(error)"])
        }
    }

    /// Stores one update as its trigger's event (dedup key: `update_id`); returns whether it raised one.
    @discardableResult
    func deliver(_ update: TelegramUpdate) async throws -> Bool {
        // A group upgraded to a supergroup says so in the new chat; from then on its updates come
        // from the new id, and so would the operators' replies (sends learn it from a 400 too).
        if let moved = update.migration, [settings.groupID, settings.operatorsChatID].contains(moved.from) {
            api.migrated.withLock { $0[moved.from] = moved.to }
            // Stored before the update is confirmed: Telegram says it only once.
            try await effects.rememberMove(from: moved.from, to: moved.to)
            logger.notice("telegram group moved to a supergroup; following it (update the config)",
                          metadata: ["chat.old_id": "\(moved.from)", "chat.new_id": "\(moved.to)"])
        }
        let current = { (id: Int64?) in id.map(self.api.currentID(of:)) }
        guard let event = update.event(groupID: current(settings.groupID), operatorsChatID: current(settings.operatorsChatID),
                                       botID: Int64(settings.botID)) else {
            logger.trace("telegram update raises no trigger", metadata: ["update.id": "\(update.id)"])
            return false
        }
        try await services.events.emit(IncomingEvent(instance: services.instance, trigger: event.trigger, payload: event.payload,
                                                     dedupKey: "\(update.id)", order: Self.order(of: event, update: update, botID: settings.botID)))
        return true
    }

    /// One chat's messages, commands, button presses and operator replies are handled in the
    /// order Telegram numbered them (a client's two quick messages reach the operators in order);
    /// join requests and membership changes need no order among themselves.
    static func order(of event: (trigger: String, payload: Value), update: TelegramUpdate, botID: String) -> EventOrder? {
        guard ["message", "command", "callback", "operator_reply"].contains(event.trigger),
              let chat = event.payload["chat_id"]?.telegramID else { return nil }
        return EventOrder(key: "telegram:\(botID):\(chat)", position: update.id)
    }
}
