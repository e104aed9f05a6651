import Flows
import Foundation

extension ProdamusEmulator {
    /// Sends a payment's notification again, as Prodamus' LK «URL-оповещения» resend does:
    /// the same fields, `attempt` one higher. `orderID` is Prodamus' id or the shop's order
    /// number. Returns 200 when every receiver took it, else the first failing receiver's last
    /// status (0 = no answer, or no URL to send to); nil when there is no such payment.
    @discardableResult
    public func resend(orderID: String) async -> Int? {
        let id = state.withLock { state in
            (state.payments.first { $0.id == orderID } ?? state.payments.first { $0.orderNum == orderID })?.id
        }
        guard let id else { return nil }
        return await deliver(paymentID: id)
    }

    /// Sends a sample payment notification signed with the demo key (`secret + "demo"`), as
    /// Prodamus does for system-side demo payments; a correct shop answers 200 and grants nothing.
    @discardableResult
    public func sendDemoPing(to url: String) async -> Int {
        let link = ProdamusEmulatorLink(orderID: "test", products: [.init(name: "Тестовый товар", price: "100.00", quantity: "1", sku: nil, totalKopecks: 10000)],
                                        customerPhone: "+79999999999", customerEmail: "test@domain.ru", customerExtra: "тест",
                                        successURL: nil, returnURL: nil, notificationURL: url, sys: nil, currency: "rub", demoMode: true)
        let fields = notificationFields(link, prodamusID: "0")
        return await send(fields, secret: secretKey + "demo", to: url)
    }

    /// A one-off payment notification in the field order of a real 2024 capture (reference §2.2).
    func notificationFields(_ link: ProdamusEmulatorLink, prodamusID: String) -> ProdamusEmulatorForm {
        let total = link.totalKopecks
        // Prodamus' demo page commission: 3.5 %, rounded to kopecks. Split at 1000 kopecks so that
        // `total * 35` cannot overflow for the largest order a link may carry; the result is the same.
        let commission = total / 1000 * 35 + (total % 1000 * 35 + 500) / 1000
        var fields = ProdamusEmulatorForm([
            ("date", .text(Self.timestamp(now()))),
            ("order_id", .text(prodamusID)),
            ("order_num", .text(link.orderID)),
            ("domain", .text(domain)),
            ("sum", .text(ProdamusEmulatorLink.amount(total))),
            ("currency", .text(link.currency)),
            ("customer_phone", .text(link.customerPhone ?? "")),
            ("customer_email", .text(link.customerEmail ?? "")),
            ("customer_extra", .text(link.customerExtra ?? "")),
            ("payment_type", .text("Пластиковая карта Visa, MasterCard, МИР")),
            ("commission", .text("3.5")),
            ("commission_sum", .text(ProdamusEmulatorLink.amount(commission))),
            ("attempt", .text("1")),
        ])
        if let sys = link.sys { fields["sys"] = .text(sys) }
        fields["discount_value"] = .text("0.00")
        var products = ProdamusEmulatorForm()
        for (index, product) in link.products.enumerated() {
            products[String(index)] = .form(ProdamusEmulatorForm([
                ("name", .text(product.name)), ("price", .text(product.price)),
                ("quantity", .text(product.quantity)), ("sum", .text(ProdamusEmulatorLink.amount(product.totalKopecks))),
            ]))
        }
        fields["products"] = .form(products)
        fields["payment_status"] = .text("success")
        fields["payment_status_description"] = .text("Успешная оплата")
        fields["payment_init"] = .text("manual")
        return fields
    }

    /// Delivers a payment's notification to the link's `urlNotification` (only kept with `sys`)
    /// or else to each of the LK's URLs. Returns 200 when every one answered 200, else the
    /// first failing one's last status; 0 when there is nowhere to send.
    @discardableResult
    func deliver(paymentID: String) async -> Int {
        let urls = state.withLock { state in
            state.payments.first { $0.id == paymentID }.map { $0.linkNotificationURL.map { [$0] } ?? state.notificationURLs } ?? []
        }
        guard !urls.isEmpty else { return 0 }
        var outcome = 200
        for url in urls {
            let status = await deliver(paymentID: paymentID, to: url)
            if outcome == 200 { outcome = status }
        }
        return outcome
    }

    /// Posts the notification to `url` until it answers 200 or the tries run out, each try with
    /// the next `attempt` number for that URL. Returns the last status.
    private func deliver(paymentID: String, to url: String) async -> Int {
        var status = 0
        var delay = retryDelay
        for attempt in 0..<deliveryAttempts {
            if attempt > 0 {
                try? await Task.sleep(for: delay)
                delay *= 2
            }
            let fields: ProdamusEmulatorForm? = state.withLock { state in
                guard let index = state.payments.firstIndex(where: { $0.id == paymentID }) else { return nil }
                let attempts = state.payments[index].attempts[url, default: 0] + 1
                state.payments[index].attempts[url] = attempts
                var fields = state.payments[index].fields
                fields["attempt"] = .text(String(attempts))
                return fields
            }
            guard let fields else { return 0 }
            status = await send(fields, secret: secretKey, to: url)
            if status == 200 { break }
        }
        return status
    }

    /// One POST like Prodamus': `http_build_query` body, `Sign` header; records it.
    func send(_ fields: ProdamusEmulatorForm, secret: String, to url: String) async -> Int {
        let body = fields.query
        let signature = fields.signature(secret: secret)
        let request = HTTPClientRequest(method: "POST", url: url,
                                        headers: ["Content-Type": "application/x-www-form-urlencoded", "Sign": signature, "User-Agent": "curl"],
                                        body: Array(body.utf8), timeout: .seconds(5))
        let status = (try? await http.send(request).status) ?? 0
        state.withLock { $0.webhooksSent.append(SentWebhook(url: url, body: body, signature: signature, status: status)) }
        return status
    }

    /// `2020-07-27T12:31:01+03:00`: Moscow time, as Prodamus writes `date`.
    static func timestamp(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "Europe/Moscow")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ssxxx"
        return formatter.string(from: date)
    }
}
