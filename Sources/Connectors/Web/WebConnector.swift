import Flows
import Foundation

/// The public site: the landing page with the registration form, the pages payment moderation
/// asks for (offer, privacy policy, contacts), and the pages clients return to after paying.
/// Submitting the form is the `web.form` trigger; the flow it starts decides what happens and
/// ends with `web.redirect` (to the payment page).
public struct WebConnector: Connector {
    /// Config keys, declared once.
    enum Key {
        static let title = "title"
        static let productName = "product_name"
        static let description = "description"
        static let price = "price"
        static let currency = "currency"
        static let schedule = "schedule"
        static let sellerName = "seller_name"
        static let sellerINN = "seller_inn"
        static let sellerOGRN = "seller_ogrn"
        static let sellerAddress = "seller_address"
        static let sellerEmail = "seller_email"
        static let sellerPhone = "seller_phone"
        static let offerText = "offer_text"
        static let privacyText = "privacy_text"
        static let formTimeout = "form_timeout"
        static let telegramLinkURL = "telegram_link_url"
    }

    public static let spec = ConnectorSpec(
        name: "web",
        summary: "The public site: landing page with the registration form, offer, privacy policy, contacts, success and fail pages.",
        config: [
            .optional(Key.title, .string, "site name in the header", default: "Онлайн-сеансы"),
            .optional(Key.productName, .string, "what the client buys", default: "Онлайн-сеанс"),
            .optional(Key.description, .string, "text under the product name", default: "Групповой онлайн-сеанс в Zoom. После оплаты вы получите доступ в закрытую группу в Telegram, куда каждый день приходит ссылка на сеанс."),
            .optional(Key.price, .string, "price per session, e.g. 3000.00: the site shows it and orders record it", default: "3000.00",
                      environment: "SESSION_PRICE"),
            .optional(Key.currency, .choice(["rub", "usd", "eur", "kzt"]), "currency", default: "rub"),
            .optional(Key.schedule, .string, "when sessions take place", default: "Каждый день в 19:00 по Москве"),
            .optional(Key.sellerName, .string, "seller (ИП or company) as in the offer", default: "ИП Иванова Анна Сергеевна", environment: "SELLER_NAME"),
            .optional(Key.sellerINN, .string, "seller's ИНН", default: "000000000000", environment: "SELLER_INN"),
            .optional(Key.sellerOGRN, .string, "seller's ОГРН/ОГРНИП", environment: "SELLER_OGRN"),
            .optional(Key.sellerAddress, .string, "seller's address", environment: "SELLER_ADDRESS"),
            .optional(Key.sellerEmail, .string, "contact e-mail", default: "hello@example.ru", environment: "SELLER_EMAIL"),
            .optional(Key.sellerPhone, .string, "contact phone", default: "+7 900 000-00-00", environment: "SELLER_PHONE"),
            .optional(Key.offerText, .string, "the public offer (plain text; paragraphs by blank lines)", default: .string(WebTexts.offer)),
            .optional(Key.privacyText, .string, "the personal data policy (plain text)", default: .string(WebTexts.privacy)),
            .optional(Key.telegramLinkURL, .string, "where the bot's deep link points: Telegram's t.me, or the sandbox's chat page",
                      default: "https://t.me", environment: "TELEGRAM_LINK_URL"),
            .optional(Key.formTimeout, .number, "seconds the form waits for its flow before asking the client to retry (1 to 120)", default: 10),
        ],
        actions: [
            ActionSpec(name: "redirect", summary: "Ends a `web.form` flow by sending the client's browser to a URL (303).",
                       inputs: [.required("url", .string, "where to send the browser: http(s) only")],
                       outputs: [.output("redirect", .string, "the URL")], hasSideEffects: false,
                       example: "do: web.redirect\nwith: { url: \"https://demo.payform.ru/?order_id={{ event.body.order }}\" }"),
        ],
        triggers: [
            TriggerSpec(
                name: "form", summary: "A client submitted the registration form; the fields are already checked and normalised.",
                fields: [
                    .output("full_name", .string, "ФИО, trimmed"),
                    .output("phone", .string, "phone in E.164, e.g. +79991234567"),
                    .output("city", .string, "city"),
                    .output("email", .string, "e-mail"),
                    .output("product_name", .string, "the product from the site config"),
                    .output("price", .string, "the price from the site config, e.g. 3000.00"),
                    .output("currency", .string, "the currency from the site config"),
                    .output("public_url", .string, "the hub's public URL, for success and return links"),
                ],
                example: "on: web.form\nsteps:\n  - do: web.redirect\n    with: { url: \"{{ event.public_url }}/success\" }"),
        ])

    let site: [String: Value]
    let services: ConnectorServices
    let formTimeout: Duration

    public init(config: ConnectorConfig, services: ConnectorServices) throws {
        var site = config.values
        // Read as the orders read it ("2 500" and "2500,00" are 2500.00), so the page, the order and
        // the payment link agree, and a price that is no amount stops the start, not every registration.
        let written = config.get(Key.price) ?? "3000.00"
        guard let price = Money.normalise(written) else {
            throw ConnectorError.permanent("bad-config", "'\(Key.price)' (SESSION_PRICE) must be an amount such as 3000.00, found '\(written)'")
        }
        site[Key.price] = .string(price)
        site["price_text"] = .string(WebConnector.priceText(price, currency: config.get(Key.currency) ?? "rub"))
        self.site = site
        self.services = services
        // Between 1 and 120 s: a value out of range (or not a number) would answer every form 503 or trap.
        let seconds = config.get(Key.formTimeout, as: Double.self).flatMap { $0.isFinite ? $0 : nil } ?? 10
        formTimeout = .milliseconds(Int64(min(120, max(1, seconds)) * 1000))
    }

    public var routes: [WebhookRoute] {
        [
            WebhookRoute(method: "GET", path: "/") { _ in self.landing(values: [:], errors: [:], consent: false) },
            WebhookRoute(method: "POST", path: "/") { request in await self.submit(request) },
            WebhookRoute(method: "GET", path: "/offer") { _ in self.document("Публичная оферта", self.site[Key.offerText]?.text ?? "") },
            WebhookRoute(method: "GET", path: "/privacy") { _ in
                self.document("Политика обработки персональных данных", self.site[Key.privacyText]?.text ?? "")
            },
            WebhookRoute(method: "GET", path: "/contacts") { _ in self.page("contacts", title: "Контакты") },
            WebhookRoute(method: "GET", path: "/success") { request in self.success(request) },
            WebhookRoute(method: "GET", path: "/fail") { _ in self.page("fail", title: "Оплата не завершена") },
        ]
    }

    public func perform(_ call: ActionCall) async throws -> Value {
        let url = try call.inputs.require("url")
        guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme?.lowercased() ?? "") else {
            throw ConnectorError.permanent("bad-url", "redirects go to http(s) URLs only")
        }
        return ["redirect": .string(url)]
    }

    /// `3000.00` → `3 000 ₽`.
    static func priceText(_ price: String, currency: String) -> String {
        let symbol = ["rub": "₽", "usd": "$", "eur": "€", "kzt": "₸"][currency] ?? currency
        // Only sums the page can group (up to a trillion); anything else is shown as written.
        guard let amount = Double(price), amount.isFinite, amount >= 0, amount < 1e12 else { return "\(price) \(symbol)" }
        let whole = Int(amount)
        var digits = String(whole)
        var grouped = ""
        while digits.count > 3 {
            grouped = "\u{00A0}" + digits.suffix(3) + grouped
            digits = String(digits.dropLast(3))
        }
        let cents = Int((amount * 100).rounded()) % 100
        return digits + grouped + (cents == 0 ? "" : "," + String(format: "%02d", cents)) + " " + symbol
    }
}
