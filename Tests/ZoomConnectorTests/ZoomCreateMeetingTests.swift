import Emulators
import Flows
import Foundation
import Testing
@testable import ZoomConnector

/// `create_meeting` against the emulator: the request Zoom gets, what flows get back, and one
/// meeting per run step however often the step runs.
@Suite struct ZoomCreateMeetingTests {
    @Test func createsAScheduledMeetingAndReturnsOnlyWhatTheGroupMaySee() async throws {
        let h = try await ZoomHarness.start()
        defer { Task { await h.stop() } }
        let logs = CapturedLogs()
        let zoom = try h.connector(logger: logs.logger)

        let result = try await zoom.perform(ZoomHarness.call("create_meeting", ZoomHarness.meetingInputs, logger: logs.logger))

        let meeting = try #require(h.emulator.meetingsCreated.first)
        #expect(h.emulator.meetingsCreated.count == 1)
        #expect(meeting.hostUserID == ZoomHarness.host)
        #expect(meeting.topic == "Сеанс 01.12")
        #expect(meeting.timezone == "Europe/Moscow")
        #expect(meeting.duration == 90)
        #expect(meeting.waitingRoom)
        // "19:00" is sent as a local time on today's date in the meeting's time zone.
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Europe/Moscow")!
        let today = calendar.dateComponents([.year, .month, .day], from: Date())
        let expected = String(format: "%04d-%02d-%02dT19:00:00", today.year!, today.month!, today.day!)
        #expect(meeting.requestedStartTime == expected)
        #expect(meeting.response["settings"]?["join_before_host"] == false)

        #expect(Set(result.objectValue?.keys.map { $0 } ?? []) == ["id", "join_url", "passcode", "start_time"])
        #expect(result["id"]?.intValue == Int(meeting.id))
        #expect(result["join_url"]?.stringValue == meeting.joinURL)
        #expect(result["passcode"]?.stringValue == meeting.password)  // Zoom generated it
        #expect(result["start_time"]?.stringValue == meeting.startTime)
        // The host link is a login as the host: not in the result, the table or the logs.
        #expect(result["start_url"] == nil)
        #expect(!result.json.contains(meeting.startURL))
        let rows = try await h.store.database.query("SELECT key, result FROM zoom_meetings")
        #expect(rows.count == 1)
        #expect(rows.allSatisfy { !($0["result"]?.text ?? "").contains("zak=") && !($0["result"]?.text ?? "").contains(meeting.startURL) })
        #expect(logs.all.allSatisfy { !$0.contains(meeting.startURL) && !$0.contains(ZoomHarness.clientSecret) })
    }

    @Test func passesPasscodeWaitingRoomAndTimezone() async throws {
        let h = try await ZoomHarness.start()
        defer { Task { await h.stop() } }
        let zoom = try h.connector()
        var inputs = ZoomHarness.meetingInputs
        inputs["passcode"] = "k7Q2pX"
        inputs["waiting_room"] = false
        inputs["timezone"] = "Asia/Yekaterinburg"
        inputs["start"] = "2030-12-01T19:30:00+03:00"

        let result = try await zoom.perform(ZoomHarness.call("create_meeting", inputs))

        let meeting = try #require(h.emulator.meetingsCreated.first)
        #expect(meeting.password == "k7Q2pX")
        #expect(result["passcode"] == "k7Q2pX")
        #expect(!meeting.waitingRoom)
        #expect(meeting.timezone == "Asia/Yekaterinburg")
        // An offset means an instant: sent in UTC.
        #expect(meeting.requestedStartTime == "2030-12-01T16:30:00Z")
        #expect(result["start_time"] == "2030-12-01T16:30:00Z")
    }

    @Test func sameIdempotencyKeyCreatesOneMeeting() async throws {
        let h = try await ZoomHarness.start()
        defer { Task { await h.stop() } }
        let call = ZoomHarness.call("create_meeting", ZoomHarness.meetingInputs, key: "run-42:meeting")

        let first = try await h.connector().perform(call)
        let again = try await h.connector().perform(call)
        // A restarted hub (a new instance, the same database) resumes the run.
        let resumed = try await h.connector().perform(call)

        #expect(h.emulator.meetingsCreated.count == 1)
        #expect(first["join_url"] != nil)
        #expect(again == first)
        #expect(resumed == first)
        #expect(again["join_url"]?.stringValue == h.emulator.meetingsCreated.first?.joinURL)
    }

    @Test func oneMeetingPerScheduleSlotAcrossRuns() async throws {
        let h = try await ZoomHarness.start()
        defer { Task { await h.stop() } }
        let zoom = try h.connector()
        var inputs = ZoomHarness.meetingInputs
        inputs["slot"] = "2030-12-01T06:00:00Z"

        let first = try await zoom.perform(ZoomHarness.call("create_meeting", inputs, key: "run-1:meeting"))
        let replay = try await zoom.perform(ZoomHarness.call("create_meeting", inputs, key: "run-2:meeting"))
        // "Run now" in the dashboard, or a schedule moved to a later hour, the same day: the same session.
        inputs["slot"] = "2030-12-01T09:41:07Z"
        let runNow = try await zoom.perform(ZoomHarness.call("create_meeting", inputs, key: "run-4:meeting"))
        inputs["slot"] = "2030-12-02T06:00:00Z"
        let nextDay = try await zoom.perform(ZoomHarness.call("create_meeting", inputs, key: "run-3:meeting"))

        #expect(replay == first)
        #expect(runNow == first)
        #expect(nextDay != first)
        #expect(h.emulator.meetingsCreated.count == 2)
        // The slot's day, not the day the run happens to execute.
        #expect(h.emulator.meetingsCreated.map(\.requestedStartTime) == ["2030-12-01T19:00:00", "2030-12-02T19:00:00"])
    }

    @Test("two runs for one slot that both created a meeting (\"run now\" while the first create was in flight) answer with the first one")
    func racingRunsShareTheSlotsMeeting() async throws {
        let h = try await ZoomHarness.start()
        defer { Task { await h.stop() } }
        let meetings = ZoomMeetings(database: h.store.database)
        let slot = "slot:daily-session/meeting@2030-12-01T19:00:00 Europe/Moscow"
        let first: Value = ["id": 1, "join_url": "https://zoom.example/j/1"]
        let second: Value = ["id": 2, "join_url": "https://zoom.example/j/2"]

        #expect(try await meetings.remember(["run-1:meeting", slot], meetingID: 1, first) == first)
        #expect(try await meetings.remember(["run-2:meeting", slot], meetingID: 2, second) == first)
        // A retry of the second run's step recalls the same meeting, not the one it made.
        #expect(try await meetings.recall(["run-2:meeting", slot]) == first)
    }

    @Test("the slot's day is read from any ISO 8601 form the date filter reads; an unreadable slot is refused, not replaced by today")
    func slotForms() async throws {
        let h = try await ZoomHarness.start()
        defer { Task { await h.stop() } }
        let zoom = try h.connector()
        var inputs = ZoomHarness.meetingInputs
        inputs["slot"] = "2030-12-02T06:00:00.000Z"
        _ = try await zoom.perform(ZoomHarness.call("create_meeting", inputs))
        inputs["slot"] = "2030-12-05"
        _ = try await zoom.perform(ZoomHarness.call("create_meeting", inputs))
        #expect(h.emulator.meetingsCreated.map(\.requestedStartTime) == ["2030-12-02T19:00:00", "2030-12-05T19:00:00"])

        inputs["slot"] = "02.12.2030"
        let error = await connectorError { try await zoom.perform(ZoomHarness.call("create_meeting", inputs)) }
        #expect(error?.code == "bad-slot")
        #expect(error?.message == "'slot' must be an ISO 8601 date or date-time such as 2030-12-02T15:00:00Z, found '02.12.2030'")
        #expect(h.emulator.meetingsCreated.count == 2)
    }

    @Test func aLostAnswerIsRecoveredNotRepeated() async throws {
        let h = try await ZoomHarness.start()
        defer { Task { await h.stop() } }
        let zoom = try h.connector()
        var inputs = ZoomHarness.meetingInputs
        inputs["slot"] = "2030-12-01T06:00:00Z"
        h.emulator.loseNextCreateResponses(1)

        // Zoom made the meeting but the answer was a 502: the step fails and will be retried.
        let error = await connectorError { try await zoom.perform(ZoomHarness.call("create_meeting", inputs, key: "run-1:meeting")) }
        #expect(error?.code == "zoom-502")
        #expect(h.emulator.meetingsCreated.count == 1)

        // The retry finds that meeting by its agenda marker instead of creating a second one.
        let retried = try await zoom.perform(ZoomHarness.call("create_meeting", inputs, key: "run-1:meeting"))
        let meeting = try #require(h.emulator.meetingsCreated.first)
        #expect(h.emulator.meetingsCreated.count == 1)
        #expect(retried["id"]?.intValue == Int(meeting.id))
        #expect(retried["join_url"]?.stringValue == meeting.joinURL)
        #expect(retried["passcode"]?.stringValue == meeting.password)
        #expect(!retried.json.contains(meeting.startURL))
        #expect(h.emulator.apiRequests.contains("GET /v2/users/\(ZoomHarness.host)/meetings"))
        // Only the retry after the lost answer listed meetings; a recalled meeting needs no call at all.
        let again = try await zoom.perform(ZoomHarness.call("create_meeting", inputs, key: "run-2:meeting"))
        #expect(again == retried)
        #expect(h.emulator.apiRequests.filter { $0.hasPrefix("GET /v2/users/") }.count == 1)
    }

    @Test func withoutDatabaseEveryCallCreates() async throws {
        let h = try await ZoomHarness.start()
        defer { Task { await h.stop() } }
        let zoom = try h.connector(database: false)
        let call = ZoomHarness.call("create_meeting", ZoomHarness.meetingInputs, key: "k")
        _ = try await zoom.perform(call)
        _ = try await zoom.perform(call)
        #expect(h.emulator.meetingsCreated.count == 2)
    }

    @Test(arguments: [
        (["start": "25:00"], "bad-start"),
        (["start": "tomorrow"], "bad-start"),
        (["duration": 0], "bad-duration"),
        (["passcode": "12345678901"], "bad-passcode"),
        (["timezone": "Mars/Olympus"], "bad-timezone"),
        (["topic": .string(String(repeating: "x", count: 201))], "bad-topic"),
    ] as [([String: Value], String)])
    func badInputFailsPermanentlyWithoutCallingZoom(_ change: [String: Value], _ code: String) async throws {
        let h = try await ZoomHarness.start()
        defer { Task { await h.stop() } }
        let zoom = try h.connector()
        let inputs = ZoomHarness.meetingInputs.merging(change) { _, new in new }

        let error = await connectorError { try await zoom.perform(ZoomHarness.call("create_meeting", inputs)) }

        #expect(error?.code == code)
        #expect(error?.disposition == .permanent)
        #expect(h.emulator.tokenRequests == 0)
        #expect(h.emulator.meetingsCreated.isEmpty)
    }
}
