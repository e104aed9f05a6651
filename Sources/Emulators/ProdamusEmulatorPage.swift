/// The emulated payment page's HTML: self-contained (no external assets), mobile-friendly,
/// every value from the link escaped.
enum ProdamusEmulatorPage {
    /// The payment page for a checked link; the button posts the link's query to `/pay`.
    static func payment(_ link: ProdamusEmulatorLink, query: String, domain: String) -> String {
        let currency = link.currency.uppercased()
        var rows = ""
        for product in link.products {
            rows += "<tr><td>\(escape(product.name))</td><td class=\"n\">\(escape(product.price)) × \(escape(product.quantity))</td>"
                + "<td class=\"n\">\(ProdamusEmulatorLink.amount(product.totalKopecks)) \(escape(currency))</td></tr>\n"
        }
        var details = "<p>Заказ № <b>\(escape(link.orderID))</b></p>\n"
        if let phone = link.customerPhone { details += "<p>Телефон: \(escape(phone))</p>\n" }
        if let email = link.customerEmail { details += "<p>E-mail: \(escape(email))</p>\n" }
        if let extra = link.customerExtra, !extra.isEmpty { details += "<p>\(escape(extra))</p>\n" }
        let demo = link.demoMode ? "<p class=\"demo\">Демо-режим: деньги не списываются</p>\n" : ""
        // Only web links: an escaped `javascript:` URL would still run when clicked.
        var decline = ""
        if let back = link.returnURL, back.hasPrefix("https://") || back.hasPrefix("http://") {
            decline = "<a class=\"back\" href=\"\(escape(back))\">Отказаться</a>\n"
        }
        return document(title: "Оплата заказа", body: """
        <p class="shop">\(escape(domain))</p>
        <h1>Оплата заказа</h1>
        \(demo)\(details)<table>
        \(rows)</table>
        <p class="total">Итого: \(ProdamusEmulatorLink.amount(link.totalKopecks)) \(escape(currency))</p>
        <form method="post" action="/pay">
        <input type="hidden" name="query" value="\(escape(query))">
        <button type="submit">Оплатить</button>
        </form>
        \(decline)
        """)
    }

    /// The page shown after paying when the link has no `urlSuccess`.
    static func paid(orderNum: String) -> String {
        document(title: "Оплата прошла успешно", body: "<h1>Оплата прошла успешно</h1>\n<p>Заказ № \(escape(orderNum))</p>\n")
    }

    /// A refusal, e.g. "Ошибка подписи передаваемых данных".
    static func error(_ message: String, detail: String?) -> String {
        document(title: message, body: "<h1>\(escape(message))</h1>\n" + (detail.map { "<p>\(escape($0))</p>\n" } ?? ""))
    }

    private static func document(title: String, body: String) -> String {
        EmulatorHTML.document(title: title, style: style, body: "<main>\n\(body)</main>")
    }

    private static let style = """
        body { font-family: system-ui, sans-serif; margin: 0; padding: 1rem; background: #f4f5f7; color: #222; }
        main { max-width: 28rem; margin: 0 auto; background: #fff; border-radius: .75rem; padding: 1.25rem; }
        h1 { font-size: 1.3rem; } table { width: 100%; border-collapse: collapse; } td { padding: .4rem 0; border-bottom: 1px solid #eee; }
        .n { text-align: right; white-space: nowrap; } .total { font-weight: bold; font-size: 1.1rem; } .shop { color: #888; }
        .demo { background: #fff3cd; padding: .5rem; border-radius: .5rem; }
        button { width: 100%; padding: .9rem; font-size: 1.1rem; border: 0; border-radius: .5rem; background: #2a6df4; color: #fff; }
        .back { display: block; text-align: center; margin-top: 1rem; color: #666; }
        """

    static func escape(_ text: String) -> String { EmulatorHTML.escape(text) }
}
