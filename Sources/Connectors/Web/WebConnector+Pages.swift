import Flows

extension WebConnector {
    func page(_ template: String, title: String, status: Int = 200, extra: [String: Any] = [:]) -> WebhookResponse {
        var context: [String: Any] = ["site": site.mapValues(\.text), "page_title": title]
        context.merge(extra) { _, new in new }
        let html = WebTemplates.library.render(context, withTemplate: template) ?? ""
        return WebhookResponse(status: status, body: html, headers: [
            "content-type": "text/html; charset=utf-8",
            "content-security-policy": "default-src 'self'; style-src 'unsafe-inline'; form-action 'self' https: http:",
            "x-content-type-options": "nosniff",
        ])
    }

    func document(_ title: String, _ body: String) -> WebhookResponse {
        page("document", title: title, extra: ["body": body])
    }

    func landing(values: [String: String], errors: [String: String], consent: Bool, formError: String? = nil, status: Int = 200) -> WebhookResponse {
        var extra: [String: Any] = ["values": values, "errors": errors, "consent": consent]
        if let formError { extra["form_error"] = formError }
        return page("landing", title: site[Key.productName]?.text ?? "Запись", status: status, extra: extra)
    }

    /// After payment: what happens next, and the bot's deep link for this client. The page never
    /// takes the redirect as proof of payment: access follows the payment webhook only.
    func success(_ request: WebhookRequest) -> WebhookResponse {
        var extra: [String: Any] = [:]
        if let token = request.query["t"], let bot = request.query["b"], WebConnector.isToken(token), WebConnector.isBotUsername(bot) {
            extra["bot_link"] = "\(telegramLinkBase)/\(bot)?start=\(token)"
        }
        return page("success", title: "Спасибо", extra: extra)
    }

    /// `https://t.me`, or the sandbox's chat page; only http(s), without a trailing slash.
    var telegramLinkBase: String {
        let base = site[Key.telegramLinkURL]?.stringValue ?? "https://t.me"
        guard base.hasPrefix("https://") || base.hasPrefix("http://") else { return "https://t.me" }
        return base.hasSuffix("/") ? String(base.dropLast()) : base
    }

    /// Deep-link payloads: Telegram allows A-Z, a-z, 0-9, _ and - up to 64 characters.
    static func isToken(_ s: String) -> Bool {
        (16...64).contains(s.count) && s.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || $0.properties.numericType != nil || $0 == "_" || $0 == "-") }
    }

    /// Telegram bot usernames: 5-32 of A-Z, a-z, 0-9 and _.
    static func isBotUsername(_ s: String) -> Bool {
        (5...32).contains(s.count) && s.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || $0.properties.numericType != nil || $0 == "_") }
    }
}
