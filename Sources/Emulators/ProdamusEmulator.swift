import Flows
import Foundation
import Hummingbird
import NIOCore
import Synchronization

/// A local Prodamus payment page (payform.ru) for tests and the sandbox.
///
/// `GET /?<link query>` checks the link's `signature` and shows the payment page; its
/// "Оплатить" button posts to `/pay`, which records the payment, sends the signed
/// notification (`Sign` header, `http_build_query` body) and redirects the buyer to
/// `urlSuccess` with signed `_payform_*` parameters, as Prodamus does.
///
/// Like Prodamus, the emulator honours a link's `urlNotification` only when the link has
/// `sys`; otherwise the notification goes to the URLs set in the shop's LK
/// (`notificationURLs`), and nowhere while there are none.
///
/// ```swift
/// let prodamus = ProdamusEmulator(secretKey: "test-secret", notificationURLs: ["https://hub.example/hooks/prodamus"])
/// let server = try await EmulatorServer.start(prodamus.router(), name: "prodamus")
/// // form_url: server.baseURL + "/"
/// ```
public final class ProdamusEmulator: Sendable {
    /// One notification the emulator sent, with the answer it got (0 = no answer).
    public struct SentWebhook: Sendable {
        public var url: String
        /// The urlencoded body, as sent.
        public var body: String
        /// The `Sign` header.
        public var signature: String
        public var status: Int
    }

    /// A payment made on the page.
    struct Payment: Sendable {
        /// Prodamus' order id (`order_id` in the notification, `_payform_id`).
        var id: String
        /// The link's `order_id` (`order_num` in the notification).
        var orderNum: String
        /// The link's `urlNotification`, kept only when the link has `sys`; it then replaces the LK's URLs.
        var linkNotificationURL: String?
        /// The notification; `attempt` is set per delivery.
        var fields: ProdamusEmulatorForm
        /// Deliveries so far per URL, retries and resends included.
        var attempts: [String: Int] = [:]
    }

    struct State: Sendable {
        var nextOrderID = 300155
        var payments: [Payment] = []
        var webhooksSent: [SentWebhook] = []
        var notificationURLs: [String]
    }

    let secretKey: String
    /// The page's domain as notifications report it.
    let domain: String
    /// Deliveries per notification before giving up; Prodamus itself keeps trying for days.
    let deliveryAttempts: Int
    let retryDelay: Duration
    let now: @Sendable () -> Date
    let http: any HTTPClient
    let state: Mutex<State>

    /// - Parameters:
    ///   - secretKey: the page's secret key; links must be signed with it, notifications are.
    ///   - notificationURLs: the LK's «URL адреса для уведомлений»: where notifications of links
    ///     without `sys` go. Empty, as for a shop whose admin never set one.
    ///   - domain: the `domain` field of notifications.
    ///   - deliveryAttempts: tries per notification and URL while the receiver does not answer 200.
    ///   - retryDelay: the first pause between tries; it doubles after each.
    ///   - firstOrderID: the `order_id` of the first payment; the hub knows a payment again by it,
    ///     so an emulator serving a hub that kept its database must not start where an earlier one did.
    public init(secretKey: String, notificationURLs: [String] = [], domain: String = "demo.payform.ru", deliveryAttempts: Int = 3,
                retryDelay: Duration = .milliseconds(50), now: @escaping @Sendable () -> Date = Date.init,
                http: any HTTPClient = CurlHTTPClient(), firstOrderID: Int = 300155)
    {
        self.secretKey = secretKey
        self.state = Mutex(State(nextOrderID: firstOrderID, notificationURLs: notificationURLs))
        self.domain = domain
        self.deliveryAttempts = max(1, deliveryAttempts)
        self.retryDelay = retryDelay
        self.now = now
        self.http = http
    }

    /// Every notification sent so far, retries and resends included, oldest first.
    public var webhooksSent: [SentWebhook] { state.withLock { $0.webhooksSent } }

    /// The LK's notification URLs; a change applies to later deliveries and resends, as in the LK.
    public var notificationURLs: [String] {
        get { state.withLock { $0.notificationURLs } }
        set { state.withLock { $0.notificationURLs = newValue } }
    }

    /// The payment page: `GET /` and `POST /pay`.
    public func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/") { request, _ -> Response in
            self.paymentPage(query: request.uri.query ?? "")
        }
        router.post("/pay") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            let form = ProdamusEmulatorForm.parse(query: String(buffer: body))
            return await self.pay(query: form.text("query") ?? "")
        }
        return router
    }

    /// `GET /`: the link's data checked, then the page with the "Оплатить" button.
    func paymentPage(query: String) -> Response {
        switch link(query) {
        case .failure(let refusal): Self.html(.badRequest, refusal.page)
        case .success(let link): Self.html(.ok, ProdamusEmulatorPage.payment(link, query: query, domain: domain))
        }
    }

    /// `POST /pay`: records the payment, notifies the shop, redirects the buyer.
    func pay(query: String) async -> Response {
        let link: ProdamusEmulatorLink
        switch self.link(query) {
        case .failure(let refusal): return Self.html(.badRequest, refusal.page)
        case .success(let checked): link = checked
        }
        let payment = state.withLock { state in
            let payment = Payment(id: String(state.nextOrderID), orderNum: link.orderID,
                                  linkNotificationURL: link.sys == nil ? nil : link.notificationURL,
                                  fields: notificationFields(link, prodamusID: String(state.nextOrderID)))
            state.nextOrderID += 1
            state.payments.append(payment)
            return payment
        }
        await deliver(paymentID: payment.id)
        guard let success = link.successURL else {
            return Self.html(.ok, ProdamusEmulatorPage.paid(orderNum: link.orderID))
        }
        let separator = success.contains("?") ? "&" : "?"
        var back = ProdamusEmulatorForm([
            ("_payform_status", .text("success")), ("_payform_id", .text(payment.id)), ("_payform_order_id", .text(link.orderID)),
        ])
        // Reference §1.4: Prodamus signs the other `_payform_*` parameters with the page's key
        // (`Hmac::create`, as the OpenCart module that checks `_payform_sign` verifies it).
        back["_payform_sign"] = .text(back.signature(secret: secretKey))
        return .redirect(to: success + separator + back.query, type: .normal)
    }

    /// The link's data if its signature is right and it names a product.
    func link(_ query: String) -> Result<ProdamusEmulatorLink, ProdamusEmulatorLink.Refusal> {
        ProdamusEmulatorLink.parse(query, secretKey: secretKey)
    }

    static func html(_ status: HTTPResponse.Status, _ page: String) -> Response {
        Response(status: status, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: page)))
    }
}
