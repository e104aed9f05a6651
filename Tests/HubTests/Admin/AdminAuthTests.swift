import Flows
import Foundation
import HTTPTypes
@testable import Hub
import HummingbirdTesting
import Testing

/// Sign-in, sessions, throttling and CSRF of the dashboard.
@Suite struct AdminAuthTests {
    static let pages = ["/admin", "/admin?days=7", "/admin/members", "/admin/members.csv", "/admin/members/abc", "/admin/runs",
                        "/admin/runs/abc", "/admin/flows", "/admin/connectors", "/admin/anything/else"]
    static let posts = ["/admin/logout", "/admin/members/abc/paid", "/admin/members/abc/edit", "/admin/members/abc/forget",
                        "/admin/members/abc/invite", "/admin/members/abc/remove", "/admin/runs/abc/retry", "/admin/flows/x/run"]

    @Test func anonymousRequestsAreRefused() async throws {
        try await AdminHarness.with { harness, client in
            for page in Self.pages {
                let response = try await client.execute(uri: page, method: .get)
                #expect(response.status == .seeOther, "\(page)")
                #expect(response.headers[.location]?.hasPrefix("/admin/login?next=") == true, "\(page)")
            }
            // Back to the same filtered page after signing in, query and all.
            let filtered = try await client.execute(uri: "/admin/members.csv?q=ivan&status=paid", method: .get)
            #expect(filtered.headers[.location] == "/admin/login?next=%2Fadmin%2Fmembers%2Ecsv%3Fq%3Divan%26status%3Dpaid")
            let signedIn = try await client.post("/admin/login", form: [("login", "admin"), ("password", AdminHarness.password),
                                                                        ("next", "/admin/members.csv?q=ivan&status=paid")])
            #expect(signedIn.headers[.location] == "/admin/members.csv?q=ivan&status=paid")
            let api = try await client.execute(uri: "/admin/api/stats", method: .get)
            #expect(api.status == .unauthorized)
            #expect(api.text.contains("unauthorized"))
            for post in Self.posts {
                let response = try await client.post(post, form: [("csrf", "x")])
                #expect(response.status == .unauthorized, "\(post)")
            }
            // A made-up session cookie is anonymous too.
            let forged = try await client.execute(uri: "/admin", method: .get, headers: [.cookie: "hub_admin=forged"])
            #expect(forged.status == .seeOther)
        }
    }

    @Test func signInSetsAStrictCookieAndSignOutEndsTheSession() async throws {
        try await AdminHarness.with(publicURL: "https://hub.example.ru") { harness, client in
            let response = try await client.post("/admin/login", form: [("login", "admin"), ("password", AdminHarness.password), ("next", "/admin/runs")])
            #expect(response.status == .seeOther)
            #expect(response.headers[.location] == "/admin/runs")
            let cookie = try #require(response.headers[.setCookie])
            for attribute in ["HttpOnly", "SameSite=Strict", "Path=/admin", "Secure"] { #expect(cookie.contains(attribute), "\(cookie)") }
            let browser = AdminBrowser(cookie: String(cookie.split(separator: ";")[0]))
            let overview = try await browser.get(client, "/admin")
            #expect(overview.status == .ok)
            #expect(overview.text.contains("Воронка"))
            #expect(try await browser.get(client, "/admin/api/stats").status == .ok)
            // The database keeps only the token's hash.
            let token = String(browser.cookie.dropFirst("hub_admin=".count))
            let stored = try await harness.store.database.query("SELECT id FROM hub_admin_sessions")
            #expect(stored.count == 1)
            #expect(stored.first?["id"]?.stringValue != token)

            let csrf = try await browser.csrf(client)
            let out = try await browser.post(client, "/admin/logout", [("csrf", csrf)])
            #expect(out.status == .seeOther)
            #expect(out.headers[.setCookie]?.contains("Max-Age=0") == true)
            #expect(try await browser.get(client, "/admin").status == .seeOther)
        }
    }

    @Test func noSecureFlagOverPlainHTTP() async throws {
        try await AdminHarness.with { _, client in
            let response = try await client.post("/admin/login", form: [("login", "admin"), ("password", AdminHarness.password)])
            #expect(response.headers[.setCookie]?.contains("Secure") == false)
        }
    }

    @Test func fiveWrongPasswordsLockTheLogin() async throws {
        try await AdminHarness.with { _, client in
            for attempt in 1...4 {
                let response = try await client.post("/admin/login", form: [("login", "admin"), ("password", "wrong \(attempt)")])
                #expect(response.status == .unauthorized)
                #expect(response.text.contains("Неверный логин или пароль"))
                #expect(response.headers[.setCookie] == nil)
            }
            let fifth = try await client.post("/admin/login", form: [("login", "admin"), ("password", "wrong 5")])
            #expect(fifth.status == .tooManyRequests)
            #expect(fifth.text.contains("Слишком много неудачных попыток"))
            // Locked: even the right password is refused until the lock ends.
            let right = try await client.post("/admin/login", form: [("login", "admin"), ("password", AdminHarness.password)])
            #expect(right.status == .tooManyRequests)
            #expect(right.headers[.setCookie] == nil)
        }
    }

    @Test func throttleIsPerAddressToo() {
        let clock = ManualMillis()
        let throttle = LoginThrottle(limit: 5, lockoutMillis: 60_000, now: { clock.value })
        for i in 0..<5 { #expect(throttle.attempt(["login:user\(i)", "ip:10.0.0.1"]) == 0) }
        #expect(throttle.waitSeconds(["login:other", "ip:10.0.0.1"]) == 60)
        #expect(throttle.waitSeconds(["login:other", "ip:10.0.0.2"]) == 0)
        clock.value += 60_001
        #expect(throttle.waitSeconds(["login:other", "ip:10.0.0.1"]) == 0)
    }

    @Test("of 50 attempts at once, 5 are let through to the password check")
    func parallelAttemptsAreCounted() async {
        let clock = ManualMillis()
        let throttle = LoginThrottle(limit: 5, lockoutMillis: 60_000, now: { clock.value })
        let passed = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<50 { group.addTask { throttle.attempt(["login:admin"]) == 0 } }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(passed == 5)
        #expect(throttle.waitSeconds(["login:admin"]) == 60)
        // A success clears the count its own attempt added.
        let other = ["login:other"]
        for _ in 0..<4 { #expect(throttle.attempt(other) == 0) }
        throttle.succeeded(other)
        for _ in 0..<4 { #expect(throttle.attempt(other) == 0) }
        #expect(throttle.waitSeconds(other) == 0)
    }

    @Test func passwordHashesAreSaltedAndSlow() {
        let a = PasswordHash.make("secret-password"), b = PasswordHash.make("secret-password")
        #expect(a != b)
        let parts = a.split(separator: "$")
        #expect(parts[0] == "pbkdf2-sha256")
        #expect((Int(parts[1]) ?? 0) >= 200_000)
        #expect(PasswordHash.verify("secret-password", against: a))
        #expect(!PasswordHash.verify("secret-passwore", against: a))
    }

    @Test func missingOrWrongCSRFChangesNothing() async throws {
        try await AdminHarness.with { harness, client in
            let id = try await harness.addMember(name: "Анна", phone: "+79990000001")
            let browser = try await AdminBrowser.signIn(client)
            for fields in [[("note", "наличные")], [("csrf", "wrong"), ("note", "наличные")], [("csrf", ""), ("note", "наличные")]] {
                let response = try await browser.post(client, "/admin/members/\(id)/paid", fields)
                #expect(response.status == .forbidden)
            }
            let forget = try await browser.post(client, "/admin/members/\(id)/forget", [("csrf", "nope"), ("confirm", "yes")])
            #expect(forget.status == .forbidden)
            let row = try #require(try await harness.store.database.query("SELECT status, full_name, phone FROM funnel_members WHERE id = $1", [.string(id)]).first)
            #expect(row["status"] == "registered")
            #expect(row["full_name"] == "Анна")
            #expect(row["phone"] == "+79990000001")
            let audit = try await harness.store.database.query("SELECT action FROM hub_audit_log WHERE subject IS NOT NULL")
            #expect(audit.isEmpty)
        }
    }
}

/// A settable millisecond clock for the throttle.
final class ManualMillis: @unchecked Sendable {
    var value: Int64 = 1_000_000
}
