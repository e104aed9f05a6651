import Flows
import Foundation
import Logging

extension ZoomConnector {
    static let createMeetingSpec = ActionSpec(
        name: "create_meeting",
        summary: "Schedules a Zoom meeting and returns its participant link (never the host's start link); "
            + "once per run step, so a retry or a resumed run returns the same meeting.",
        inputs: [
            .required("topic", .string, "the meeting's title, up to 200 characters"),
            .required("start", .string, "a time such as \"19:00\" (that day in the time zone; quote it) or an ISO 8601 date-time"),
            .optional("timezone", .string, "IANA time zone of the meeting; default: the connector's 'timezone'"),
            .optional("duration", .integer, "minutes, 1 to 1440", default: 60),
            .optional("waiting_room", .boolean, "participants wait until the host admits them", default: true),
            .optional("passcode", .string, "up to 10 characters; default: Zoom generates one"),
            .optional("slot", .string, "the schedule slot this meeting is for ({{ event.slot }} in a cron flow): its day is the day "
                      + "of 'start', and runs for the same start (another slot that day, \"run now\") share one meeting"),
        ],
        outputs: [
            .output("id", .integer, "the meeting number"),
            .output("join_url", .string, "the participants' link (it carries the passcode)"),
            .output("passcode", .string, "the meeting passcode (empty when the meeting has none)"),
            .output("start_time", .string, "the start in UTC, ISO 8601"),
        ],
        example: """
            do: zoom.create_meeting
            with:
              topic: "Сеанс {{ event.body.date }}"
              start: "19:00"
              duration: 90
            """)

    /// Looks up the meeting this step made before; otherwise creates it and records it before returning.
    func createMeeting(_ call: ActionCall) async throws -> Value {
        let inputs = call.inputs
        let topic = try inputs.require("topic")
        guard topic.count <= 200 else { throw ConnectorError.permanent("bad-topic", "'topic' is \(topic.count) characters; Zoom takes up to 200") }
        let zone = try meetingZone(inputs)
        let slot = inputs.get("slot").flatMap { $0.isEmpty ? nil : $0 }
        let reference = try slot.map(Self.slotDate) ?? now()
        let start = try ZoomStartTime(try inputs.require("start"), zone: zone, reference: reference)
        let duration = inputs.get("duration", as: Int.self) ?? 60
        guard (1...1440).contains(duration) else {
            throw ConnectorError.permanent("bad-duration", "'duration' must be 1 to 1440 minutes, found \(inputs["duration"]?.text ?? "")")
        }
        let passcode = inputs.get("passcode").flatMap { $0.isEmpty ? nil : $0 }
        if let passcode, passcode.count > 10 {
            throw ConnectorError.permanent("bad-passcode", "'passcode' may have up to 10 characters; leave it out to let Zoom generate one")
        }
        let waitingRoom = inputs.get("waiting_room", as: Bool.self) ?? true

        // The step's key, plus one per session of this flow step: a second run for the same start
        // (the same slot again, "run now", a schedule moved to a later hour) reuses the meeting.
        var keys = [call.idempotencyKey]
        if slot != nil { keys.append("slot:\(call.flow)/\(call.stepID)@\(start.text) \(zone.identifier)") }
        if let done = try await meetings.recall(keys) {
            call.logger.debug("zoom meeting reused", metadata: trace(call, done))
            return done
        }

        guard let api else {
            throw ConnectorError.permanent("zoom-not-configured", "zoom.create_meeting needs the Server-to-Server OAuth app's credentials: "
                + "set \(settings.missingCredentials.joined(separator: ", ")); or post a standing link with zoom.link (ZOOM_MEETING_URL)")
        }
        guard let host = settings.host else {
            throw ConnectorError.permanent("zoom-no-host", "zoom.create_meeting needs 'host' (ZOOM_HOST): the Zoom user id or e-mail "
                + "of the meetings' host; Server-to-Server apps cannot use 'me'")
        }

        // A create whose answer was lost (timeout, 5xx after the fact) may have made the meeting:
        // before sending it again, look for it by the marker it carries in its agenda.
        let marker = Self.agendaMarker(keys.last!)
        if try await meetings.attemptedBefore(keys.last!), let found = try await findMeeting(api, host: host, marker: marker) {
            let recorded = try await meetings.remember(keys, meetingID: found["id"]?.intValue.map(Int64.init) ?? 0, found)
            call.logger.info("zoom meeting found after a lost answer", metadata: trace(call, recorded))
            return recorded
        }

        var body: [String: Value] = [
            "agenda": .string(marker),
            "topic": .string(topic), "type": 2, "start_time": .string(start.text), "timezone": .string(zone.identifier),
            "duration": .number(Double(duration)),
            "settings": [
                "waiting_room": .bool(waitingRoom), "join_before_host": false, "approval_type": 2,
                // The daily job would otherwise e-mail the host every day.
                "email_notification": false,
            ],
        ]
        if let passcode { body["password"] = .string(passcode) }
        let created = try await api.send("POST", "/users/\(Self.pathSegment(host))/meetings", json: .object(body))

        guard let id = created["id"]?.intValue, let joinURL = created["join_url"]?.stringValue else {
            // The meeting may exist now; creating another on retry would only add to the daily cap.
            throw ConnectorError.permanent("zoom-bad-answer", "Zoom created the meeting but its answer lacks id or join_url")
        }
        let result = Self.visible(created, id: id, joinURL: joinURL, passcode: passcode, start: start.text)
        let recorded = try await meetings.remember(keys, meetingID: Int64(id), result)
        if recorded["id"]?.intValue != id {
            // Another run for this session created one meanwhile; both post that one.
            call.logger.warning("zoom meeting for this session was made by another run meanwhile; the one made here stays unused",
                                metadata: trace(call, recorded).merging(["unused_meeting": "\(id)"]) { old, _ in old })
        }
        call.logger.debug("zoom meeting created", metadata: trace(call, recorded))
        return recorded
    }

    /// The instant of a schedule slot, in any form the `date` filter reads, so the meeting's day
    /// is the day the post names. An unreadable one is refused: today's date in its place would
    /// book (or reuse) the wrong day's meeting under the right day's heading.
    static func slotDate(_ slot: String) throws(ConnectorError) -> Date {
        guard let date = Filters.parseDate(slot) else {
            throw .permanent("bad-slot", "'slot' must be an ISO 8601 date or date-time such as 2030-12-02T15:00:00Z, found '\(slot)'")
        }
        return date
    }

    /// Only what the group may see: start_url (a host login) is dropped here and goes nowhere.
    static func visible(_ meeting: Value, id: Int, joinURL: String, passcode: String?, start: String) -> Value {
        [
            "id": .number(Double(id)), "join_url": .string(joinURL),
            "passcode": .string(meeting["password"]?.stringValue ?? passcode ?? ""),
            "start_time": .string(meeting["start_time"]?.stringValue ?? start),
        ]
    }

    /// The agenda line that ties a meeting to its step or slot, without revealing either.
    static func agendaMarker(_ key: String) -> String {
        "Session Hub " + Crypto.hex(Crypto.sha256(Array(key.utf8)).prefix(10))
    }

    /// The host's upcoming meeting carrying `marker`, read in full (for its passcode), or nil.
    func findMeeting(_ api: ZoomAPI, host: String, marker: String) async throws -> Value? {
        let listed = try await api.send("GET", "/users/\(Self.pathSegment(host))/meetings?type=upcoming&page_size=300")
        guard let match = listed["meetings"]?.arrayValue?.first(where: { $0["agenda"]?.stringValue == marker }),
              let id = match["id"]?.intValue else { return nil }
        let meeting = try await api.send("GET", "/meetings/\(id)")
        guard let joinURL = meeting["join_url"]?.stringValue else { return nil }
        return Self.visible(meeting, id: id, joinURL: joinURL, passcode: nil, start: meeting["start_time"]?.stringValue ?? "")
    }

    func meetingZone(_ inputs: Fields) throws(ConnectorError) -> TimeZone {
        guard let name = inputs.get("timezone"), !name.isEmpty else { return settings.timezone }
        guard let zone = TimeZone(identifier: name) else {
            throw .permanent("bad-timezone", "'timezone' must be an IANA time zone such as Europe/Moscow, found '\(name)'")
        }
        return zone
    }

    func trace(_ call: ActionCall, _ meeting: Value) -> Logger.Metadata {
        ["flow.name": "\(call.flow)", "run.id": "\(call.runID)", "step.id": "\(call.stepID)", "meeting.id": "\(meeting["id"]?.text ?? "-")"]
    }

    /// A user id or e-mail as one path segment.
    static func pathSegment(_ text: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "/?#")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}
