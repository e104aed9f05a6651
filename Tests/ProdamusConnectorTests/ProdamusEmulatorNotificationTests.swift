import Emulators
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Hummingbird
import Synchronization
import Testing
@testable import ProdamusConnector

/// Where the emulated Prodamus sends a payment's notification, and what the buyer is sent back
/// with: as reference §1.4 and §2.1 describe the real service.
@Suite("Prodamus emulator notifications", .timeLimit(.minutes(1)))
struct ProdamusEmulatorNotificationTests {
    static let secret = ProdamusEmulatorHostileLinkTests.secret

    /// A shop's server that answers 200 to every notification and remembers which path got it.
    final class Receiver: Sendable {
        private let paths = Mutex<[String]>([])
        var received: [String] { paths.withLock { $0 } }

        func router() -> Router<BasicRequestContext> {
            let router = Router()
            router.post("{hook}") { _, context -> Response in
                let hook = context.parameters.get("hook") ?? ""
                self.paths.withLock { $0.append("/" + hook) }
                return Response(status: .ok)
            }
            return router
        }
    }

    static func withShop(_ body: (Receiver, String) async throws -> Void) async throws {
        let receiver = Receiver()
        let server = try await EmulatorServer.start(receiver.router(), name: "shop")
        do {
            try await body(receiver, server.baseURL)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    static let product = "order_id=ord-5&products[0][name]=X&products[0][price]=10.00"

    /// Without `sys` the link's urlNotification is not honoured, and a shop whose LK names no URL hears nothing.
    @Test func urlNotificationWithoutSysIsIgnored() async throws {
        try await Self.withShop { shop, shopURL in
            try await ProdamusEmulatorHostileLinkTests.withPage { emulator, base in
                let link = ProdamusEmulatorHostileLinkTests.signed(Self.product + "&urlNotification=" + PHPForm.urlEncode(Array((shopURL + "/link").utf8)))
                let paid = try await ProdamusEmulatorHostileLinkTests.pay(base, link: link)
                #expect(paid.status == 200)
                #expect(emulator.webhooksSent.isEmpty)
                #expect(shop.received.isEmpty)
            }
        }
    }

    /// A shop whose LK names two URLs gets the notification at both; a URL the LK names later
    /// gets the resend.
    @Test func withoutSysTheLKsURLsAreNotified() async throws {
        try await Self.withShop { shop, shopURL in
            let emulator = ProdamusEmulator(secretKey: Self.secret, notificationURLs: [shopURL + "/lk-a", shopURL + "/lk-b"])
            try await ProdamusEmulatorHostileLinkTests.withPage(emulator) { emulator, base in
                let link = ProdamusEmulatorHostileLinkTests.signed(Self.product + "&urlNotification=" + PHPForm.urlEncode(Array((shopURL + "/link").utf8)))
                let paid = try await ProdamusEmulatorHostileLinkTests.pay(base, link: link)
                #expect(paid.status == 200)
                #expect(shop.received == ["/lk-a", "/lk-b"])
                #expect(emulator.webhooksSent.map(\.status) == [200, 200])
                let signed = emulator.webhooksSent.allSatisfy {
                    ProdamusSignature.verify(PHPForm.parse(urlencoded: Array($0.body.utf8)), secret: Self.secret, signature: $0.signature)
                }
                #expect(signed)

                emulator.notificationURLs = [shopURL + "/lk-c"]
                #expect(await emulator.resend(orderID: "ord-5") == 200)
                #expect(shop.received == ["/lk-a", "/lk-b", "/lk-c"])
            }
        }
    }

    /// With `sys`, the link's urlNotification replaces the LK's URLs.
    @Test func withSysTheLinksURLNotificationIsNotified() async throws {
        try await Self.withShop { shop, shopURL in
            let emulator = ProdamusEmulator(secretKey: Self.secret, notificationURLs: [shopURL + "/lk-a"])
            try await ProdamusEmulatorHostileLinkTests.withPage(emulator) { emulator, base in
                let link = ProdamusEmulatorHostileLinkTests.signed(Self.product + "&sys=hub&urlNotification="
                                                                   + PHPForm.urlEncode(Array((shopURL + "/link").utf8)))
                let paid = try await ProdamusEmulatorHostileLinkTests.pay(base, link: link)
                #expect(paid.status == 200)
                #expect(shop.received == ["/link"])
                let fields = PHPForm.parse(urlencoded: Array((emulator.webhooksSent.first?.body ?? "").utf8))
                #expect(fields.string("sys") == "hub")
                #expect(fields.string("order_num") == "ord-5")
            }
        }
    }

    /// `_payform_sign` is `Hmac::create` over the other `_payform_*` parameters with the page's key,
    /// as the OpenCart module that checks it computes it.
    @Test func theSuccessRedirectIsSigned() async throws {
        try await ProdamusEmulatorHostileLinkTests.withPage { _, base in
            let link = ProdamusEmulatorHostileLinkTests.signed(Self.product + "&urlSuccess=https%3A%2F%2Fshop.example%2Fok%3Fx%3D1")
            var request = URLRequest(url: try #require(URL(string: base + "/pay")))
            request.httpMethod = "POST"
            request.httpBody = Data(("query=" + PHPForm.urlEncode(Array(link.utf8))).utf8)
            let (_, response) = try await ProdamusEmulatorHostileLinkTests.noRedirects.data(for: request)
            let location = try #require((response as? HTTPURLResponse)?.value(forHTTPHeaderField: "Location"))
            #expect(location.hasPrefix("https://shop.example/ok?x=1&_payform_status=success&_payform_id="))
            let query = try #require(URLComponents(string: location)?.queryItems)
            let payform = query.filter { $0.name.hasPrefix("_payform_") && $0.name != "_payform_sign" }
            #expect(payform.map(\.name) == ["_payform_status", "_payform_id", "_payform_order_id"])
            let data = PHPArray(payform.map { (PHPKey($0.name), PHPValue.string($0.value ?? "")) })
            let sign = try #require(query.first { $0.name == "_payform_sign" }?.value)
            #expect(ProdamusSignature.verify(data, secret: Self.secret, signature: sign))
        }
    }
}
