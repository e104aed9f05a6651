import Flows
import Foundation
import Logging

extension ProdamusConnector {
    /// Answers to Prodamus. Anything but 200 makes it retry (up to 23 times over ~3 days), so
    /// 400 goes only to requests that will never verify and 503 to what may work later.
    enum WebhookAnswer {
        static let success = WebhookResponse(status: 200, body: "success")
        static let missingSignature = WebhookResponse(status: 400, body: "error: missing signature")
        static let wrongSignature = WebhookResponse(status: 400, body: "error: wrong signature")
        static let emptyData = WebhookResponse(status: 400, body: "error: empty data")
        static let malformed = WebhookResponse(status: 400, body: "error: malformed form body")
        static let unsupportedType = WebhookResponse(status: 415, body: "error: send notifications as a form (urlencoded or multipart)")
        static let unavailable = WebhookResponse(status: 503, body: "error: temporarily unavailable, retry later")
    }

    /// Verifies, stores and acknowledges one notification (persist, then acknowledge).
    ///
    /// The signature is checked over the body as PHP decodes it into `$_POST`; a body that
    /// fails stores nothing. One signed with the demo key (`secret_key + "demo"`, Prodamus'
    /// system-side demo payments) is acknowledged and logged, but grants nothing.
    func handleWebhook(_ request: WebhookRequest) async -> WebhookResponse {
        let logger = services.logger
        // Metadata goes with each message rather than into the logger: setting it re-renders
        // the handler's metadata on every webhook, logged or not.
        var metadata: Logger.Metadata = ["webhook.path": "\(webhookPath)"]
        let data: PHPArray
        switch Self.decodeForm(request) {
        case .success(let decoded):
            data = decoded
        case .failure(let failure):
            let answer = failure.answer
            metadata["http.status"] = "\(answer.status)"
            metadata["reason"] = "\(answer.body)"
            logger.warning("prodamus webhook refused: unreadable body", metadata: metadata)
            return answer
        }
        guard let signature = Self.header("sign", in: request.headers)?.trimmed, !signature.isEmpty else {
            logger.warning("prodamus webhook refused: no Sign header", metadata: metadata)
            return WebhookAnswer.missingSignature
        }
        guard !data.isEmpty else {
            logger.warning("prodamus webhook refused: empty data", metadata: metadata)
            return WebhookAnswer.emptyData
        }
        let orderID = data.string("order_id") ?? ""
        let paymentStatus = data.string("payment_status") ?? ""
        metadata["prodamus.order_id"] = "\(orderID)"
        metadata["prodamus.payment_status"] = "\(paymentStatus)"
        guard ProdamusSignature.verify(data, secret: secretKey, signature: signature) else {
            if ProdamusSignature.verify(data, secret: secretKey + "demo", signature: signature) {
                metadata["prodamus.order_num"] = "\(data.string("order_num") ?? "")"
                logger.notice("prodamus demo notification acknowledged; nothing granted", metadata: metadata)
                return WebhookAnswer.success
            }
            logger.warning("prodamus webhook refused: wrong signature", metadata: metadata)
            return WebhookAnswer.wrongSignature
        }

        let events = Self.events(for: data, instance: services.instance)
        do {
            // Both events in one go: one wait for the database, not one each.
            let outcomes = try await services.events.emit(events)
            if logger.logLevel <= .debug {
                for (event, outcome) in zip(events, outcomes) {
                    logger.debug("prodamus notification stored",
                                 metadata: metadata.merging(["event.trigger": "\(event.trigger)", "event.outcome": "\(outcome)"]) { _, new in new })
                }
            }
        } catch {
            // Not stored: a non-200 answer makes Prodamus deliver it again later.
            metadata["error"] = "\(error)"
            logger.error("prodamus notification not stored; asking Prodamus to retry", metadata: metadata)
            return WebhookAnswer.unavailable
        }
        return WebhookAnswer.success
    }

    /// The events one verified notification raises: `paid` for a successful payment of one
    /// of our orders (before `notification`, so a retry after a failure completes both) and
    /// `notification` always.
    static func events(for data: PHPArray, instance: String) -> [IncomingEvent] {
        let payload = data.flowValue
        let orderID = data.string("order_id") ?? ""
        let orderNum = data.string("order_num") ?? ""
        let paymentStatus = data.string("payment_status") ?? ""
        let subscription = data.array("subscription")
        // Prodamus' identity of a payment; `attempt` changes between deliveries, so it stays out.
        let paymentKey = "\(orderID):\(paymentStatus)"
        var events: [IncomingEvent] = []
        // Our links carry our order number, which comes back as order_num. Without it the payment
        // is not one of ours (another page of the same payform, a subscription auto-charge), and
        // subscription actions carry order_id 0: none is a payment to grant access for.
        let isOurPayment = !orderID.isEmpty && orderID != "0" && !orderNum.isEmpty
        if paymentStatus == "success" && isOurPayment {
            events.append(IncomingEvent(instance: instance, trigger: paidTrigger, payload: payload, dedupKey: paymentKey))
        }
        var notificationKey = paymentKey
        if let subscription {
            // §2.1: subscriptions are identified by id + profile_id + payment_num; the kind of
            // action and its date tell a deactivation from a later reactivation of one charge.
            let parts = ["id", "profile_id", "payment_num", "type", "action_code", "notification_code"].map { subscription.string($0) ?? "" }
            notificationKey += ":" + (parts + [data.string("date") ?? ""]).joined(separator: ":")
        }
        events.append(IncomingEvent(instance: instance, trigger: notificationTrigger, payload: payload, dedupKey: notificationKey))
        return events
    }

    /// Decodes the body as PHP fills `$_POST`: multipart with the content type's boundary,
    /// otherwise urlencoded (what Prodamus sends in practice, also when the type is missing).
    static func decodeForm(_ request: WebhookRequest) -> Result<PHPArray, WebhookFailure> {
        let contentType = header("content-type", in: request.headers) ?? ""
        let lowered = contentType.lowercased()
        if lowered.hasPrefix("multipart/form-data") {
            guard let boundary = PHPForm.multipartBoundary(contentType: contentType),
                  let data = try? PHPForm.parse(multipart: request.body, boundary: boundary) else {
                return .failure(WebhookFailure(WebhookAnswer.malformed))
            }
            return .success(data)
        }
        if lowered.hasPrefix("application/json") { return .failure(WebhookFailure(WebhookAnswer.unsupportedType)) }
        return .success(PHPForm.parse(urlencoded: request.body))
    }

    /// A header by name, ignoring case (the hub lowercases names; other callers may not).
    static func header(_ name: String, in headers: [String: String]) -> String? {
        if let value = headers[name] { return value }
        return headers.first { $0.key.lowercased() == name }?.value
    }
}

/// A webhook that cannot be read, with the answer it gets.
struct WebhookFailure: Error {
    let answer: WebhookResponse
    init(_ answer: WebhookResponse) { self.answer = answer }
}
