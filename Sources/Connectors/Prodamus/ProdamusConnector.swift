import Flows

/// Prodamus (payform.ru): signed payment links and the payment webhook.
///
/// `payment_link` builds a payform URL signed like Prodamus' `Hmac::create`; the webhook at
/// `webhook_path` verifies the `Sign` header over the body as PHP decodes it, stores the
/// notification as a `prodamus.notification` event (and a successful payment of ours as
/// `prodamus.paid`) and only then answers 200, so Prodamus retries whatever was not stored.
public struct ProdamusConnector: Connector {
    /// YAML keys of the config, declared once.
    enum Key {
        static let formURL = "form_url"
        static let secretKey = "secret_key"
        static let sys = "sys"
        static let demoMode = "demo_mode"
        static let webhookPath = "webhook_path"
        static let currency = "currency"
    }

    /// The shop's payment page, e.g. `https://shop.payform.ru/`.
    let formURL: String
    /// The page's secret key; never logged, never put into an error or an event.
    let secretKey: String
    let sys: String?
    let demoMode: Bool
    let webhookPath: String
    /// Empty means "leave the page's own currency".
    let currency: String
    let services: ConnectorServices

    /// Reads and checks the config; the secret key is only kept in memory.
    public init(config: ConnectorConfig, services: ConnectorServices) throws {
        let formURL = try config.require(Key.formURL)
        guard formURL.hasPrefix("https://") || formURL.hasPrefix("http://") else {
            throw ConnectorError.permanent("bad-config", "'\(Key.formURL)' must be the payment page's http(s) URL, e.g. https://shop.payform.ru/")
        }
        let webhookPath = config.get(Key.webhookPath) ?? "/hooks/prodamus"
        guard webhookPath.hasPrefix("/") else {
            throw ConnectorError.permanent("bad-config", "'\(Key.webhookPath)' must start with '/', e.g. /hooks/prodamus")
        }
        self.formURL = formURL
        self.secretKey = try config.require(Key.secretKey)
        self.sys = config.get(Key.sys).flatMap { $0.isEmpty ? nil : $0 }
        self.demoMode = config.get(Key.demoMode, as: Bool.self) ?? false
        self.webhookPath = webhookPath
        self.currency = config.get(Key.currency) ?? "rub"
        self.services = services
    }

    /// Carries out `payment_link`, the only action.
    public func perform(_ call: ActionCall) async throws -> Value {
        switch call.action {
        case Self.paymentLinkAction: try paymentLink(call.inputs)
        default: throw ConnectorError.permanent("unknown-action", "prodamus has no action '\(call.action)'")
        }
    }

    /// The webhook Prodamus posts payment notifications to.
    public var routes: [WebhookRoute] {
        [WebhookRoute(method: "POST", path: webhookPath) { request in await self.handleWebhook(request) }]
    }
}
