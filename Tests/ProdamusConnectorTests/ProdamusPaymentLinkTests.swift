import Flows
import Foundation
import Testing
@testable import ProdamusConnector

@Suite("prodamus.payment_link")
struct ProdamusPaymentLinkTests {
    /// The query part of a link, parsed as Prodamus' PHP parses it.
    static func query(of url: String) throws -> PHPArray {
        let query = try #require(url.split(separator: "?", maxSplits: 1).last.map(String.init))
        return PHPForm.parse(urlencoded: Array(query.utf8))
    }

    @Test func linkParsesBackSignedWithTheRightFields() async throws {
        let prodamus = try makeProdamus(secret: "shop-secret", formURL: "https://shop.payform.ru/",
                                        config: ["sys": "hub", "demo_mode": true])
        let result = try await call(prodamus, "payment_link", [
            "order_id": "ord-17", "customer_phone": "+79990001122", "customer_email": "ann@example.ru",
            "product_name": "Сеанс «60 минут» & чай", "price": "3000.00", "quantity": 2,
            "success_url": "https://hub.example/success?o=ord-17", "return_url": "https://hub.example/",
            "customer_extra": "запись 42",
        ])
        let url = try #require(result["url"]?.stringValue)
        #expect(url.hasPrefix("https://shop.payform.ru/?order_id=ord-17&"))
        var data = try Self.query(of: url)
        let signature = try #require(data.string("signature"))
        data["signature"] = nil
        #expect(ProdamusSignature.verify(data, secret: "shop-secret", signature: signature))
        #expect(!ProdamusSignature.verify(data, secret: "other-secret", signature: signature))

        #expect(data.string("do") == "pay")
        #expect(data.string("order_id") == "ord-17")
        #expect(data.string("customer_phone") == "+79990001122")
        #expect(data.string("customer_email") == "ann@example.ru")
        let product = try #require(data.array("products")?.array("0"))
        #expect(product.string("name") == "Сеанс «60 минут» & чай")
        #expect(product.string("price") == "3000.00")
        #expect(product.string("quantity") == "2")
        #expect(data.string("urlSuccess") == "https://hub.example/success?o=ord-17")
        #expect(data.string("urlReturn") == "https://hub.example/")
        #expect(data.string("urlNotification") == "https://hub.example/hooks/prodamus")
        #expect(data.string("customer_extra") == "запись 42")
        #expect(data.string("sys") == "hub")
        #expect(data.string("currency") == "rub")
        #expect(data.string("demo_mode") == "1")
        #expect(!url.contains("shop-secret"))
    }

    /// Reference §1.3: the same data gives exactly the worked example's URL and signature.
    @Test func workedExampleIsRebuiltExactly() async throws {
        let prodamus = try makeProdamus(config: ["currency": ""])
        let result = try await call(prodamus, "payment_link", [
            "order_id": "1234", "customer_phone": "+79990000000", "product_name": "Сессия 60 мин", "price": "3000.00",
            "quantity": 1, "product_sku": "session-60", "success_url": "https://hub.example/ok",
            "return_url": "https://hub.example/back", "customer_extra": "booking 42", "notification_url": "",
        ])
        #expect(result["url"]?.stringValue == "https://demo.payform.ru/?order_id=1234&customer_phone=%2B79990000000&products%5B0%5D%5Bname%5D=%D0%A1%D0%B5%D1%81%D1%81%D0%B8%D1%8F+60+%D0%BC%D0%B8%D0%BD&products%5B0%5D%5Bprice%5D=3000.00&products%5B0%5D%5Bquantity%5D=1&products%5B0%5D%5Bsku%5D=session-60&do=pay&urlSuccess=https%3A%2F%2Fhub.example%2Fok&urlReturn=https%3A%2F%2Fhub.example%2Fback&customer_extra=booking+42&signature=2016a7640f0dca7e63395025b5964cd99f561836246af0f15c4958bb5ef5e80d")
    }

    @Test func explicitNotificationURLAndQueryInFormURL() async throws {
        let prodamus = try makeProdamus(formURL: "https://demo.payform.ru/?lang=ru")
        let result = try await call(prodamus, "payment_link", [
            "order_id": "7", "product_name": "x", "price": "10", "notification_url": "https://other.example/hook",
        ])
        let url = try #require(result["url"]?.stringValue)
        #expect(url.hasPrefix("https://demo.payform.ru/?lang=ru&order_id=7&"))
        let data = try Self.query(of: url)
        #expect(data.string("urlNotification") == "https://other.example/hook")
        #expect(data.string("demo_mode") == nil)
        #expect(data.string("sys") == nil)
        // Signed as Prodamus checks it: every parameter of the link but the signature, lang too.
        var signed = data
        let signature = try #require(signed.string("signature"))
        signed["signature"] = nil
        #expect(ProdamusSignature.verify(signed, secret: prodamusDemoSecret, signature: signature))
    }

    @Test func numericPriceIsWrittenWithTwoDecimals() async throws {
        let prodamus = try makeProdamus()
        let result = try await call(prodamus, "payment_link", ["order_id": "1", "product_name": "x", "price": 1500])
        let data = try Self.query(of: try #require(result["url"]?.stringValue))
        #expect(data.array("products")?.array("0")?.string("price") == "1500.00")
    }

    @Test(arguments: [Value.string("abc"), "3000,00", "-5", "1.234", "", .bool(true)])
    func badPriceFailsPermanently(_ price: Value) async throws {
        let prodamus = try makeProdamus()
        let error = await #expect(throws: ConnectorError.self) {
            _ = try await call(prodamus, "payment_link", ["order_id": "1", "product_name": "x", "price": price])
        }
        #expect(error?.disposition == .permanent)
    }

    @Test func missingOrderOrZeroQuantityFails() async throws {
        let prodamus = try makeProdamus()
        let missing = await #expect(throws: ConnectorError.self) {
            _ = try await call(prodamus, "payment_link", ["product_name": "x", "price": "1.00"])
        }
        #expect(missing?.code == "missing-field")
        let zero = await #expect(throws: ConnectorError.self) {
            _ = try await call(prodamus, "payment_link", ["order_id": "1", "product_name": "x", "price": "1.00", "quantity": 0])
        }
        #expect(zero?.code == "bad-input")
    }

    @Test func badConfigIsRefusedWithoutShowingTheSecret() throws {
        let error = #expect(throws: ConnectorError.self) {
            _ = try makeProdamus(secret: "very-secret-key", formURL: "shop.payform.ru")
        }
        #expect(error?.code == "bad-config")
        #expect(!(error?.description.contains("very-secret-key") ?? true))
        #expect(throws: ConnectorError.self) { _ = try makeProdamus(secret: "") }
        #expect(throws: ConnectorError.self) { _ = try makeProdamus(config: ["webhook_path": "hooks"]) }
    }

    @Test func routeIsMountedAtTheWebhookPath() throws {
        let prodamus = try makeProdamus(config: ["webhook_path": "/pay/notify"])
        #expect(prodamus.routes.map(\.path) == ["/pay/notify"])
        #expect(prodamus.routes.map(\.method) == ["POST"])
    }
}
