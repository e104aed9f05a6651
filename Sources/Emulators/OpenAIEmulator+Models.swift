import Flows
import Hummingbird

extension OpenAIEmulator {
    /// The models the emulator lists, as `GET /v1/models` names them.
    static let models = ["gpt-4o-mini", "gpt-4o", "gpt-4.1-mini"]

    /// `GET /v1/models`: the list envelope, behind the same Bearer check as completions.
    func listModels(_ request: Request) -> Response {
        if let apiKey {
            let authorization = request.headers[.authorization] ?? ""
            guard authorization == "Bearer \(apiKey)" else {
                return Self.error(401, "Incorrect API key provided: \(Self.masked(String(authorization.dropFirst("Bearer ".count)))).",
                                  type: "invalid_request_error", code: "invalid_api_key")
            }
        }
        let data: [Value] = Self.models.map { ["id": .string($0), "object": "model", "created": 1_715_367_049, "owned_by": "system"] }
        return Self.json(200, ["object": "list", "data": .array(data)])
    }
}
