import Flows

/// The chat page's HTML: self-contained (no external assets), readable on a phone, every value
/// from a message escaped. Messages refresh by fetching `?fragment=1` every 1.5 s.
struct TelegramChatPageHTML {
    let emulator: TelegramEmulator
    let settings: TelegramChatPageSettings

    func index() -> String {
        document(title: "Telegram (песочница)", active: "", body: """
        <h1>Telegram в песочнице</h1>
        <p>Эта страница играет приложение Telegram: чат с ботом <b>@\(escape(emulator.botUsername))</b>, закрытую группу
        и чат операторов. Ссылка «Открыть бота в Telegram» со страницы «Спасибо» ведёт сюда.</p>
        <ul><li><a href="/chat">Чат с ботом</a></li><li><a href="/group">Группа «\(escape(emulator.groupTitle(settings.groupID)))»</a></li>
        <li><a href="/operators">Чат операторов</a></li></ul>
        """)
    }

    func chat(log: String, user: EmulatedUser) -> String {
        document(title: "@\(emulator.botUsername)", active: "chat", body: """
        <h1>@\(escape(emulator.botUsername))</h1>
        <p class="who">Вы: \(escape(user.firstName)) \(escape(user.lastName ?? "")) (id \(user.id))</p>
        <div id="log">\(log)</div>
        <form method="post" action="/chat/send" class="compose">
        <input name="text" id="text" autocomplete="off" placeholder="Сообщение" maxlength="4096">
        <button type="submit" id="send">Отправить</button>
        </form>
        <form method="post" action="/chat/send"><input type="hidden" name="text" value="/start"><button class="secondary" id="start">Запустить (/start)</button></form>
        """)
    }

    /// The group's view for one person: their status and, for members, the messages (refreshed as one).
    func groupLog(_ log: String, member: Bool, pending: Bool) -> String {
        let status = member ? "Вы в группе." : pending ? "Ваша заявка ждёт решения бота." : "Вы не в группе: вступить можно по личной ссылке от бота."
        return "<p class=\"who\" id=\"status\">\(status)</p>"
            + (member ? log : "<p class=\"empty\">Сообщения группы видны только участникам.</p>")
    }

    func group(log: String) -> String {
        let protection = emulator.groupHasProtectedContent(settings.groupID)
            ? "<p class=\"note\">В группе запрещено копирование и пересылка (Restrict saving content).</p>" : ""
        return document(title: emulator.groupTitle(settings.groupID), active: "group", body: """
        <h1>\(escape(emulator.groupTitle(settings.groupID)))</h1>\(protection)
        <div id="log">\(log)</div>
        """)
    }

    func operators(log: String, replyTo: Int64?) -> String {
        let compose = replyTo.map { id in """
            <form method="post" action="/operators/reply" class="compose">
            <input type="hidden" name="reply_to" value="\(id)">
            <input name="text" id="text" autocomplete="off" placeholder="Ответ на сообщение \(id)" maxlength="4096" autofocus>
            <button type="submit" id="send">Ответить</button>
            </form>
            """ } ?? "<p class=\"note\">Чтобы ответить клиенту, нажмите «Ответить» под его сообщением.</p>"
        return document(title: "Операторы", active: "operators", body: """
        <h1>Чат операторов</h1>
        <p class="who">Вы: \(escape(TelegramEmulator.sandboxOperator.firstName))</p>
        <div id="log">\(log)</div>
        \(compose)
        """)
    }

    func noOperatorsChat() -> String {
        document(title: "Операторы", active: "operators", body: "<h1>Чат операторов</h1><p>Чат операторов не настроен (TELEGRAM_OPERATORS_CHAT_ID).</p>")
    }

    func invite(link: String, known: Bool) -> String {
        let body = known ? """
            <h1>\(escape(emulator.groupTitle(settings.groupID)))</h1>
            <p>Приглашение в закрытую группу. Бот одобрит заявку, только если это ваша личная ссылка и участие оплачено.</p>
            <form method="post" action="/join"><input type="hidden" name="link" value="\(escape(link))">
            <button type="submit" id="join">Подать заявку на вступление</button></form>
            """ : "<h1>Ссылка недействительна</h1><p>Такой ссылки-приглашения нет.</p>"
        return document(title: "Приглашение", active: "group", body: body)
    }

    func unknownLink(_ name: String) -> String {
        document(title: "Нет такого бота", active: "", body: "<h1>Нет такого бота</h1><p>@\(escape(name)) в песочнице нет.</p>")
    }

    // MARK: Messages

    /// The messages as HTML; `replies` adds an "answer" link under other people's messages (operators' chat).
    func log(_ messages: [Value], viewer: EmulatedUser, chatID: Int64, replies: Bool) -> String {
        guard !messages.isEmpty else { return "<p class=\"empty\">Сообщений пока нет.</p>" }
        return messages.map { message(in: chatID, $0, viewer: viewer, replies: replies) }.joined(separator: "\n")
    }

    private func message(in chatID: Int64, _ m: Value, viewer: EmulatedUser, replies: Bool) -> String {
        let id = m["message_id"]?.intValue ?? 0
        let fromID = m["from"]?["id"]?.intValue ?? 0
        let mine = Int64(fromID) == viewer.id
        let isBot = m["from"]?["is_bot"]?.boolValue ?? false
        let author = isBot ? "Бот" : [m["from"]?["first_name"]?.stringValue, m["from"]?["last_name"]?.stringValue].compactMap { $0 }.joined(separator: " ")
        var parts = ["<div class=\"m \(mine ? "mine" : isBot ? "bot" : "other")\" data-id=\"\(id)\">", "<div class=\"a\">\(escape(author))</div>"]
        if let quoted = m["reply_to_message"], let text = quoted["text"]?.stringValue ?? quoted["caption"]?.stringValue {
            parts.append("<div class=\"q\">\(escape(String(text.prefix(120))))</div>")
        }
        if m["photo"] != nil { parts.append("<div class=\"media\">[фото]</div>") }
        if m["document"] != nil { parts.append("<div class=\"media\">[файл \(escape(m["document"]?["file_name"]?.stringValue ?? ""))]</div>") }
        if let text = m["text"]?.stringValue ?? m["caption"]?.stringValue { parts.append("<div class=\"t\">\(linkified(text))</div>") }
        parts.append(buttons(m["reply_markup"], chatID: chatID, messageID: id, back: replies ? "operators" : "chat"))
        if m["has_protected_content"]?.boolValue == true { parts.append("<div class=\"p\">🔒 защищено от копирования и пересылки</div>") }
        if replies && !mine { parts.append("<a class=\"reply\" href=\"/operators?reply=\(id)\">Ответить</a>") }
        parts.append("</div>")
        return parts.joined()
    }

    private func buttons(_ markup: Value?, chatID: Int64, messageID: Int, back: String) -> String {
        guard let rows = markup?["inline_keyboard"]?.arrayValue, !rows.isEmpty else { return "" }
        var out = "<div class=\"kb\">"
        for button in rows.flatMap({ $0.arrayValue ?? [] }) {
            let label = escape(button["text"]?.stringValue ?? "")
            if let url = button["url"]?.stringValue {
                out += "<a class=\"kbb\" href=\"\(escape(local(url)))\">\(label)</a>"
            } else if let data = button["callback_data"]?.stringValue {
                out += """
                    <form method="post" action="/chat/press"><input type="hidden" name="chat_id" value="\(chatID)">\
                    <input type="hidden" name="message_id" value="\(messageID)"><input type="hidden" name="data" value="\(escape(data))">\
                    <input type="hidden" name="back" value="\(back)"><button class="kbb">\(label)</button></form>
                    """
            }
        }
        return out + "</div>"
    }

    /// t.me links open on this page; other http(s) links open as they are.
    private func local(_ url: String) -> String {
        url.hasPrefix("https://t.me/") ? "/" + url.dropFirst("https://t.me/".count) : url
    }

    /// Escaped text with its http(s) links clickable.
    private func linkified(_ text: String) -> String {
        var out = ""
        var rest = Substring(text)
        while let begin = [rest.range(of: "http://"), rest.range(of: "https://")].compactMap({ $0?.lowerBound }).min() {
            out += escape(String(rest[..<begin]))
            let end = rest[begin...].firstIndex { $0.isWhitespace || $0 == "\"" || $0 == "<" || $0 == ">" } ?? rest.endIndex
            let url = String(rest[begin..<end])
            out += "<a href=\"\(escape(local(url)))\">\(escape(url))</a>"
            rest = rest[end...]
        }
        return (out + escape(String(rest))).replacingOccurrences(of: "\n", with: "<br>")
    }

    private func escape(_ text: String) -> String { EmulatorHTML.escape(text) }

    // MARK: Page

    private func document(title: String, active: String, body: String) -> String {
        func tab(_ id: String, _ href: String, _ label: String) -> String {
            "<a href=\"\(href)\"\(id == active ? " class=\"on\"" : "")>\(label)</a>"
        }
        var nav = tab("chat", "/chat", "Бот") + tab("group", "/group", "Группа") + tab("operators", "/operators", "Операторы")
        if let site = settings.siteURL {
            nav += "<a href=\"\(escape(site))/\">Сайт</a><a href=\"\(escape(site))/admin\">Админка</a>"
        }
        return EmulatorHTML.document(title: title, style: Self.style, body: """
        <nav>\(nav)</nav><main>
        \(body)
        </main>
        \(Self.refresh)
        """)
    }

    private static let style = """
        body { font-family: system-ui, sans-serif; margin: 0; background: #e7ebf0; color: #222; }
        nav { display: flex; gap: .25rem; flex-wrap: wrap; background: #517da2; padding: .5rem; }
        nav a { color: #fff; text-decoration: none; padding: .35rem .6rem; border-radius: .4rem; }
        nav a.on { background: rgba(255,255,255,.25); }
        main { max-width: 36rem; margin: 0 auto; padding: .75rem; }
        h1 { font-size: 1.2rem; } .who, .note, .empty { color: #555; font-size: .9rem; }
        .m { background: #fff; border-radius: .7rem; padding: .5rem .7rem; margin: .45rem 0; max-width: 85%; word-wrap: break-word; }
        .m.mine { background: #effdde; margin-left: auto; }
        .a { font-size: .8rem; color: #3a6d99; font-weight: 600; } .q { border-left: 3px solid #3a6d99; padding-left: .4rem; color: #666; font-size: .85rem; }
        .p { font-size: .75rem; color: #888; } .media { color: #666; }
        .kb { display: flex; flex-direction: column; gap: .3rem; margin-top: .4rem; } .kb form { margin: 0; }
        .kbb { display: block; width: 100%; box-sizing: border-box; text-align: center; background: #e3eefa; color: #2a5885; border: 0; border-radius: .4rem; padding: .45rem; text-decoration: none; font-size: .95rem; }
        .reply { font-size: .8rem; }
        .compose { display: flex; gap: .4rem; margin-top: .75rem; } .compose input[name=text] { flex: 1; padding: .6rem; border: 1px solid #ccc; border-radius: .5rem; font-size: 1rem; }
        button { padding: .6rem .9rem; border: 0; border-radius: .5rem; background: #2a6df4; color: #fff; font-size: 1rem; }
        button.secondary { background: #fff; color: #2a6df4; margin-top: .5rem; }
        """

    /// Replaces `#log` with the page's `?fragment=1` every 1.5 s, so the chat follows the bot.
    private static let refresh = """
        <script>
        (function () {
          var log = document.getElementById('log');
          if (!log) return;
          var last = log.innerHTML;
          setInterval(function () {
            fetch(location.pathname + '?fragment=1', { credentials: 'same-origin' }).then(function (r) { return r.text(); }).then(function (t) {
              if (t !== last) { last = t; log.innerHTML = t; window.scrollTo(0, document.body.scrollHeight); }
            }).catch(function () {});
          }, 1500);
        })();
        </script>
        """
}
