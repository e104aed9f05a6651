import Flows
import Foundation
import HTTPTypes
import Hummingbird

extension AdminDashboard {
    func loginPage(_ request: Request) async throws -> Response {
        if try await session(request) != nil { return Self.redirect("/admin") }
        return render("login", session: nil, ["title": AdminText.labels["login_title"]!, "next": Self.safeNext(Self.query(request)["next"])])
    }

    /// Checks the password, throttled per login and per client address; on success opens a
    /// session and sets its cookie. Neither the password nor the attempted login is logged.
    func signIn(_ request: Request) async throws -> Response {
        let fields = try await Self.formFields(request)
        let login = String((fields["login"] ?? "").trimmingCharacters(in: .whitespaces).prefix(64))
        let password = String((fields["password"] ?? "").prefix(1024))
        let next = Self.safeNext(fields["next"])
        let keys = ["login:" + login.lowercased()] + (Self.clientAddress(request).map { ["ip:" + $0] } ?? [])
        func refuse(_ status: HTTPResponse.Status, _ problem: String) -> Response {
            render("login", status: status, session: nil,
                   ["title": AdminText.labels["login_title"]!, "problem": problem, "login": login, "next": next])
        }
        let wait = throttle.attempt(keys)
        if wait > 0 { return refuse(.tooManyRequests, AdminText.locked(wait)) }
        guard try await accounts.verify(login: login, password: password) else {
            logger.info("admin sign-in failed")
            let wait = throttle.waitSeconds(keys)
            return wait > 0 ? refuse(.tooManyRequests, AdminText.locked(wait)) : refuse(.unauthorized, AdminText.wrongPassword)
        }
        throttle.succeeded(keys)
        let (token, _) = try await accounts.openSession(admin: login)
        _ = try await accounts.audit(admin: login, action: "sign_in", subject: nil, details: [:])
        return Self.redirect(next, cookie: cookie(token, maxAge: Int(accounts.sessionMillis / 1000)))
    }

    func signOut(_ request: Request, _ session: AdminSession) async throws -> Response {
        if let token = request.cookies[Self.cookieName]?.value { try await accounts.closeSession(token: token) }
        _ = try await accounts.audit(admin: session.admin, action: "sign_out", subject: nil, details: [:])
        return Self.redirect("/admin/login", cookie: cookie("", maxAge: 0))
    }

    /// The session cookie: script cannot read it, other sites cannot send it, and only `/admin` sees it.
    func cookie(_ token: String, maxAge: Int) -> String {
        "\(Self.cookieName)=\(token); Path=/admin; Max-Age=\(maxAge); HttpOnly; SameSite=Strict" + (secureCookie ? "; Secure" : "")
    }

    /// Where to go after signing in: only a path inside the dashboard, never another site.
    static func safeNext(_ next: String?) -> String {
        guard let next, next.hasPrefix("/admin"), !next.contains("//"), !next.contains("\\"), next.count < 512 else { return "/admin" }
        return next
    }

    /// The client's address for throttling. Hummingbird's basic context does not carry the peer
    /// address, so behind a reverse proxy its `X-Real-IP`/`X-Forwarded-For` is used; a direct
    /// client could forge those, which is why the per-login limit applies too. Without either
    /// header there is no per-address key: one shared key would let anyone lock everyone out.
    static func clientAddress(_ request: Request) -> String? {
        if let real = request.headers[HTTPField.Name("X-Real-IP")!], !real.isEmpty { return real }
        if let forwarded = request.headers[HTTPField.Name("X-Forwarded-For")!],
           let first = forwarded.split(separator: ",").first?.trimmingCharacters(in: .whitespaces), !first.isEmpty
        {
            return first
        }
        return nil
    }
}
