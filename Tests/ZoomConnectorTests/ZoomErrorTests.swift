import Emulators
import Flows
import Foundation
import Testing
@testable import ZoomConnector

/// Zoom's refusals become the right dispositions, and a missing setup says what to set.
@Suite struct ZoomErrorTests {
    @Test func rateLimitWithRetryAfterAsksToWaitThenTheRetryCreatesOnce() async throws {
        let h = try await ZoomHarness.start()
        defer { Task { await h.stop() } }
        let zoom = try h.connector()
        h.emulator.failNext(1, status: 429, retryAfter: 30)
        let call = ZoomHarness.call("create_meeting", ZoomHarness.meetingInputs, key: "run-7:meeting")

        let error = await connectorError { try await zoom.perform(call) }

        #expect(error?.code == "zoom-429")
        guard case .retryAfter(let wait)? = error?.disposition else {
            Issue.record("expected retryAfter, got \(String(describing: error?.disposition))")
            return
        }
        #expect(wait >= .seconds(28) && wait <= .seconds(31))
        #expect(h.emulator.meetingsCreated.isEmpty)
        _ = try await zoom.perform(call)
        _ = try await zoom.perform(call)
        #expect(h.emulator.meetingsCreated.count == 1)
    }

    @Test func rateLimitWithoutRetryAfterBacksOff() async throws {
        let h = try await ZoomHarness.start()
        defer { Task { await h.stop() } }
        h.emulator.failNext(1, status: 429)
        let error = await connectorError { try await h.connector().perform(ZoomHarness.call("create_meeting", ZoomHarness.meetingInputs)) }
        #expect(error?.code == "zoom-429")
        #expect(error?.disposition == .retry)
    }

    @Test(arguments: [500, 502, 503])
    func serverErrorsAreRetried(_ status: Int) async throws {
        let h = try await ZoomHarness.start()
        defer { Task { await h.stop() } }
        h.emulator.failNext(1, status: status)
        let error = await connectorError { try await h.connector().perform(ZoomHarness.call("create_meeting", ZoomHarness.meetingInputs)) }
        #expect(error?.disposition == .retry)
        #expect(h.emulator.meetingsCreated.isEmpty)
    }

    @Test func networkFailureIsRetried() async throws {
        let h = try await ZoomHarness.start()
        let base = h.server.baseURL
        await h.stop()  // nothing listens there any more
        let error = await connectorError {
            try await h.connector(["api_url": .string(base + "/v2"), "oauth_url": .string(base)], database: false)
                .perform(ZoomHarness.call("create_meeting", ZoomHarness.meetingInputs))
        }
        #expect(error?.code == "network")
        #expect(error?.disposition == .retry)
    }

    @Test func clientErrorsFailPermanentlyWithZoomsCodeAndMessage() async throws {
        let h = try await ZoomHarness.start()
        defer { Task { await h.stop() } }
        // With an S2S app there is no "me": Zoom answers 1001, and we say what to set.
        let error = await connectorError { try await h.connector(["host": "me"]).perform(ZoomHarness.call("create_meeting", ZoomHarness.meetingInputs)) }

        #expect(error?.code == "zoom-1001")
        #expect(error?.disposition == .permanent)
        #expect(error?.message.contains("User does not exist: me") == true)
        #expect(error?.message.contains("ZOOM_HOST") == true)
    }

    @Test func missingCredentialsNameWhatToSet() async throws {
        let h = try await ZoomHarness.start()
        defer { Task { await h.stop() } }
        let zoom = try h.connector(["account_id": nil, "client_secret": nil])

        let error = await connectorError { try await zoom.perform(ZoomHarness.call("create_meeting", ZoomHarness.meetingInputs)) }

        #expect(error?.code == "zoom-not-configured")
        #expect(error?.disposition == .permanent)
        #expect(error?.message.contains("'account_id' (ZOOM_ACCOUNT_ID)") == true)
        #expect(error?.message.contains("'client_secret' (ZOOM_CLIENT_SECRET)") == true)
        #expect(error?.message.contains("'client_id'") == false)
        #expect(error?.message.contains("zoom.link") == true)
        #expect(h.emulator.tokenRequests == 0)
    }

    @Test func missingHostIsPermanent() async throws {
        let h = try await ZoomHarness.start()
        defer { Task { await h.stop() } }
        let error = await connectorError { try await h.connector(["host": nil]).perform(ZoomHarness.call("create_meeting", ZoomHarness.meetingInputs)) }
        #expect(error?.code == "zoom-no-host")
        #expect(error?.disposition == .permanent)
        #expect(h.emulator.tokenRequests == 0)
    }

    @Test func badConfigIsRefusedAtStart() throws {
        let services = ConnectorServices(instance: "zoom", logger: .init(label: "t"), database: nil, http: CurlHTTPClient(),
                                         events: NoEvents(), publicURL: "http://127.0.0.1:1")
        #expect(throws: ConnectorError.self) { try ZoomConnector(config: Fields(["timezone": "Moscow"]), services: services) }
        #expect(throws: ConnectorError.self) { try ZoomConnector(config: Fields(["api_url": "api.zoom.us"]), services: services) }
        #expect(throws: ConnectorError.self) { try ZoomConnector(config: Fields(["meeting_url": "zoom.us/j/1"]), services: services) }
        // Nothing is required: a shop may use only zoom.link.
        #expect(throws: Never.self) { try ZoomConnector(config: Fields(), services: services) }
    }

    @Test func retryAfterReadsSecondsAndDates() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(ZoomAPI.retryAfter("12", now: now) == .seconds(12))
        #expect(ZoomAPI.retryAfter("0", now: now) == .seconds(1))
        let iso = ISO8601DateFormatter().string(from: now.addingTimeInterval(3600))
        #expect(ZoomAPI.retryAfter(iso, now: now) == .seconds(3600))
        #expect(ZoomAPI.retryAfter("Fri, 15 Jan 2027 08:00:00 GMT", now: now) != nil)
        #expect(ZoomAPI.retryAfter("soon", now: now) == nil)
        // A number no wait could be is a day (the engine waits an hour at most), not a trap.
        #expect(ZoomAPI.retryAfter("99999999999999999", now: now) == .seconds(86_400))
        #expect(ZoomAPI.retryAfter("1e300", now: now) == .seconds(86_400))
        #expect(ZoomAPI.retryAfter("inf", now: now) == nil)
    }
}
