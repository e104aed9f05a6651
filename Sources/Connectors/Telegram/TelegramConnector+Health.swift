import Flows
import Foundation

extension TelegramConnector: HealthReporting {
    /// How long one health call may take: the dashboard waits for these.
    static let healthTimeout: Duration = .seconds(10)

    /// Update intake (mode and which process receives), the bot (getMe), the group (getChat:
    /// content protection; getChatMember: the bot's rights) and the operators' chat.
    public func health() async -> [HealthCheck] {
        async let mode = modeCheck()
        let (bot, botID) = await botCheck()
        let group = await groupChecks(botID: botID)
        return await [mode, bot] + group + [operatorsCheck(botID: botID)]
    }

    // MARK: - Intake

    func modeCheck() async -> HealthCheck {
        let receiver = await receiverState()
        switch settings.mode {
        case .polling:
            return HealthCheck("mode", receiver.level, "updates by long polling; " + receiver.message,
                               russian: "Приём сообщений: опрос Telegram (long polling); " + receiver.russian)
        case .webhook:
            let expected = settings.publicURL + settings.webhookPath
            let info: Value
            do {
                info = try await api.call("getWebhookInfo", timeout: Self.healthTimeout)
            } catch {
                return .error("mode", "webhook mode; cannot read the webhook from Telegram (getWebhookInfo): \(Self.describe(error))",
                              russian: "Приём сообщений через вебхук, но Telegram не отвечает: проверить вебхук не удалось.")
            }
            let url = info["url"]?.stringValue ?? ""
            if url.isEmpty {
                return .warning("mode", "webhook mode, but no webhook is registered yet (the receiving hub registers \(expected) when it starts); " + receiver.message,
                                russian: "Приём сообщений через вебхук, но вебхук ещё не зарегистрирован (хаб регистрирует его при запуске); " + receiver.russian)
            }
            if url != expected {
                return .warning("mode", "webhook mode, but Telegram sends updates to \(url), not \(expected); " + receiver.message,
                                russian: "Telegram отправляет сообщения на другой адрес (\(url)), а не на \(expected): проверьте HUB_PUBLIC_URL; " + receiver.russian)
            }
            if let problem = info["last_error_message"]?.stringValue, !problem.isEmpty {
                return .warning("mode", "webhook at \(url); Telegram's last delivery failed: \(problem)",
                                russian: "Приём сообщений через вебхук \(url); последняя доставка от Telegram не удалась: \(problem)")
            }
            return HealthCheck("mode", receiver.level, "webhook at \(url); " + receiver.message,
                               russian: "Приём сообщений через вебхук \(url); " + receiver.russian)
        }
    }

    /// Who holds the one-receiver-per-token lease, read from the hub's lease table.
    private func receiverState() async -> (level: HealthCheck.Level, message: String, russian: String) {
        guard let database = services.database else {
            return (.ok, "no database, so no receiver lease", "без базы данных, без распределения между процессами")
        }
        let name = "telegram:\(settings.botID)"
        let rows = try? await database.query("SELECT owner, lease_until FROM hub_leader WHERE name = $1", [.string(name)])
        let now = Double(TelegramLease.nowMillis())
        guard let row = rows?.first, let until = row["lease_until"]?.numberValue ?? row["lease_until"].flatMap({ Double($0.text) }), until > now else {
            return (.warning, "no hub process receives updates right now (is the hub running?)",
                    "сейчас сообщения не принимает ни один процесс хаба (хаб запущен?)")
        }
        if row["owner"]?.stringValue == ownerID {
            return (.ok, "this process receives them", "их принимает этот процесс хаба")
        }
        return (.ok, "another hub process receives them", "их принимает другой процесс хаба")
    }

    // MARK: - Bot

    /// getMe; also the bot's user id, for its rights in the group.
    func botCheck() async -> (HealthCheck, Int64?) {
        do {
            let bot = try Self.botValue(try await api.call("getMe", timeout: Self.healthTimeout))
            let username = bot["username"]?.text ?? ""
            return (.ok("bot", "bot @\(username) is reachable", russian: "Бот @\(username) на связи."), bot["id"]?.telegramID)
        } catch let error as ConnectorError where error.code == "telegram-401" || error.code == "telegram-404" {
            return (.error("bot", "Telegram refused the bot token: set TELEGRAM_BOT_TOKEN to the token @BotFather gives",
                           russian: "Telegram не принимает токен бота: возьмите новый токен у @BotFather и задайте его в TELEGRAM_BOT_TOKEN."), nil)
        } catch {
            return (.error("bot", "getMe failed: \(Self.describe(error))",
                           russian: "Нет связи с Telegram: хаб не может ни получать, ни отправлять сообщения. Проверьте интернет на сервере и TELEGRAM_API_URL."), nil)
        }
    }

    // MARK: - Group

    /// The group's content protection and the bot's rights there (when getMe gave the bot's id);
    /// one warning when no group is set.
    func groupChecks(botID: Int64?) async -> [HealthCheck] {
        guard let group = settings.groupID else {
            return [.warning("group", "no group configured (TELEGRAM_GROUP_ID): invites and the daily post have nowhere to go",
                             russian: "Закрытая группа не указана (TELEGRAM_GROUP_ID): приглашать и публиковать ссылку на сеанс некуда.")]
        }
        let protection = await groupProtectionCheck(group)
        guard let botID else { return [protection] }
        return [protection, await botRightsCheck(group, botID: botID)]
    }

    /// A bot cannot switch on "Restrict saving content"; only the group's owner can, so say how.
    func groupProtectionCheck(_ group: Int64) async -> HealthCheck {
        let chat: Value
        do {
            chat = try await api.call("getChat", ["chat_id": .id(group)], timeout: Self.healthTimeout)
        } catch let error as ConnectorError where error.disposition == .permanent {
            return .error("group_protection", "cannot read the group \(group) (getChat: \(error.message)): "
                              + "check TELEGRAM_GROUP_ID and that the bot is an administrator there",
                          russian: "Бот не может прочитать группу \(group): проверьте TELEGRAM_GROUP_ID и что бот добавлен в группу администратором.")
        } catch {
            return .error("group_protection", "cannot read the group \(group) (getChat: \(Self.describe(error)))",
                          russian: "Нет связи с Telegram: проверить группу не удалось.")
        }
        let title = chat["title"]?.stringValue ?? "\(group)"
        if chat["has_protected_content"]?.boolValue == true {
            return .ok("group_protection", "group '\(title)': content protection is on",
                       russian: "Группа «\(title)»: защита содержимого включена, сообщения нельзя переслать или сохранить.")
        }
        return .warning("group_protection", """
            GROUP '\(title)' CONTENT IS NOT PROTECTED: members can forward and save what is posted there. \
            The group's owner must turn it on in a Telegram app: open the group → Edit (group settings) → \
            Group type (Content protection) → "Restrict saving content". A bot cannot change this setting; \
            posts from post_group are protected one by one meanwhile.
            """, russian: """
            Группа «\(title)»: защита содержимого ВЫКЛЮЧЕНА — участники могут пересылать и сохранять всё, что в ней публикуется. \
            Включить её может только владелец группы в приложении Telegram: откройте группу → Изменить (настройки группы) → \
            Тип группы (Защита содержимого) → «Запретить копирование». Бот не может включить это сам; \
            пока защита выключена, хаб защищает каждое своё сообщение по отдельности.
            """)
    }

    /// Invite links and join requests need the bot to be an administrator that can invite users.
    func botRightsCheck(_ group: Int64, botID: Int64) async -> HealthCheck {
        do {
            let member = try await api.call("getChatMember", ["chat_id": .id(group), "user_id": .id(botID)], timeout: Self.healthTimeout)
            let status = member["status"]?.stringValue ?? ""
            if status == "creator" || (status == "administrator" && member["can_invite_users"]?.boolValue == true) {
                return .ok("group_admin", "the bot is an administrator of the group and can invite users",
                           russian: "Бот — администратор группы и может приглашать участников.")
            }
            return .error("group_admin", "the bot is not an administrator of the group that can invite users (status: \(status)): "
                              + "make it an administrator with the right to invite users via link",
                          russian: "Бот не может приглашать в группу: сделайте его администратором с правом «Пригласительные ссылки».")
        } catch {
            return .error("group_admin", "cannot read the bot's rights in the group \(group) (getChatMember: \(Self.describe(error)))",
                          russian: "Не удалось проверить права бота в группе \(group): бот добавлен в группу администратором?")
        }
    }

    /// An error for a message: a connector error's own words, without its code.
    static func describe(_ error: any Error) -> String { (error as? ConnectorError)?.message ?? "\(error)" }

    // MARK: - Operators

    /// The operators' chat must exist and hold the bot: a wrong id sends every hand-over nowhere
    /// while the client is told an operator will answer.
    func operatorsCheck(botID: Int64?) async -> HealthCheck {
        guard let configured = settings.operatorsChatID else {
            return .warning("operators", "no operators' chat (TELEGRAM_OPERATORS_CHAT_ID): support chats cannot be handed to a person",
                            russian: "Чат операторов не указан (TELEGRAM_OPERATORS_CHAT_ID): передать клиента живому человеку некуда.")
        }
        let chat = api.currentID(of: configured)
        do {
            let info = try await api.call("getChat", ["chat_id": .id(chat)], timeout: Self.healthTimeout)
            let title = info["title"]?.stringValue ?? "\(chat)"
            if let botID {
                let member = try await api.call("getChatMember", ["chat_id": .id(chat), "user_id": .id(botID)], timeout: Self.healthTimeout)
                if ["left", "kicked"].contains(member["status"]?.stringValue ?? "") {
                    return .error("operators", "the bot is not in the operators' chat '\(title)': add it there, or hand-overs go nowhere",
                                  russian: "Бота нет в чате операторов «\(title)»: добавьте его, иначе передать клиента оператору не получится.")
                }
            }
            return .ok("operators", "operators' chat '\(title)' (\(chat)): the bot is there", russian: "Чат операторов «\(title)»: бот в нём.")
        } catch let error as ConnectorError where error.disposition == .permanent {
            return .error("operators", "cannot reach the operators' chat \(chat) (\(error.message)): check TELEGRAM_OPERATORS_CHAT_ID "
                              + "and that the bot was added there; until then a client handed over waits for nobody",
                          russian: "Чат операторов \(chat) недоступен: проверьте TELEGRAM_OPERATORS_CHAT_ID и что бот добавлен в чат. "
                              + "Пока это так, клиент, переданный оператору, ответа не получит.")
        } catch {
            return .error("operators", "cannot check the operators' chat \(chat) (\(Self.describe(error)))",
                          russian: "Нет связи с Telegram: проверить чат операторов не удалось.")
        }
    }
}
