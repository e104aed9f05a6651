import Emulators
import Flows
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Hummingbird
import Testing
@testable import ProdamusConnector

/// The whole payment as a buyer lives it: the connector's link opens the emulated payment
/// page, "Оплатить" makes the emulator post a signed notification to the connector's route
/// (mounted on a loopback server) and sends the browser back to `urlSuccess`.
@Suite("Prodamus emulator end to end")
struct ProdamusEmulatorTests {
    static let secret = "emulator-shop-secret"

    /// The emulator and a receiving app on 127.0.0.1: the connector's webhook plus a `/success` page.
    struct Setup {
        let emulator: ProdamusEmulator
        let payform: EmulatorServer
        let hub: EmulatorServer
        let sink: RecordingEventSink
        let prodamus: ProdamusConnector

        static func start() async throws -> Setup {
            let emulator = ProdamusEmulator(secretKey: ProdamusEmulatorTests.secret, retryDelay: .milliseconds(10))
            let payform = try await EmulatorServer.start(emulator.router(), name: "prodamus")
            let sink = RecordingEventSink()
            // The hub's address is only known once it listens; the route reads its path only.
            let routeOwner = try makeProdamus(secret: ProdamusEmulatorTests.secret, sink: sink)
            let router = Router()
            for route in routeOwner.routes {
                let handler = route.handler
                router.post(RouterPath(route.path)) { request, _ -> Response in
                    var headers: [String: String] = [:]
                    for field in request.headers { headers[field.name.canonicalName] = field.value }
                    let body = try await request.body.collect(upTo: 1 << 20)
                    let answer = await handler(WebhookRequest(headers: headers, body: Array(buffer: body)))
                    return Response(status: .init(code: answer.status), body: .init(byteBuffer: ByteBuffer(string: answer.body)))
                }
            }
            router.get("/success") { _, _ in "спасибо" }
            let hub = try await EmulatorServer.start(router, name: "hub")
            let prodamus = try makeProdamus(secret: ProdamusEmulatorTests.secret, formURL: payform.baseURL + "/",
                                            config: ["sys": "hub"], sink: sink, publicURL: hub.baseURL)
            return Setup(emulator: emulator, payform: payform, hub: hub, sink: sink, prodamus: prodamus)
        }

        func stop() async {
            await payform.stop()
            await hub.stop()
        }

        func link(order: String, product: String = "Сеанс 60 минут") async throws -> String {
            let result = try await call(prodamus, "payment_link", [
                "order_id": .string(order), "customer_phone": "+79990000000", "customer_email": "ann@example.ru",
                "product_name": .string(product), "price": "3000.00", "success_url": .string(hub.baseURL + "/success"),
                "return_url": "https://hub.example/",
            ])
            return try #require(result["url"]?.stringValue)
        }
    }

    static func get(_ url: String) async throws -> (status: Int, body: String, url: String) {
        let (data, response) = try await URLSession.shared.data(from: try #require(URL(string: url)))
        let http = try #require(response as? HTTPURLResponse)
        return (http.statusCode, String(decoding: data, as: UTF8.self), http.url?.absoluteString ?? "")
    }

    /// Presses "Оплатить": posts the page's hidden `query` field to `/pay`, following the redirect.
    static func pay(_ setup: Setup, link: String) async throws -> (status: Int, body: String, url: String) {
        let query = String(try #require(link.split(separator: "?", maxSplits: 1).last))
        var request = URLRequest(url: try #require(URL(string: setup.payform.baseURL + "/pay")))
        request.httpMethod = "POST"
        request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(("query=" + PHPForm.urlEncode(Array(query.utf8))).utf8)
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = try #require(response as? HTTPURLResponse)
        return (http.statusCode, String(decoding: data, as: UTF8.self), http.url?.absoluteString ?? "")
    }

    @Test func buyerPaysAndTheHubReceivesAVerifiedPaidEvent() async throws {
        let setup = try await Setup.start()
        do {
            let link = try await setup.link(order: "ord-42")
            let page = try await Self.get(link)
            #expect(page.status == 200)
            #expect(page.body.contains("Оплатить"))
            #expect(page.body.contains("Сеанс 60 минут"))
            #expect(page.body.contains("3000.00"))
            #expect(page.body.contains("ord-42"))
            #expect(page.body.contains("href=\"https://hub.example/\">Отказаться"))
            #expect(setup.sink.events.isEmpty, "showing the page pays nothing")

            let paid = try await Self.pay(setup, link: link)
            #expect(paid.status == 200)
            #expect(paid.body == "спасибо")
            #expect(paid.url.hasPrefix(setup.hub.baseURL + "/success?_payform_status=success&_payform_id="))
            #expect(paid.url.contains("&_payform_order_id=ord-42&_payform_sign="))

            let sent = try #require(setup.emulator.webhooksSent.first)
            #expect(setup.emulator.webhooksSent.count == 1)
            #expect(sent.url == setup.hub.baseURL + "/hooks/prodamus")
            #expect(sent.status == 200)
            // The connector's own implementation agrees with the emulator's signature.
            let body = PHPForm.parse(urlencoded: Array(sent.body.utf8))
            #expect(ProdamusSignature.verify(body, secret: Self.secret, signature: sent.signature))

            let event = try #require(setup.sink.events("paid").first)
            #expect(event.payload["order_num"] == "ord-42")
            #expect(event.payload["sum"] == "3000.00")
            #expect(event.payload["sys"] == "hub")
            #expect(event.payload["products"]?["0"]?["name"] == "Сеанс 60 минут")
            let prodamusID = try #require(event.payload["order_id"]?.stringValue)
            #expect(paid.url.contains("_payform_id=\(prodamusID)&"))
            #expect(event.dedupKey == "\(prodamusID):success")
            #expect(setup.sink.events("notification").count == 1)

            // A resend from the LK: attempt 2, the same event, acknowledged once more.
            #expect(await setup.emulator.resend(orderID: "ord-42") == 200)
            #expect(setup.emulator.webhooksSent.last?.body.contains("attempt=2") == true)
            #expect(setup.sink.events.count == 2)
            #expect(setup.sink.duplicates == 2)

            // A demo-signed ping is answered 200 and grants nothing.
            #expect(await setup.emulator.sendDemoPing(to: setup.hub.baseURL + "/hooks/prodamus") == 200)
            #expect(setup.sink.events.count == 2)
        } catch {
            await setup.stop()
            throw error
        }
        await setup.stop()
    }

    @Test func tamperedLinkIsRefusedAndNothingIsPaid() async throws {
        let setup = try await Setup.start()
        do {
            let link = try await setup.link(order: "ord-7")
            let tampered = link.replacingOccurrences(of: "3000.00", with: "1.00")
            let page = try await Self.get(tampered)
            #expect(page.status == 400)
            #expect(page.body.contains("Ошибка подписи передаваемых данных"))
            let pay = try await Self.pay(setup, link: tampered)
            #expect(pay.status == 400)
            #expect(setup.emulator.webhooksSent.isEmpty)
            #expect(setup.sink.events.isEmpty)
        } catch {
            await setup.stop()
            throw error
        }
        await setup.stop()
    }

    @Test func pageEscapesWhatTheLinkCarries() async throws {
        let setup = try await Setup.start()
        do {
            let link = try await setup.link(order: "<b>1</b>", product: "<script>alert(\"x\")</script> & 'co'")
            let page = try await Self.get(link)
            #expect(page.status == 200)
            #expect(!page.body.contains("<script>"))
            #expect(page.body.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;co&#39;"))
            #expect(page.body.contains("&lt;b&gt;1&lt;/b&gt;"))
        } catch {
            await setup.stop()
            throw error
        }
        await setup.stop()
    }

    /// While the hub cannot store the notification it answers 503; the emulator retries with
    /// the next attempt number, and a later resend is stored once.
    @Test func unavailableHubGetsRetriesThenTheResendIsStored() async throws {
        let setup = try await Setup.start()
        do {
            setup.sink.setFailing(true)
            let link = try await setup.link(order: "ord-9")
            let paid = try await Self.pay(setup, link: link)
            #expect(paid.status == 200)
            #expect(setup.emulator.webhooksSent.map(\.status) == [503, 503, 503])
            let attempts = setup.emulator.webhooksSent.map { PHPForm.parse(urlencoded: Array($0.body.utf8)).string("attempt") }
            #expect(attempts == ["1", "2", "3"])
            #expect(setup.sink.events.isEmpty)

            setup.sink.setFailing(false)
            #expect(await setup.emulator.resend(orderID: "ord-9") == 200)
            #expect(setup.emulator.webhooksSent.last?.body.contains("attempt=4") == true)
            #expect(setup.sink.events("paid").map { $0.payload["order_num"] } == ["ord-9"])
        } catch {
            await setup.stop()
            throw error
        }
        await setup.stop()
    }
}
