import Flows
import Foundation

/// Calls any HTTP API from a flow. Each call carries the step's idempotency key in the
/// `Idempotency-Key` header, so an API that honours it performs a resumed step's effect once.
public struct HTTPConnector: Connector {
    public static let spec = ConnectorSpec(
        name: "http",
        summary: "Calls an HTTP API: JSON in, JSON out, with an Idempotency-Key per run step.",
        actions: [
            ActionSpec(
                name: "request", summary: "Sends one HTTP request; 5xx, 429 and network errors are retried, other 4xx and any redirect fail the step.",
                inputs: [
                    .required("url", .string, "the full URL"),
                    .optional("method", .choice(["GET", "POST", "PUT", "PATCH", "DELETE"]), "HTTP method", default: "POST"),
                    .optional("json", .any, "a body sent as JSON"),
                    .optional("headers", .object, "extra request headers"),
                    .optional("timeout", .number, "seconds to wait for the answer (up to 3600)", default: 30),
                ],
                outputs: [.output("status", .integer, "HTTP status"), .output("body", .any, "the answer: JSON when it parses, else text")],
                example: "do: http.request\nwith:\n  url: https://crm.example/api/leads\n  json: { name: \"{{ event.body.name }}\" }"),
        ])

    let http: any HTTPClient

    public init(config: ConnectorConfig, services: ConnectorServices) {
        http = services.http
    }

    public func perform(_ call: ActionCall) async throws -> Value {
        let url = try call.inputs.require("url")
        var headers = ["Idempotency-Key": call.idempotencyKey]
        for (name, value) in call.inputs["headers"]?.objectValue ?? [:] { headers[name] = value.text }
        var body: [UInt8] = []
        if let json = call.inputs["json"] {
            body = Array(json.json.utf8)
            headers["Content-Type"] = "application/json"
        }
        let timeout = call.inputs.get("timeout", as: Double.self) ?? 30
        guard timeout > 0, timeout <= 3600 else {
            throw ConnectorError.permanent("bad-input", "'timeout' must be more than 0 and at most 3600 seconds, found \(call.inputs["timeout"]?.text ?? "")")
        }
        // No redirect is followed: the flow's headers (an API key) would go to whatever host it names.
        let response = try await http.send(HTTPClientRequest(method: call.inputs.get("method") ?? "POST", url: url, headers: headers,
                                                             body: body, timeout: .milliseconds(Int64(timeout * 1000)), followsRedirects: false))
        let answer: Value = (try? response.json()) ?? .string(response.text)
        switch response.status {
        case 200..<300:
            return ["status": .number(Double(response.status)), "body": answer]
        case 429:
            // Seconds, within reason: a negative or absurd Retry-After is not a year's wait.
            let wait = min(3600, max(1, response.headers["retry-after"].flatMap { Int($0.trimmingCharacters(in: .whitespaces)) } ?? 5))
            throw ConnectorError(code: "http-429", "the API asks to slow down", .retryAfter(.seconds(wait)))
        case 300..<400:
            // Not followed: a POST re-sent as a GET would lose its body and pass, and the headers
            // would go to another host.
            throw ConnectorError.permanent("http-\(response.status)", "the API redirected the request (\(response.status)); call the address it moved to")
        case 500..., 408:
            throw ConnectorError(code: "http-\(response.status)", "the API answered \(response.status)")
        default:
            throw ConnectorError.permanent("http-\(response.status)", "the API refused the request with \(response.status)")
        }
    }
}
