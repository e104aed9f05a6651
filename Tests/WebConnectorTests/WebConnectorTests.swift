import Flows
import Foundation
import Logging
import Synchronization
import Testing
@testable import WebConnector

/// Stands in for the hub's intake: records events and answers as a finished `register` flow would.
final class FormSink: EventSink {
    let events = Mutex<[IncomingEvent]>([])
    let answer: RunResult

    init(answer: RunResult = .completed(["go": ["redirect": "https://demo.payform.ru/?order_id=SH-1"]])) { self.answer = answer }

    func emit(_ event: IncomingEvent) async throws -> EmitOutcome {
        events.withLock { $0.append(event) }
        return .accepted(runs: 1)
    }

    func emitAndWait(_ event: IncomingEvent, timeout: Duration) async throws -> RunResult {
        events.withLock { $0.append(event) }
        return answer
    }
}

struct NoHTTP: HTTPClient {
    func send(_ request: HTTPClientRequest) async throws -> HTTPClientResponse { throw ConnectorError.permanent("offline", "no network in this test") }
}

@Suite struct WebConnectorTests {
    static func connector(_ sink: FormSink = FormSink(), config: [String: Value] = [:]) throws -> WebConnector {
        var values: [String: Value] = [:]
        for field in WebConnector.spec.config { values[field.name] = field.defaultValue }
        values.merge(config) { _, new in new }
        return try WebConnector(config: Fields(values), services: ConnectorServices(
            instance: "web", logger: Logger(label: "test"), database: nil, http: NoHTTP(), events: sink, publicURL: "https://hub.example"))
    }

    static func route(_ connector: WebConnector, _ method: String, _ path: String) -> WebhookRoute {
        connector.routes.first { $0.method == method && $0.path == path }!
    }

    static func get(_ connector: WebConnector, _ path: String, query: [String: String] = [:]) async -> WebhookResponse {
        await route(connector, "GET", path).handler(WebhookRequest(headers: [:], query: query, body: []))
    }

    static func post(_ connector: WebConnector, _ fields: [(String, String)]) async -> WebhookResponse {
        let body = fields.map { "\(encode($0.0))=\(encode($0.1))" }.joined(separator: "&")
        return await route(connector, "POST", "/").handler(WebhookRequest(headers: ["content-type": "application/x-www-form-urlencoded"], body: Array(body.utf8)))
    }

    static func encode(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return s.addingPercentEncoding(withAllowedCharacters: allowed)!
    }

    static let valid = [("full_name", "Иванова Анна Сергеевна"), ("phone", "8 (999) 123-45-67"), ("city", "Казань"),
                        ("email", "anna@example.ru"), ("consent", "on")]

    static func replacing(_ name: String, with value: String?) -> [(String, String)] {
        valid.compactMap { $0.0 == name ? value.map { (name, $0) } : $0 }
    }

    @Test(arguments: [
        ("/", ["name=\"full_name\"", "name=\"phone\"", "name=\"city\"", "name=\"email\"", "name=\"consent\"", "href=\"/offer\"", "href=\"/privacy\"", "3\u{00A0}000 ₽", "152-ФЗ"]),
        ("/offer", ["Публичная оферта", "Акцептом оферты"]),
        ("/privacy", ["152-ФЗ", "Цели обработки"]),
        ("/contacts", ["ИНН", "hello@example.ru"]),
        ("/fail", ["Оплата не завершена"]),
        ("/success", ["Спасибо", "не подтверждает оплату"]),
    ])
    func pagesRender(_ path: String, _ expected: [String]) async throws {
        let page = await Self.get(try Self.connector(), path)
        #expect(page.status == 200)
        #expect(page.headers["content-type"] == "text/html; charset=utf-8")
        for text in expected { #expect(page.body.contains(text), "\(path) lacks \(text)") }
        // Works offline: no external scripts, styles or fonts.
        #expect(!page.body.contains("<script"))
        #expect(!page.body.contains("src=\"http"))
        #expect(!page.body.contains("<link"))
    }

    @Test func sellerTextComesFromConfig() async throws {
        let page = await Self.get(try Self.connector(config: ["seller_name": "ИП Петров <Пётр>", "seller_inn": "7707083893"]), "/contacts")
        #expect(page.body.contains("ИП Петров &lt;Пётр&gt;"))
        #expect(page.body.contains("7707083893"))
    }

    @Test("a price that is no amount stops the start with a clear error, never a crash",
          arguments: ["1e20", "nan", "inf", "-5", "100000000000000000", "3000.555", "три тысячи"])
    func priceThatIsNoAmount(_ price: String) {
        do {
            _ = try Self.connector(config: ["price": .string(price)])
            Issue.record("accepted the price '\(price)'")
        } catch let error as ConnectorError {
            #expect(error.code == "bad-config")
            #expect(error.message == "'price' (SESSION_PRICE) must be an amount such as 3000.00, found '\(price)'")
        } catch {
            Issue.record("\(error)")
        }
    }

    @Test("a price written as people write it is read as the orders read it; a timeout out of range is bounded",
          arguments: [("2 500", "2500.00", "2\u{00A0}500 ₽"), ("2500,5", "2500.50", "2\u{00A0}500,50 ₽"), ("3000", "3000.00", "3\u{00A0}000 ₽")])
    func priceAsWritten(_ written: String, _ amount: String, _ shown: String) async throws {
        let sink = FormSink()
        let connector = try Self.connector(sink, config: ["price": .string(written), "form_timeout": .number(1e20)])
        let page = await Self.get(connector, "/")
        #expect(page.status == 200)
        #expect(page.body.contains(shown), "\(page.body.prefix(3000))")
        #expect(connector.site["price"] == .string(amount))
    }

    @Test func validFormStartsTheFlowAndRedirects() async throws {
        let sink = FormSink()
        let response = await Self.post(try Self.connector(sink), Self.valid)
        #expect(response.status == 303)
        #expect(response.headers["location"] == "https://demo.payform.ru/?order_id=SH-1")
        let event = try #require(sink.events.withLock { $0.first })
        #expect(event.trigger == "form")
        #expect(event.payload["phone"] == "+79991234567")
        #expect(event.payload["full_name"] == "Иванова Анна Сергеевна")
        #expect(event.payload["price"] == "3000.00")
        #expect(event.payload["public_url"] == "https://hub.example")
    }

    @Test(arguments: [
        ("full_name", nil, "Укажите фамилию, имя и отчество"),
        ("full_name", "Я", "Слишком коротко"),
        ("full_name", String(repeating: "Щ", count: 10_000), "Не длиннее 200 символов"),
        // Two letters as the eye counts them, 20,002 code points (120 KB) as stored.
        ("full_name", "Ив" + String(repeating: "\u{301}", count: 20_000), "Не длиннее 200 символов"),
        ("city", "Ка" + String(repeating: "\u{301}", count: 150), "Не длиннее 100 символов"),
        ("email", "a" + String(repeating: "\u{301}", count: 20_000) + "@example.ru", "Проверьте e-mail"),
        ("phone", "", "Укажите номер телефона"),
        ("phone", "12345", "Проверьте номер"),
        ("phone", "+7 999 abc", "Проверьте номер"),
        ("city", "", "Укажите город"),
        // Text reversed or isolated reads otherwise than it is stored; zero-width spaces alone are no name.
        ("full_name", "Анна \u{202E}авонавИ", "Недопустимые символы"),
        ("city", "\u{2066}Казань\u{2069}", "Недопустимые символы"),
        ("full_name", "\u{200B}\u{200B}\u{200B}", "Укажите фамилию, имя и отчество"),
        ("full_name", "\u{2062}\u{2062}", "Укажите фамилию, имя и отчество"),  // invisible, though no copy and paste adds it
        ("city", "-- 42 --", "Укажите город"),
        ("email", "anna@", "Проверьте e-mail"),
        ("email", "anna example.ru", "Проверьте e-mail"),
        ("consent", nil, "Нужно согласие"),
    ] as [(String, String?, String)])
    func invalidFieldIsShownAndNothingStarts(_ name: String, _ value: String?, _ message: String) async throws {
        let sink = FormSink()
        let response = await Self.post(try Self.connector(sink), Self.replacing(name, with: value))
        #expect(response.status == 422)
        #expect(response.body.contains(message))
        #expect(sink.events.withLock { $0.isEmpty })
        // The other values are kept in the form.
        if name != "city" { #expect(response.body.contains("value=\"Казань\"")) }
    }

    @Test("invisible characters copy and paste brings along are dropped; the joiners Persian names need are kept")
    func invisiblesAreDropped() async throws {
        let sink = FormSink()
        var fields = Self.valid.filter { !["full_name", "city", "phone", "email"].contains($0.0) }
        // A number copied from a phone's contacts comes wrapped in direction marks.
        fields += [("full_name", "Анна\u{200B} Ива\u{00AD}нова\u{200E}"), ("city", "\u{FEFF}Казань"),
                   ("phone", "\u{202A}+7 999 123-45-67\u{202C}"), ("email", "\u{2066}anna@example.ru\u{2069}")]
        let response = await Self.post(try Self.connector(sink), fields)
        #expect(response.status == 303, "\(response.body.prefix(300))")
        let event = try #require(sink.events.withLock { $0.first })
        #expect(event.payload["full_name"] == "Анна Иванова")
        #expect(event.payload["city"] == "Казань")
        #expect(event.payload["phone"] == "+79991234567")
        #expect(event.payload["email"] == "anna@example.ru")
        let persian = FormSink()
        var withJoiner = Self.valid.filter { $0.0 != "full_name" }
        withJoiner.append(("full_name", "حسین\u{200C}زاده"))
        #expect(await Self.post(try Self.connector(persian), withJoiner).status == 303)
        #expect(persian.events.withLock { $0.first?.payload["full_name"] } == "حسین\u{200C}زاده")
    }

    @Test("a field that is not UTF-8 (a page in windows-1251, raw bytes) is refused, and nothing starts", arguments: [
        ("full_name", Array("full_name=%C8%E2%E0%ED%EE%E2".utf8)),
        ("city", Array("city=".utf8) + [0xCA, 0xE0, 0xE7, 0xE0, 0xED, 0xFC]),
    ])
    func notUTF8IsRefused(_ name: String, _ pair: [UInt8]) async throws {
        let sink = FormSink()
        let others = Self.valid.filter { $0.0 != name }.map { "\(Self.encode($0.0))=\(Self.encode($0.1))" }.joined(separator: "&")
        let body = Array(others.utf8) + Array("&".utf8) + pair
        let response = await Self.route(try Self.connector(sink), "POST", "/").handler(
            WebhookRequest(headers: ["content-type": "application/x-www-form-urlencoded"], body: body))
        #expect(response.status == 422)
        #expect(response.body.contains("<div class=\"error\">Недопустимые символы</div>"))
        #expect(sink.events.withLock { $0.isEmpty })
    }

    @Test func hostileTextIsKeptLiterallyAndRenderedEscaped() async throws {
        let hostile = "<script>alert(1)</script> \"O'Brien\"; DROP TABLE funnel_members; --"
        let sink = FormSink()
        let ok = await Self.post(try Self.connector(sink), Self.replacing("full_name", with: hostile))
        #expect(ok.status == 303)
        #expect(sink.events.withLock { $0.first?.payload["full_name"] } == .string(hostile))
        // Shown again (an e-mail error) the name comes back escaped, never as markup.
        let shown = await Self.post(try Self.connector(), Self.replacing("full_name", with: hostile).map { $0.0 == "email" ? ("email", "bad") : $0 })
        #expect(shown.status == 422)
        #expect(!shown.body.contains("<script>alert(1)</script>"))
        #expect(shown.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(shown.body.contains("&quot;O&#39;Brien&quot;") || shown.body.contains("&quot;O'Brien&quot;"))
    }

    @Test("quotes and brackets joined to combining marks are escaped too")
    func combiningMarksDoNotHideMarkup() async throws {
        // One Character each ("\"\u{301}", ">\u{301}", "\u{D4E}<"), none of them '"', '>' or '<'.
        let hostile = "X\"\u{301}>\u{301}\u{D4E}<meta http-equiv=refresh content=0;url=https://evil.example>\u{301}"
        let shown = await Self.post(try Self.connector(), Self.replacing("full_name", with: hostile).map { $0.0 == "email" ? ("email", "bad") : $0 })
        #expect(shown.status == 422)
        #expect(!shown.body.contains("<meta http-equiv=refresh"))
        #expect(shown.body.contains("X&quot;\u{301}&gt;\u{301}\u{D4E}&lt;meta"))
    }

    @Test func oversizedBodyIsRefused() async throws {
        let sink = FormSink()
        let response = await Self.post(try Self.connector(sink), Self.replacing("city", with: String(repeating: "x", count: 200_000)))
        #expect(response.status == 413)
        #expect(sink.events.withLock { $0.isEmpty })
    }

    @Test func failedFlowKeepsTheClientOnThePage() async throws {
        let response = await Self.post(try Self.connector(FormSink(answer: .failed("prodamus down"))), Self.valid)
        #expect(response.status == 502)
        #expect(response.body.contains("Попробуйте ещё раз"))
        #expect(response.body.contains("value=\"Иванова Анна Сергеевна\""))
        #expect(!response.body.contains("prodamus down"))
    }

    @Test func successPageLinksToTheBotOnlyWithWellFormedValues() async throws {
        let token = "AbCdEfGhIjKlMnOpQrStUvWx"
        let good = await Self.get(try Self.connector(), "/success", query: ["t": token, "b": "session_hub_bot", "_payform_status": "success"])
        #expect(good.body.contains("https://t.me/session_hub_bot?start=\(token)"))
        let evil = await Self.get(try Self.connector(), "/success", query: ["t": token, "b": "evil.example/phish"])
        #expect(!evil.body.contains("t.me"))
        let badToken = await Self.get(try Self.connector(), "/success", query: ["t": "\"><script>", "b": "session_hub_bot"])
        #expect(!badToken.body.contains("start="))
    }

    @Test("without the bot's link the success page sends the client to the contacts, not to an e-mail nobody sent",
          arguments: [[:], ["t": "AbCdEfGhIjKlMnOpQrStUvWx", "b": ""], ["t": "AbCdEfGhIjKlMnOpQrStUvWx"]])
    func successPageWithoutTheBot(_ query: [String: String]) async throws {
        let page = await Self.get(try Self.connector(), "/success", query: query)
        #expect(page.status == 200)
        #expect(page.body.contains("Напишите или позвоните нам (<a href=\"/contacts\">контакты</a>)"))
        #expect(!page.body.contains("письм"))
        #expect(!page.body.contains("id=\"bot\""))
    }

    @Test(arguments: [
        ("8 (999) 123-45-67", "+79991234567"), ("+7 999 123 45 67", "+79991234567"), ("79991234567", "+79991234567"),
        ("9991234567", "+79991234567"), ("+7-999-123-45-67", "+79991234567"), ("+44 20 7946 0958", "+442079460958"),
        ("8 800 555 35 35", "+78005553535"),
    ])
    func phonesAreNormalised(_ input: String, _ expected: String) {
        #expect(ContactFormat.phone(input) == expected)
    }

    @Test(arguments: ["", "12345", "+7 999 123 45 6", "8 (999) 123-45-67 доб. 5", "++79991234567", "+0123456789"])
    func badPhonesAreRefused(_ input: String) {
        #expect(ContactFormat.phone(input) == nil)
    }
}
