import Foundation
import ProdamusConnector

/// Payment notifications as Prodamus sends them (field order of a real capture, urlencoded,
/// `Sign` header), signed with the connector's own signing code.
enum ProdamusWebhooks {
    static let secret = "bench-secret-key"
    static let path = "/hooks/prodamus"

    /// The fields of one successful payment of our order `orderNum`; `orderID` is Prodamus' id.
    static func fields(orderID: String, orderNum: String) -> PHPArray {
        [
            "date": "2026-11-28T12:00:00+03:00",
            "order_id": .string(orderID),
            "order_num": .string(orderNum),
            "domain": "shop.payform.ru",
            "sum": "3000.00",
            "currency": "rub",
            "customer_phone": "+79991234567",
            "customer_email": "client@example.ru",
            "customer_extra": "",
            "payment_type": "Пластиковая карта Visa, MasterCard, МИР",
            "commission": "3.5",
            "commission_sum": "105.00",
            "attempt": "1",
            "discount_value": "0.00",
            "products": ["0": ["name": "Сеанс", "price": "3000.00", "quantity": "1", "sum": "3000.00"]],
            "payment_status": "success",
            "payment_status_description": "Успешная оплата",
            "payment_init": "manual",
        ]
    }

    /// A complete keep-alive request for one notification.
    static func request(orderID: String, orderNum: String) -> [UInt8] {
        let data = fields(orderID: orderID, orderNum: orderNum)
        return RequestFeed.request(method: "POST", path: path, headers: [
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Sign", ProdamusSignature.sign(data, secret: secret)),
            ("User-Agent", "hub-bench"),
        ], body: Array(PHPForm.buildQuery(data).utf8))
    }

    /// `count` distinct notifications (order ids `TAG-0`, `TAG-1`, …), signed on all cores.
    static func requests(count: Int, tag: String, orderNum: @escaping @Sendable (Int) -> String = { "bench-\($0)" }) -> [[UInt8]] {
        let parts = max(1, ProcessInfo.processInfo.activeProcessorCount)
        let chunks = (0..<parts).map { part in stride(from: part, to: count, by: parts) }
        var out = [[UInt8]](repeating: [], count: count)
        out.withUnsafeMutableBufferPointer { buffer in
            nonisolated(unsafe) let buffer = buffer
            DispatchQueue.concurrentPerform(iterations: parts) { part in
                for index in chunks[part] { buffer[index] = request(orderID: "\(tag)-\(index)", orderNum: orderNum(index)) }
            }
        }
        return out
    }
}
