/// A payment link's data as the emulated payment page reads it.
struct ProdamusEmulatorLink: Sendable {
    struct Product: Sendable {
        var name: String
        var price: String
        var quantity: String
        var sku: String?
        /// Price × quantity in kopecks.
        var totalKopecks: Int
    }

    /// Why the page refuses a link, as the page it shows.
    struct Refusal: Error, Sendable {
        var page: String
    }

    var orderID: String
    var products: [Product]
    var customerPhone: String?
    var customerEmail: String?
    var customerExtra: String?
    var successURL: String?
    var returnURL: String?
    var notificationURL: String?
    var sys: String?
    var currency: String
    var demoMode: Bool

    /// The order's sum in kopecks; `parse` refuses a link whose sum does not fit in an `Int`.
    var totalKopecks: Int { products.reduce(0) { $0 + $1.totalKopecks } }

    /// The link's data, once its `signature` matches (Prodamus' wording for a mismatch is
    /// "Ошибка подписи передаваемых данных") and it names at least one priced product.
    static func parse(_ query: String, secretKey: String) -> Result<ProdamusEmulatorLink, Refusal> {
        var data = ProdamusEmulatorForm.parse(query: query)
        guard let signature = data.text("signature") else {
            return .failure(Refusal(page: ProdamusEmulatorPage.error("Ошибка подписи передаваемых данных", detail: "Ссылка не подписана.")))
        }
        data["signature"] = nil
        guard data.verify(signature: signature, secret: secretKey) else {
            return .failure(Refusal(page: ProdamusEmulatorPage.error("Ошибка подписи передаваемых данных", detail: nil)))
        }
        var products: [Product] = []
        var orderKopecks = 0
        for (_, node) in data.form("products")?.entries ?? [] {
            guard case .form(let item) = node, let name = item.text("name"), let price = item.text("price"),
                  let cents = kopecks(price), let quantity = Int(item.text("quantity") ?? "1"), quantity > 0 else {
                return .failure(Refusal(page: ProdamusEmulatorPage.error("Неверные данные товара", detail: "Нужны name, price и quantity.")))
            }
            // The link is signed with a key anyone may know (the sandbox's), so any amount can arrive.
            let (line, lineOverflow) = cents.multipliedReportingOverflow(by: quantity)
            let (sum, sumOverflow) = orderKopecks.addingReportingOverflow(line)
            guard !lineOverflow, !sumOverflow else {
                return .failure(Refusal(page: ProdamusEmulatorPage.error("Неверные данные товара", detail: "Сумма слишком велика.")))
            }
            orderKopecks = sum
            products.append(Product(name: name, price: price, quantity: String(quantity), sku: item.text("sku"), totalKopecks: line))
        }
        guard !products.isEmpty else {
            return .failure(Refusal(page: ProdamusEmulatorPage.error("Не указаны товары", detail: nil)))
        }
        let nonEmpty: (String) -> String? = { key in data.text(key).flatMap { $0.isEmpty ? nil : $0 } }
        return .success(ProdamusEmulatorLink(
            orderID: data.text("order_id") ?? "", products: products,
            customerPhone: nonEmpty("customer_phone"), customerEmail: nonEmpty("customer_email"),
            customerExtra: data.text("customer_extra"), successURL: nonEmpty("urlSuccess"), returnURL: nonEmpty("urlReturn"),
            notificationURL: nonEmpty("urlNotification"), sys: nonEmpty("sys"), currency: nonEmpty("currency") ?? "rub",
            demoMode: data.text("demo_mode") == "1"))
    }

    /// "3000.00" → 300000; nil for anything but a non-negative decimal with up to 2 places, and
    /// for a price whose kopecks do not fit in an `Int`.
    static func kopecks(_ price: String) -> Int? {
        let parts = price.split(separator: ".", omittingEmptySubsequences: false)
        let digits: (Substring) -> Bool = { $0.allSatisfy { $0.isASCII && $0.isNumber } }
        guard parts.count <= 2, digits(parts[0]), let whole = Int(parts[0]) else { return nil }
        let (wholeKopecks, wholeOverflow) = whole.multipliedReportingOverflow(by: 100)
        guard !wholeOverflow else { return nil }
        guard parts.count == 2 else { return wholeKopecks }
        let fraction = parts[1]
        guard (1...2).contains(fraction.count), digits(fraction), let cents = Int(fraction) else { return nil }
        let (total, overflow) = wholeKopecks.addingReportingOverflow(fraction.count == 1 ? cents * 10 : cents)
        return overflow ? nil : total
    }

    /// 300000 → "3000.00".
    static func amount(_ kopecks: Int) -> String {
        let cents = kopecks % 100
        return "\(kopecks / 100)." + (cents < 10 ? "0\(cents)" : "\(cents)")
    }
}
