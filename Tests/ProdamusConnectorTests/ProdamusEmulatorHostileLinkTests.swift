import Emulators
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
@testable import ProdamusConnector

/// The payment page runs inside the sandbox hub, so whatever a link carries, signed or not,
/// it must answer: a page or a 400, never a crash.
@Suite("Prodamus emulator hostile links", .timeLimit(.minutes(1)))
struct ProdamusEmulatorHostileLinkTests {
    /// The sandbox's secret is public, so anyone can sign any link with it.
    static let secret = "public-sandbox-key"

    /// `query` with its `signature`, made by the connector's own implementation.
    static func signed(_ query: String) -> String {
        query + "&signature=" + ProdamusSignature.sign(PHPForm.parse(urlencoded: Array(query.utf8)), secret: secret)
    }

    static func withPage(_ emulator: ProdamusEmulator = ProdamusEmulator(secretKey: secret, deliveryAttempts: 1),
                         _ body: (ProdamusEmulator, String) async throws -> Void) async throws {
        let server = try await EmulatorServer.start(emulator.router(), name: "prodamus")
        do {
            try await body(emulator, server.baseURL)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    static func get(_ base: String, query: String) async throws -> (status: Int, body: String) {
        let (data, response) = try await URLSession.shared.data(from: try #require(URL(string: base + "/?" + query)))
        return (try #require(response as? HTTPURLResponse).statusCode, String(decoding: data, as: UTF8.self))
    }

    /// Posts `body` to `/pay` as the page's form would, without following a redirect.
    static let noRedirects = URLSession(configuration: .ephemeral, delegate: NoRedirects(), delegateQueue: nil)

    static func pay(_ base: String, body: String) async throws -> (status: Int, body: String) {
        var request = URLRequest(url: try #require(URL(string: base + "/pay")))
        request.httpMethod = "POST"
        request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(body.utf8)
        let (data, response) = try await noRedirects.data(for: request)
        return (try #require(response as? HTTPURLResponse).statusCode, String(decoding: data, as: UTF8.self))
    }

    static func pay(_ base: String, link query: String) async throws -> (status: Int, body: String) {
        try await pay(base, body: "query=" + PHPForm.urlEncode(Array(query.utf8)))
    }

    @Test func anAppendAfterTheLargestIndexIsRefusedAsUnsigned() async throws {
        try await Self.withPage { _, base in
            let page = try await Self.get(base, query: "a%5B9223372036854775807%5D=1&a%5B%5D=2")
            #expect(page.status == 400)
            #expect(page.body.contains("Ссылка не подписана."))
            let pay = try await Self.pay(base, link: "a[9223372036854775807]=1&a[]=2")
            #expect(pay.status == 400)
        }
    }

    @Test func aHalfMillionLevelsDeepBodyIsRefused() async throws {
        try await Self.withPage { emulator, base in
            let pay = try await Self.pay(base, body: "query" + String(repeating: "[]", count: 500_000) + "=1")
            #expect(pay.status == 400)
            #expect(pay.body.contains("Ссылка не подписана."))
            #expect(emulator.webhooksSent.isEmpty)
        }
    }

    /// 170,000 pairs fit in the 1 MiB the page reads; PHP looks at the first 1000 only.
    @Test func aFloodOfPairsIsRefused() async throws {
        try await Self.withPage { _, base in
            let pay = try await Self.pay(base, body: Array(repeating: "a[]=1", count: 170_000).joined(separator: "&"))
            #expect(pay.status == 400)
            #expect(pay.body.contains("Ссылка не подписана."))
        }
    }

    @Test(arguments: [
        // Kopecks of the price alone overflow.
        "products[0][name]=X&products[0][price]=100000000000000000",
        "products[0][name]=X&products[0][price]=92233720368547758.08",
        // Price × quantity overflows.
        "products[0][name]=X&products[0][price]=1.00&products[0][quantity]=9223372036854775807",
        // Each line fits, their sum does not.
        "products[0][name]=X&products[0][price]=50000000000000000.00&products[1][name]=Y&products[1][price]=50000000000000000.00",
    ])
    func anAmountTooLargeToCountIsABadProduct(_ products: String) async throws {
        try await Self.withPage { emulator, base in
            let link = Self.signed("order_id=big&" + products)
            let page = try await Self.get(base, query: link.replacingOccurrences(of: "[", with: "%5B").replacingOccurrences(of: "]", with: "%5D"))
            #expect(page.status == 400)
            #expect(page.body.contains("Неверные данные товара"))
            let pay = try await Self.pay(base, link: link)
            #expect(pay.status == 400)
            #expect(pay.body.contains("Неверные данные товара"))
            #expect(emulator.webhooksSent.isEmpty)
        }
    }

    /// The largest order the page can count is paid, and its 3.5 % commission is exact.
    @Test func theLargestCountableOrderIsPaidWithAnExactCommission() async throws {
        try await Self.withPage { emulator, base in
            let link = Self.signed("order_id=max&products[0][name]=X&products[0][price]=92233720368547758.07"
                                   + "&sys=hub&urlNotification=http%3A%2F%2F127.0.0.1%3A9%2Fhook")
            let pay = try await Self.pay(base, link: link)
            #expect(pay.status == 200)
            let sent = try #require(emulator.webhooksSent.first)
            let fields = PHPForm.parse(urlencoded: Array(sent.body.utf8))
            #expect(fields.string("sum") == "92233720368547758.07")
            #expect(fields.string("commission_sum") == "3228180212899171.53")
        }
    }
}

/// Leaves redirects to the test: the page's answer is what is asserted.
final class NoRedirects: NSObject, URLSessionTaskDelegate, Sendable {
    func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                    newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void) {
        completionHandler(nil)
    }
}
