import Flows
import Foundation
import Testing
@testable import ProdamusConnector

/// The webhook route called directly, as the hub's server calls it, with a recording sink
/// standing in for the hub's intake.
@Suite("prodamus webhook")
struct ProdamusWebhookTests {
    static let urlencoded = ["content-type": "application/x-www-form-urlencoded"]

    /// A signed notification body for `data`, urlencoded like Prodamus' `http_build_query`.
    static func request(_ data: PHPArray, secret: String = prodamusDemoSecret, signature: String? = nil,
                        headerName: String = "sign") -> WebhookRequest
    {
        var headers = urlencoded
        headers[headerName] = signature ?? ProdamusSignature.sign(data, secret: secret)
        return WebhookRequest(headers: headers, body: Array(PHPForm.buildQuery(data).utf8))
    }

    static func post(_ prodamus: ProdamusConnector, _ request: WebhookRequest) async throws -> WebhookResponse {
        let route = try #require(prodamus.routes.first)
        return await route.handler(request)
    }

    /// A one-off payment notification like the official example (reference §2.2).
    static func payment(orderID: String = "300155", orderNum: String = "ord-1", status: String = "success", attempt: String = "1") -> PHPArray {
        var data: PHPArray = [
            "date": "2020-07-27T12:31:01+03:00", "order_id": .string(orderID), "order_num": .string(orderNum),
            "domain": "demo.payform.ru", "sum": "3000.00", "currency": "rub", "customer_phone": "+79999999999",
            "customer_email": "test@domain.ru", "customer_extra": "", "payment_type": "Пластиковая карта Visa, MasterCard, МИР",
            "commission": "3.5", "commission_sum": "105.00", "attempt": .string(attempt), "sys": "hub",
        ]
        data["products"] = [["name": "Сеанс 60 минут", "price": "3000.00", "quantity": "1", "sum": "3000.00"]]
        data["payment_status"] = .string(status)
        data["payment_status_description"] = status == "success" ? "Успешная оплата" : "Заказ отменён"
        return data
    }

    /// One `multipart/form-data` part per leaf field, in order.
    static func multipart(_ data: PHPArray, boundary: String) -> [UInt8] {
        func fields(_ array: PHPArray, prefix: String?) -> [(String, String)] {
            array.entries.flatMap { entry -> [(String, String)] in
                let name = prefix.map { "\($0)[\(entry.key)]" } ?? entry.key.description
                switch entry.value {
                case .string(let text): return [(name, text)]
                case .array(let inner): return fields(inner, prefix: name)
                }
            }
        }
        var body = ""
        for (name, value) in fields(data, prefix: nil) {
            body += "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n"
        }
        return Array((body + "--\(boundary)--\r\n").utf8)
    }

    @Test(arguments: try ProdamusVectorFixture.load())
    func referenceVectorsAreAcceptedUrlencoded(_ vector: ProdamusSignatureVector) async throws {
        let sink = RecordingEventSink()
        let prodamus = try makeProdamus(secret: vector.secret, sink: sink)
        let body = vector.body ?? PHPForm.buildQuery(vector.data)
        let response = try await Self.post(prodamus, WebhookRequest(headers: Self.urlencoded.merging(["sign": vector.sign]) { $1 },
                                                                    body: Array(body.utf8)))
        #expect(response.status == 200)
        #expect(response.body == "success")
        let notification = try #require(sink.events("notification").first)
        #expect(notification.instance == "prodamus")
        #expect(notification.payload == vector.data.flowValue)
    }

    @Test(arguments: try ProdamusVectorFixture.load())
    func referenceVectorsAreAcceptedAsMultipart(_ vector: ProdamusSignatureVector) async throws {
        let sink = RecordingEventSink()
        let prodamus = try makeProdamus(secret: vector.secret, sink: sink)
        let boundary = "----prodamus\(vector.name.count)"
        let request = WebhookRequest(headers: ["content-type": "multipart/form-data; boundary=\(boundary)", "sign": vector.sign],
                                     body: Self.multipart(vector.data, boundary: boundary))
        let response = try await Self.post(prodamus, request)
        #expect(response.status == 200)
        #expect(sink.events("notification").count == 1)
    }

    @Test func officialExampleRaisesPaidWithOurOrderNumber() async throws {
        let vector = try #require(try ProdamusVectorFixture.load().first { $0.name.hasPrefix("1 ") })
        let sink = RecordingEventSink()
        let prodamus = try makeProdamus(secret: vector.secret, sink: sink)
        let response = try await Self.post(prodamus, WebhookRequest(headers: Self.urlencoded.merging(["sign": vector.sign]) { $1 },
                                                                    body: Array(try #require(vector.body).utf8)))
        #expect(response.status == 200)
        #expect(sink.events.map(\.trigger) == ["paid", "notification"])
        let paid = try #require(sink.events("paid").first)
        #expect(paid.dedupKey == "300155:success")
        #expect(paid.payload["order_num"] == "test")
        #expect(paid.payload["order_id"] == "300155")
        #expect(paid.payload["customer_extra"] == "тест")
        // products: PHP's nested data becomes a list of objects, every leaf a string.
        #expect(paid.payload["products"] == [["name": "Доступ в клуб \"Девелопер клаб\"", "price": "100.00", "quantity": "1", "sum": "100.00"]])
    }

    @Test func signatureHeaderIsCaseInsensitiveTrimmedAndAnyHexCase() async throws {
        let sink = RecordingEventSink()
        let prodamus = try makeProdamus(sink: sink)
        let data = Self.payment()
        let signature = "  " + ProdamusSignature.sign(data, secret: prodamusDemoSecret).uppercased() + "\r\n"
        let response = try await Self.post(prodamus, Self.request(data, signature: signature, headerName: "Sign"))
        #expect(response.status == 200)
        #expect(sink.events("paid").count == 1)
    }

    @Test func reorderedFieldsStillVerify() async throws {
        let sink = RecordingEventSink()
        let prodamus = try makeProdamus(sink: sink)
        let data = Self.payment()
        let signature = ProdamusSignature.sign(data, secret: prodamusDemoSecret)
        let reversed = PHPForm.buildQuery(data).split(separator: "&").reversed().joined(separator: "&")
        let response = try await Self.post(prodamus, WebhookRequest(headers: Self.urlencoded.merging(["sign": signature]) { $1 },
                                                                    body: Array(reversed.utf8)))
        #expect(response.status == 200)
        #expect(sink.events("paid").first?.payload["order_num"] == "ord-1")
    }

    @Test func forgedTruncatedOrMissingSignatureIsRefusedAndStoresNothing() async throws {
        let sink = RecordingEventSink()
        let prodamus = try makeProdamus(sink: sink)
        let data = Self.payment()
        let good = ProdamusSignature.sign(data, secret: prodamusDemoSecret)
        var tampered = data
        tampered["sum"] = "1.00"
        let cases: [(WebhookRequest, String)] = [
            (Self.request(data, signature: String(repeating: "0", count: 64)), "error: wrong signature"),
            (Self.request(data, signature: String(good.dropLast(2))), "error: wrong signature"),
            (Self.request(data, signature: good + "00"), "error: wrong signature"),
            (Self.request(data, secret: "another-shop"), "error: wrong signature"),
            (Self.request(tampered, signature: good), "error: wrong signature"),
            (WebhookRequest(headers: Self.urlencoded, body: Array(PHPForm.buildQuery(data).utf8)), "error: missing signature"),
            (Self.request(data, signature: "   "), "error: missing signature"),
            (WebhookRequest(headers: Self.urlencoded.merging(["sign": good]) { $1 }, body: []), "error: empty data"),
        ]
        for (request, answer) in cases {
            let response = try await Self.post(prodamus, request)
            #expect(response.status == 400)
            #expect(response.body == answer)
            #expect(!response.body.contains(prodamusDemoSecret))
        }
        #expect(sink.events.isEmpty)
    }

    @Test func unreadableBodiesAreRefused() async throws {
        let sink = RecordingEventSink()
        let prodamus = try makeProdamus(sink: sink)
        let noBoundary = try await Self.post(prodamus, WebhookRequest(headers: ["content-type": "multipart/form-data", "sign": "ab"], body: Array("x".utf8)))
        #expect(noBoundary.status == 400)
        let wrongBoundary = try await Self.post(prodamus, WebhookRequest(headers: ["content-type": "multipart/form-data; boundary=zz", "sign": "ab"],
                                                                          body: Self.multipart(Self.payment(), boundary: "yy")))
        #expect(wrongBoundary.status == 400)
        let json = try await Self.post(prodamus, WebhookRequest(headers: ["content-type": "application/json", "sign": "ab"], body: Array("{}".utf8)))
        #expect(json.status == 415)
        #expect(sink.events.isEmpty)
    }

    /// Reference §3.3: Prodamus signs system-side demo payments with `secret + "demo"`.
    @Test func demoSignedNotificationIsAcknowledgedButGrantsNothing() async throws {
        let sink = RecordingEventSink()
        let prodamus = try makeProdamus(sink: sink)
        let response = try await Self.post(prodamus, Self.request(Self.payment(), secret: prodamusDemoSecret + "demo"))
        #expect(response.status == 200)
        #expect(response.body == "success")
        #expect(sink.events.isEmpty)
    }

    @Test("a successful payment without our order number (another page of the payform) is a notification, not paid")
    func paymentWithoutOurOrderIsNotPaid() async throws {
        let sink = RecordingEventSink()
        let prodamus = try makeProdamus(sink: sink)
        let response = try await Self.post(prodamus, Self.request(Self.payment(orderNum: "")))
        #expect(response.status == 200)
        #expect(sink.events("paid").isEmpty)
        #expect(sink.events("notification").count == 1)
    }

    @Test func cancelledPaymentIsANotificationButNotPaid() async throws {
        let sink = RecordingEventSink()
        let prodamus = try makeProdamus(sink: sink)
        let response = try await Self.post(prodamus, Self.request(Self.payment(status: "order_canceled")))
        #expect(response.status == 200)
        #expect(sink.events("paid").isEmpty)
        let notification = try #require(sink.events("notification").first)
        #expect(notification.payload["payment_status"] == "order_canceled")
        #expect(notification.dedupKey == "300155:order_canceled")
    }

    @Test func retryWithAnotherAttemptIsTheSameEvent() async throws {
        let sink = RecordingEventSink()
        let prodamus = try makeProdamus(sink: sink)
        let first = try await Self.post(prodamus, Self.request(Self.payment(attempt: "1")))
        let second = try await Self.post(prodamus, Self.request(Self.payment(attempt: "2")))
        #expect(first.status == 200)
        #expect(second.status == 200)
        #expect(sink.events.map(\.trigger) == ["paid", "notification"])
        #expect(sink.duplicates == 2)
        #expect(sink.events("paid").first?.payload["attempt"] == "1")
    }

    @Test func sinkFailureAsksProdamusToRetry() async throws {
        let sink = RecordingEventSink()
        let prodamus = try makeProdamus(sink: sink)
        sink.setFailing(true)
        let down = try await Self.post(prodamus, Self.request(Self.payment()))
        #expect(down.status == 503)
        #expect(sink.events.isEmpty)
        sink.setFailing(false)
        let retried = try await Self.post(prodamus, Self.request(Self.payment(attempt: "2")))
        #expect(retried.status == 200)
        #expect(sink.events.map(\.trigger) == ["paid", "notification"])
    }

    /// Reference §2.3: an auto-charge has no order of ours (empty order_num); subscription
    /// actions carry order_id 0. Both are notifications, never `paid`.
    @Test func subscriptionWebhooksAreNotificationsKeyedBySubscription() async throws {
        let vector = try #require(try ProdamusVectorFixture.load().first { $0.name.hasPrefix("2 ") })
        let sink = RecordingEventSink()
        let prodamus = try makeProdamus(secret: vector.secret, sink: sink)
        let response = try await Self.post(prodamus, Self.request(vector.data, secret: vector.secret))
        #expect(response.status == 200)
        #expect(sink.events("paid").isEmpty)
        let notification = try #require(sink.events("notification").first)
        #expect(notification.payload["subscription"]?["id"] == "593600")
        #expect(notification.payload["subscription"]?["action_code"] == "auto_payment")
        // The doc example has no profile_id: that part of the key stays empty.
        #expect(notification.dedupKey == "300169::593600::2:action:auto_payment::2020-07-27T12:36:02+03:00")

        var deactivation: PHPArray = ["order_id": "0", "order_num": "", "sum": "100.00", "payment_status": "success", "date": "2020-08-01T10:00:00+03:00"]
        deactivation["subscription"] = ["id": "1", "profile_id": "77", "type": "action", "action_code": "deactivation", "payment_num": "2"]
        var reactivation = deactivation
        reactivation["subscription"] = ["id": "1", "profile_id": "77", "type": "action", "action_code": "reactivation", "payment_num": "2"]
        #expect(try await Self.post(prodamus, Self.request(deactivation, secret: vector.secret)).status == 200)
        #expect(try await Self.post(prodamus, Self.request(reactivation, secret: vector.secret)).status == 200)
        #expect(sink.events("paid").isEmpty)
        #expect(sink.events("notification").count == 3)
    }
}
