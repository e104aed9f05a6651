import Flows
import Foundation

extension WebConnector {
    /// The largest form body read; real forms are far smaller.
    static let maxFormBytes = 128 * 1024

    /// Checks the form; invalid input is shown again with the errors and changes nothing.
    /// A valid one starts the `web.form` flow and sends the browser where the flow says.
    func submit(_ request: WebhookRequest) async -> WebhookResponse {
        guard request.body.count <= WebConnector.maxFormBytes else {
            return page("problem", title: "Слишком большой запрос", status: 413, extra: ["message": "Форма слишком большая. Сократите текст в полях."])
        }
        let decoded = FormDecoding.decode(request.body)
        let fields = decoded.fields
        let form = RegistrationForm(fields, notUTF8: decoded.notUTF8)
        let consent = fields[RegistrationForm.Field.consent] != nil
        guard form.isValid, let phone = form.phone else {
            return landing(values: form.values, errors: form.errors, consent: consent, status: 422)
        }
        let payload: Value = [
            "full_name": .string(form.values[RegistrationForm.Field.fullName] ?? ""),
            "phone": .string(phone),
            "city": .string(form.values[RegistrationForm.Field.city] ?? ""),
            "email": .string(form.values[RegistrationForm.Field.email] ?? ""),
            "product_name": site[Key.productName] ?? "",
            "price": site[Key.price] ?? "",
            "currency": site[Key.currency] ?? "rub",
            "public_url": .string(services.publicURL),
        ]
        let event = IncomingEvent(instance: services.instance, trigger: "form", payload: payload, dedupKey: UUID().uuidString)
        let retry = "Не получилось создать платёж. Попробуйте ещё раз через минуту."
        do {
            switch try await services.events.emitAndWait(event, timeout: formTimeout) {
            case .completed(let results):
                if let url = results.values.compactMap({ $0["redirect"]?.stringValue }).first {
                    return WebhookResponse(status: 303, body: "", headers: ["location": url])
                }
                services.logger.error("form flow finished without web.redirect")
                return landing(values: form.values, errors: [:], consent: consent, formError: retry, status: 500)
            case .failed(let reason):
                services.logger.error("form flow failed", metadata: ["error": "\(reason)"])
                return landing(values: form.values, errors: [:], consent: consent, formError: retry, status: 502)
            case .noRun:
                services.logger.error("no flow handles web.form")
                return landing(values: form.values, errors: [:], consent: consent, formError: retry, status: 503)
            case .pending:
                return landing(values: form.values, errors: [:], consent: consent, formError: retry, status: 503)
            }
        } catch {
            services.logger.error("cannot store the form", metadata: ["error": "\(error)"])
            return landing(values: form.values, errors: [:], consent: consent, formError: retry, status: 503)
        }
    }
}
