import Flows
import Foundation

/// Input names of `payment_link`, declared once.
enum PaymentLinkInput {
    static let orderID = "order_id"
    static let productName = "product_name"
    static let price = "price"
    static let quantity = "quantity"
    static let productSKU = "product_sku"
    static let customerPhone = "customer_phone"
    static let customerEmail = "customer_email"
    static let customerExtra = "customer_extra"
    static let successURL = "success_url"
    static let returnURL = "return_url"
    static let notificationURL = "notification_url"
}

extension ProdamusConnector {
    /// `payment_link`: the payform URL with `do=pay`, the product, return URLs and `signature`.
    func paymentLink(_ inputs: Fields) throws -> Value {
        ["url": .string(try paymentLinkURL(inputs))]
    }

    /// Builds the link the way Prodamus' PHP sample does: nested data of strings only (so the
    /// query and the signature always agree), `Hmac::create` over it, then `http_build_query`.
    /// Parameters the form URL itself carries (`?lang=ru`) are signed with ours: Prodamus signs
    /// every parameter of the link it receives but `signature`, so leaving them out made a link
    /// it refused.
    func paymentLinkURL(_ inputs: Fields) throws(ConnectorError) -> String {
        let parts = formURL.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        var data = parts.count == 2 ? PHPForm.parse(urlencoded: Array(parts[1].utf8)) : PHPArray()
        for entry in try paymentLinkData(inputs).entries { data[entry.key] = entry.value }
        data["signature"] = .string(ProdamusSignature.sign(data, secret: secretKey))
        return String(parts[0]) + "?" + PHPForm.buildQuery(data)
    }

    /// The unsigned link parameters, in the order of the official sample.
    func paymentLinkData(_ inputs: Fields) throws(ConnectorError) -> PHPArray {
        var data = PHPArray()
        data["order_id"] = .string(try inputs.require(PaymentLinkInput.orderID))
        if let phone = nonEmpty(inputs, PaymentLinkInput.customerPhone) { data["customer_phone"] = .string(phone) }
        if let email = nonEmpty(inputs, PaymentLinkInput.customerEmail) { data["customer_email"] = .string(email) }

        var product = PHPArray()
        product["name"] = .string(try inputs.require(PaymentLinkInput.productName))
        product["price"] = .string(try Self.price(inputs[PaymentLinkInput.price]))
        let quantity = inputs.get(PaymentLinkInput.quantity, as: Int.self) ?? 1
        guard quantity >= 1 else { throw .permanent("bad-input", "'\(PaymentLinkInput.quantity)' must be 1 or more, got \(quantity)") }
        product["quantity"] = .string(String(quantity))
        if let sku = nonEmpty(inputs, PaymentLinkInput.productSKU) { product["sku"] = .string(sku) }
        data["products"] = [.array(product)]

        data["do"] = "pay"
        if let url = nonEmpty(inputs, PaymentLinkInput.successURL) { data["urlSuccess"] = .string(url) }
        if let url = nonEmpty(inputs, PaymentLinkInput.returnURL) { data["urlReturn"] = .string(url) }
        // An explicitly empty notification_url means "none": the LK's notification URLs apply.
        let notification = inputs.get(PaymentLinkInput.notificationURL) ?? services.publicURL + webhookPath
        if !notification.isEmpty { data["urlNotification"] = .string(notification) }
        if let extra = nonEmpty(inputs, PaymentLinkInput.customerExtra) { data["customer_extra"] = .string(extra) }
        if let sys { data["sys"] = .string(sys) }
        if !currency.isEmpty { data["currency"] = .string(currency) }
        if demoMode { data["demo_mode"] = "1" }
        return data
    }

    private func nonEmpty(_ inputs: Fields, _ name: String) -> String? {
        guard let value = inputs.get(name), !value.isEmpty else { return nil }
        return value
    }

    /// The price as Prodamus expects it: decimal text. A number from a template is written with
    /// two decimals; text is checked, not reformatted, so "3000.00" stays exactly that.
    static func price(_ value: Value?) throws(ConnectorError) -> String {
        switch value {
        case .number(let number) where number.isFinite && number > 0:
            return String(format: "%.2f", number)
        case .string(let text) where isDecimal(text):
            return text
        case nil:
            throw .missingField(PaymentLinkInput.price, expected: "a price like \"3000.00\"")
        default:
            throw .permanent("bad-input", "'\(PaymentLinkInput.price)' must be a price like \"3000.00\"")
        }
    }

    private static func isDecimal(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, let whole = parts.first, !whole.isEmpty else { return false }
        let digits: (Substring) -> Bool = { $0.allSatisfy { $0.isASCII && $0.isNumber } }
        guard digits(whole) else { return false }
        if parts.count == 2 { return !parts[1].isEmpty && parts[1].count <= 2 && digits(parts[1]) }
        return true
    }
}
