import Emulators
import Flows
import Foundation
import Testing

/// The emulator speaks Zoom's protocol: OAuth error shapes, Bearer checks, the meeting object.
@Suite struct ZoomEmulatorTests {
    let http = CurlHTTPClient()

    func token(_ h: ZoomHarness, secret: String = ZoomHarness.clientSecret, form: String) async throws -> HTTPClientResponse {
        let basic = Data("\(ZoomHarness.clientID):\(secret)".utf8).base64EncodedString()
        return try await http.send(HTTPClientRequest(method: "POST", url: h.server.baseURL + "/oauth/token",
                                                     headers: ["Authorization": "Basic \(basic)", "Content-Type": "application/x-www-form-urlencoded"],
                                                     body: Array(form.utf8)))
    }

    @Test func oauthErrorsUseTheOAuthShape() async throws {
        let h = try await ZoomHarness.start()
        defer { Task { await h.stop() } }
        let good = "grant_type=account_credentials&account_id=\(ZoomHarness.accountID)"

        let badSecret = try await token(h, secret: "nope", form: good)
        #expect(badSecret.status == 400)
        #expect(try badSecret.json() == ["reason": "Invalid client_id or client_secret", "error": "invalid_client"])
        let badGrant = try await token(h, form: "grant_type=client_credentials&account_id=\(ZoomHarness.accountID)")
        #expect(try badGrant.json()["error"] == "unsupported_grant_type")
        let badAccount = try await token(h, form: "grant_type=account_credentials&account_id=other")
        #expect(try badAccount.json() == ["reason": "Account does not exist", "error": "invalid_request"])

        let ok = try await token(h, form: good)
        #expect(ok.status == 200)
        #expect(try ok.json()["expires_in"] == 3600)
        #expect(try ok.json()["token_type"] == "bearer")
        #expect(h.emulator.tokenRequests == 4)
        #expect(h.emulator.tokensIssued == 1)
    }

    @Test func apiChecksTheBearerAndServesTheMeeting() async throws {
        let h = try await ZoomHarness.start()
        defer { Task { await h.stop() } }
        let access = try #require(try await token(h, form: "grant_type=account_credentials&account_id=\(ZoomHarness.accountID)").json()["access_token"]?.stringValue)

        let anonymous = try await http.send(HTTPClientRequest(method: "POST", url: h.server.baseURL + "/v2/users/host@example.com/meetings", body: Array("{}".utf8)))
        #expect(anonymous.status == 401)
        #expect(try anonymous.json() == ["code": 124, "message": "Invalid access token."])

        let created = try await http.send(HTTPClientRequest(
            method: "POST", url: h.server.baseURL + "/v2/users/host@example.com/meetings",
            headers: ["Authorization": "Bearer \(access)", "Content-Type": "application/json"],
            body: Array(#"{"topic":"T","type":2,"start_time":"2030-12-01T19:00:00","timezone":"Europe/Moscow","duration":90}"#.utf8)))
        #expect(created.status == 201)
        #expect(created.headers["x-zm-trackingid"] != nil)
        let meeting = try created.json()
        #expect(meeting["start_time"] == "2030-12-01T16:00:00Z")
        #expect(meeting["start_url"]?.stringValue?.contains("zak=") == true)
        let id = try #require(meeting["id"]?.intValue)
        #expect(meeting["join_url"]?.stringValue?.hasPrefix("https://zoom.us/j/\(id)?pwd=") == true)

        let read = try await http.send(HTTPClientRequest(url: h.server.baseURL + "/v2/meetings/\(id)", headers: ["Authorization": "Bearer \(access)"]))
        #expect(read.status == 200)
        #expect(try read.json()["join_url"] == meeting["join_url"])
        let missing = try await http.send(HTTPClientRequest(url: h.server.baseURL + "/v2/meetings/1", headers: ["Authorization": "Bearer \(access)"]))
        #expect(missing.status == 404)
        #expect(try missing.json()["code"] == 3001)

        h.emulator.expireTokens()
        let expired = try await http.send(HTTPClientRequest(url: h.server.baseURL + "/v2/meetings/\(id)", headers: ["Authorization": "Bearer \(access)"]))
        #expect(expired.status == 401)
        #expect(try expired.json() == ["code": 124, "message": "Access token is expired."])
    }
}
