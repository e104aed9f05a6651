import Emulators
import Flows
import Foundation
import Testing
@testable import ZoomConnector

/// Server-to-Server OAuth: one token request however many calls need it, reuse until shortly
/// before expiry, one refresh and one retry on a 401.
@Suite struct ZoomAuthTests {
    @Test func tenConcurrentCallsFetchOneToken() async throws {
        let h = try await ZoomHarness.start()
        defer { Task { await h.stop() } }
        let zoom = try h.connector()

        let results = try await withThrowingTaskGroup(of: Value.self) { group in
            for i in 0..<10 {
                group.addTask { try await zoom.perform(ZoomHarness.call("create_meeting", ZoomHarness.meetingInputs, key: "run-\(i):meeting")) }
            }
            return try await group.reduce(into: [Value]()) { $0.append($1) }
        }

        #expect(h.emulator.tokenRequests == 1)
        #expect(h.emulator.meetingsCreated.count == 10)
        #expect(Set(results.compactMap { $0["join_url"]?.stringValue }).count == 10)
        #expect(h.emulator.unauthorizedResponses == 0)
    }

    @Test func tokenIsReusedUntilFiveMinutesBeforeExpiryThenRefreshed() async throws {
        let h = try await ZoomHarness.start()
        defer { Task { await h.stop() } }
        let clock = TestClock()
        let zoom = try h.connector(now: clock.now)
        func create() async throws { _ = try await zoom.perform(ZoomHarness.call("create_meeting", ZoomHarness.meetingInputs)) }

        try await create()
        clock.advance(seconds: 3000)  // 10 minutes left: still good
        try await create()
        #expect(h.emulator.tokenRequests == 1)

        clock.advance(seconds: 400)  // 3 minutes 20 left: replaced before Zoom would refuse it
        try await create()
        #expect(h.emulator.tokenRequests == 2)
        #expect(h.emulator.unauthorizedResponses == 0)
        #expect(h.emulator.meetingsCreated.count == 3)
    }

    @Test func shortLivedTokensAreRefreshedHalfwayThrough() async throws {
        let h = try await ZoomHarness.start()
        defer { Task { await h.stop() } }
        h.emulator.setTokenLifetime(seconds: 60)
        let clock = TestClock()
        let zoom = try h.connector(now: clock.now)
        func create() async throws { _ = try await zoom.perform(ZoomHarness.call("create_meeting", ZoomHarness.meetingInputs)) }

        try await create()
        clock.advance(seconds: 20)
        try await create()
        #expect(h.emulator.tokenRequests == 1)
        clock.advance(seconds: 15)
        try await create()
        #expect(h.emulator.tokenRequests == 2)
    }

    @Test func expiredTokenIsRefreshedAndTheCallRetriedOnce() async throws {
        let h = try await ZoomHarness.start()
        defer { Task { await h.stop() } }
        let zoom = try h.connector()
        _ = try await zoom.perform(ZoomHarness.call("create_meeting", ZoomHarness.meetingInputs))
        // Zoom stops honouring the cached token before our clock says so.
        h.emulator.expireTokens()

        let result = try await zoom.perform(ZoomHarness.call("create_meeting", ZoomHarness.meetingInputs))

        #expect(result["join_url"]?.stringValue == h.emulator.meetingsCreated.last?.joinURL)
        #expect(h.emulator.unauthorizedResponses == 1)
        #expect(h.emulator.tokenRequests == 2)
        #expect(h.emulator.meetingsCreated.count == 2)
    }

    @Test func concurrentRejectionsShareOneRefresh() async throws {
        let h = try await ZoomHarness.start()
        defer { Task { await h.stop() } }
        let zoom = try h.connector()
        _ = try await zoom.perform(ZoomHarness.call("create_meeting", ZoomHarness.meetingInputs))
        h.emulator.expireTokens()

        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<5 { group.addTask { _ = try await zoom.perform(ZoomHarness.call("create_meeting", ZoomHarness.meetingInputs)) } }
            try await group.waitForAll()
        }

        #expect(h.emulator.meetingsCreated.count == 6)
        // Rejected calls that arrive after the refresh reuse the new token.
        #expect(h.emulator.tokenRequests == 2)
    }

    @Test func aSecond401FailsPermanentlyInsteadOfLooping() async throws {
        let h = try await ZoomHarness.start()
        defer { Task { await h.stop() } }
        let zoom = try h.connector()
        h.emulator.failNext(5, status: 401)

        let error = await connectorError { try await zoom.perform(ZoomHarness.call("create_meeting", ZoomHarness.meetingInputs)) }

        #expect(error?.code == "zoom-124")
        #expect(error?.disposition == .permanent)
        #expect(error?.message.contains("Invalid access token") == true)
        #expect(h.emulator.tokenRequests == 2)
        #expect(h.emulator.apiRequests.count == 2)
        #expect(h.emulator.meetingsCreated.isEmpty)
    }

    @Test func wrongClientSecretIsAPermanentErrorThatDoesNotEchoIt() async throws {
        let h = try await ZoomHarness.start()
        defer { Task { await h.stop() } }
        let logs = CapturedLogs()
        let zoom = try h.connector(["client_secret": "wrong-secret-123"], logger: logs.logger)

        let error = await connectorError { try await zoom.perform(ZoomHarness.call("create_meeting", ZoomHarness.meetingInputs)) }

        #expect(error?.code == "zoom-oauth")
        #expect(error?.disposition == .permanent)
        #expect(error?.message.contains("Invalid client_id or client_secret") == true)
        #expect(error?.description.contains("wrong-secret-123") == false)
        #expect(logs.all.count == 1)
        #expect(logs.all.allSatisfy { !$0.contains("wrong-secret-123") })
        #expect(h.emulator.apiRequests.isEmpty)
    }

    @Test func tokenEndpointOutageIsRetryable() async throws {
        let h = try await ZoomHarness.start()
        defer { Task { await h.stop() } }
        let zoom = try h.connector()
        h.emulator.failNextToken(1, status: 503)

        let error = await connectorError { try await zoom.perform(ZoomHarness.call("create_meeting", ZoomHarness.meetingInputs)) }
        #expect(error?.disposition == .retry)
        // The failed fetch is not cached: the next attempt gets a token.
        _ = try await zoom.perform(ZoomHarness.call("create_meeting", ZoomHarness.meetingInputs))
        #expect(h.emulator.tokenRequests == 2)
        #expect(h.emulator.meetingsCreated.count == 1)
    }
}
