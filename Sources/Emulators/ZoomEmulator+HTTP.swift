import Flows
import Foundation
import Hummingbird

extension ZoomEmulator {
    /// `POST /oauth/token` like zoom.us, and the meetings API under `/v2` like api.zoom.us.
    public func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.post("oauth/token") { [self] request, _ in await self.token(request) }
        router.post("v2/users/{userId}/meetings") { [self] request, context in
            await self.createMeeting(request, userID: context.parameters.get("userId") ?? "")
        }
        router.get("v2/users/{userId}/meetings") { [self] request, context in
            await self.listMeetings(request, userID: context.parameters.get("userId") ?? "")
        }
        router.get("v2/meetings/{meetingId}") { [self] request, context in
            await self.meeting(request, meetingID: context.parameters.get("meetingId") ?? "")
        }
        return router
    }

    // MARK: OAuth

    func token(_ request: Request) async -> Response {
        var request = request
        var params: [String: String] = [:]
        // Zoom takes grant_type and account_id from the query string or the form body.
        for (key, value) in Self.decodeForm(request.uri.query ?? "") { params[key] = value }
        if let body = try? await request.collectBody(upTo: 1 << 20) {
            for (key, value) in Self.decodeForm(String(buffer: body)) { params[key] = value }
        }
        let fault = state.withLock { s in
            s.tokenRequests += 1
            return Self.take(&s.tokenFaults)
        }
        if let fault {
            return Self.reply(fault.status, ["reason": "Emulated failure", "error": fault.status >= 500 ? "server_error" : "invalid_request"])
        }
        guard let basic = request.headers[.authorization], basic.lowercased().hasPrefix("basic "),
              let decoded = Data(base64Encoded: String(basic.dropFirst(6)).trimmingCharacters(in: .whitespaces)),
              String(decoding: decoded, as: UTF8.self) == "\(clientID):\(clientSecret)"
        else {
            return Self.reply(400, ["reason": "Invalid client_id or client_secret", "error": "invalid_client"])
        }
        guard let grant = params["grant_type"], !grant.isEmpty else {
            return Self.reply(400, ["reason": "Missing grant type", "error": "invalid_request"])
        }
        guard grant == "account_credentials" else {
            return Self.reply(400, ["reason": "Unsupported grant type", "error": "unsupported_grant_type"])
        }
        guard params["account_id"] == accountID else {
            return Self.reply(400, ["reason": "Account does not exist", "error": "invalid_request"])
        }
        let token = "eyJ" + Self.random(48)
        let lifetime = state.withLock { s in
            s.tokens[token] = Date().addingTimeInterval(Double(s.tokenLifetime))
            return s.tokenLifetime
        }
        return Self.reply(200, [
            "access_token": .string(token), "token_type": "bearer", "expires_in": .number(Double(lifetime)),
            "scope": "meeting:write:meeting:admin meeting:read:meeting:admin", "api_url": "https://api.zoom.us",
        ])
    }

    // MARK: API

    /// The 401 for a missing, unknown or expired Bearer token, or the fault to play; nil to go on.
    func gate(_ request: Request, _ label: String) -> Response? {
        let header = request.headers[.authorization] ?? ""
        let token = header.lowercased().hasPrefix("bearer ") ? String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces) : ""
        let (expiry, fault) = state.withLock { s -> (Date?, Fault?) in
            s.apiRequests.append(label)
            let expiry = s.tokens[token]
            let valid = expiry.map { $0 > Date() } ?? false
            if !valid { s.unauthorized += 1 }
            return (expiry, valid ? Self.take(&s.faults) : nil)
        }
        guard let expiry else { return Self.reply(401, ["code": 124, "message": "Invalid access token."]) }
        guard expiry > Date() else { return Self.reply(401, ["code": 124, "message": "Access token is expired."]) }
        guard let fault else { return nil }
        switch fault.status {
        case 429:
            var headers = ["X-RateLimit-Category": "Light", "X-RateLimit-Type": fault.retryAfter == nil ? "QPS" : "Daily-limit"]
            if let wait = fault.retryAfter {
                let iso = ISO8601DateFormatter()
                headers["Retry-After"] = iso.string(from: Date().addingTimeInterval(Double(wait)))
                return Self.reply(429, ["code": 429, "message": .string("You have reached the maximum daily rate limit for this API. "
                    + "Refer to the response header for details on when you can make another request.")], headers: headers)
            }
            return Self.reply(429, ["code": 429, "message": "You have reached the maximum per-second rate limit for this API. Try again later."],
                              headers: headers)
        case 401: return Self.reply(401, ["code": 124, "message": "Invalid access token."])
        case 404: return Self.reply(404, ["code": 1001, "message": "User does not exist."])
        case 400..<500: return Self.reply(fault.status, ["code": 300, "message": "Emulated failure."])
        default: return Self.reply(fault.status, ["code": .number(Double(fault.status)), "message": "Internal Error."])
        }
    }

    func createMeeting(_ request: Request, userID: String) async -> Response {
        var request = request
        let userID = userID.removingPercentEncoding ?? userID
        if let refused = gate(request, "POST /v2/users/\(userID)/meetings") { return refused }
        // An account-level (S2S) app has no "me": the host must be named.
        guard userID != "me", !userID.isEmpty else { return Self.reply(404, ["code": 1001, "message": .string("User does not exist: \(userID).")]) }
        guard let buffer = try? await request.collectBody(upTo: 1 << 20),
              case .object(let body)? = try? Value(json: String(buffer: buffer))
        else {
            return Self.reply(400, ["code": 300, "message": "Request Body should be a valid JSON object."])
        }
        func invalid(_ field: String, _ message: String) -> Response {
            Self.reply(400, ["code": 300, "message": "Validation Failed.", "errors": [["field": .string(field), "message": .string(message)]]])
        }
        let topic = body["topic"]?.stringValue ?? ""
        guard topic.count <= 200 else { return invalid("topic", "Topic must be at most 200 characters.") }
        let duration = body["duration"]?.intValue ?? 60
        guard (1...1440).contains(duration) else { return invalid("duration", "Duration must be between 1 and 1440.") }
        let given = body["password"]?.stringValue
        if let given, given.count > 10 { return invalid("password", "Password must be at most 10 characters.") }
        let type = body["type"]?.intValue ?? 2
        let zoneName = body["timezone"]?.stringValue
        let zone = zoneName.flatMap(TimeZone.init(identifier:)) ?? TimeZone(identifier: "UTC")!
        let requested = body["start_time"]?.stringValue
        var start = requested.flatMap { Self.startDate($0, zone: zone) } ?? Date()
        // As Zoom does: a start in the past (or none) means now.
        if start < Date() { start = Date() }
        let settings = body["settings"]?.objectValue ?? [:]
        let waitingRoom = settings["waiting_room"]?.boolValue ?? false
        let password = given ?? Self.random(6)
        let encrypted = Self.random(32)

        return state.withLock { s in
            let id = s.nextMeetingID
            s.nextMeetingID += 1_017
            let joinURL = "https://zoom.us/j/\(id)?pwd=\(encrypted)"
            let startURL = "https://zoom.us/s/\(id)?zak=\(Self.random(40))"
            let iso = ISO8601DateFormatter()
            let startTime = iso.string(from: start)
            var echoed = settings
            echoed["waiting_room"] = .bool(waitingRoom)
            // Zoom: a waiting room disables join-before-host.
            echoed["join_before_host"] = .bool(waitingRoom ? false : settings["join_before_host"]?.boolValue ?? false)
            echoed["approval_type"] = settings["approval_type"] ?? 2
            let response: Value = [
                "id": .number(Double(id)), "uuid": .string(Self.random(22) + "=="), "host_id": .string(Self.random(22)),
                "host_email": .string(userID.contains("@") ? userID : "host@example.com"),
                "topic": .string(topic), "type": .number(Double(type)), "status": "waiting",
                "start_time": .string(startTime), "duration": .number(Double(duration)),
                "timezone": .string(zoneName ?? "UTC"), "agenda": body["agenda"] ?? "",
                "created_at": .string(iso.string(from: Date())),
                "start_url": .string(startURL), "join_url": .string(joinURL),
                "password": .string(password), "h323_password": .string(password), "pstn_password": .string(password),
                "encrypted_password": .string(encrypted), "settings": .object(echoed),
                "pre_schedule": false, "creation_source": "open_api",
            ]
            s.meetings[id] = response
            s.created.append(ZoomEmulatedMeeting(id: id, hostUserID: userID, topic: topic, startTime: startTime, requestedStartTime: requested,
                                                 timezone: zoneName ?? "UTC", duration: duration, password: password, joinURL: joinURL,
                                                 startURL: startURL, waitingRoom: waitingRoom, response: response))
            // The meeting exists, but the client never learns it: a gateway error after the fact.
            if s.lostCreateResponses > 0 {
                s.lostCreateResponses -= 1
                return Self.reply(502, ["code": 502, "message": "Bad Gateway."])
            }
            return Self.reply(201, response)
        }
    }

    /// `GET /users/{userId}/meetings`: the host's meetings in the list form (no passcode, no start_url).
    func listMeetings(_ request: Request, userID: String) async -> Response {
        let userID = userID.removingPercentEncoding ?? userID
        if let refused = gate(request, "GET /v2/users/\(userID)/meetings") { return refused }
        let listed: [Value] = state.withLock { s in
            s.created.filter { $0.hostUserID == userID }.compactMap { s.meetings[$0.id] }.map { meeting in
                var item: [String: Value] = [:]
                for key in ["uuid", "id", "host_id", "topic", "type", "start_time", "duration", "timezone", "agenda", "created_at", "join_url"] {
                    item[key] = meeting[key]
                }
                return .object(item)
            }
        }
        return Self.reply(200, [
            "page_size": 300, "total_records": .number(Double(listed.count)), "next_page_token": "", "meetings": .array(listed),
        ])
    }

    func meeting(_ request: Request, meetingID: String) async -> Response {
        if let refused = gate(request, "GET /v2/meetings/\(meetingID)") { return refused }
        guard let id = Int64(meetingID), let meeting = state.withLock({ $0.meetings[id] }) else {
            return Self.reply(404, ["code": 3001, "message": .string("Meeting does not exist: \(meetingID).")])
        }
        return Self.reply(200, meeting)
    }

    // MARK: Helpers

    static func take(_ faults: inout [Fault]) -> Fault? {
        guard !faults.isEmpty else { return nil }
        let fault = faults[0]
        faults[0].remaining -= 1
        if faults[0].remaining <= 0 { faults.removeFirst() }
        return fault
    }

    /// `…Z` is UTC; without an offset the time is local to the meeting's time zone.
    static func startDate(_ text: String, zone: TimeZone) -> Date? {
        if let date = ISO8601DateFormatter().date(from: text) { return date }
        let local = DateFormatter()
        local.locale = Locale(identifier: "en_US_POSIX")
        local.timeZone = zone
        local.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
        return local.date(from: text)
    }

    static func reply(_ status: Int, _ body: Value, headers extra: [String: String] = [:]) -> Response {
        var headers: HTTPFields = [.contentType: "application/json;charset=UTF-8"]
        headers[HTTPFields.Element.Name("x-zm-trackingid")!] = "v=2.0;clid=us06;rid=WEB_" + random(32)
        for (name, value) in extra { if let field = HTTPFields.Element.Name(name) { headers[field] = value } }
        return Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(string: body.json)))
    }

    static func random(_ count: Int) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        return String((0..<count).map { _ in alphabet.randomElement()! })
    }

    static func decodeForm(_ text: String) -> [(String, String)] {
        text.split(separator: "&").compactMap { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String {
                let spaced = s.replacingOccurrences(of: "+", with: " ")
                return spaced.removingPercentEncoding ?? spaced
            }
            guard let key = parts.first, !key.isEmpty else { return nil }
            return (decode(key), parts.count > 1 ? decode(parts[1]) : "")
        }
    }
}
