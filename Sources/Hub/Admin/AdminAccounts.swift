import Flows
import Foundation

/// A signed-in admin, as a request's session resolves.
struct AdminSession: Sendable {
    var admin: String
    var csrfToken: String
}

/// Admins, their sessions and the audit log in the hub's database. Session tokens live only in
/// the admin's cookie; the table keeps their SHA-256, so reading the database opens no session.
public struct AdminAccounts: Sendable {
    let database: any SQLDatabase
    /// How long a session lasts after sign-in.
    var sessionMillis: Int64 = 12 * 3_600_000

    public init(database: any SQLDatabase) {
        self.database = database
    }

    /// Creates an admin, or sets a new password when the login exists.
    /// A login and password fit to store; checked before anything is opened or written.
    public static func validate(login: String, password: String) throws {
        guard isValidLogin(login.trimmingCharacters(in: .whitespaces)) else {
            throw HubError(code: "bad-login", "the login must be 1–64 letters, digits, '.', '_' or '-'")
        }
        guard password.count >= 8 else { throw HubError(code: "weak-password", "the password must be at least 8 characters long") }
    }

    public func setPassword(login: String, password: String) async throws {
        let login = login.trimmingCharacters(in: .whitespaces)
        try Self.validate(login: login, password: password)
        let hash = PasswordHash.make(password)
        try await database.execute("""
            INSERT INTO hub_admins (login, password_hash, created_at) VALUES ($1, $2, $3)
            ON CONFLICT (login) DO UPDATE SET password_hash = $2
            """, [.string(login), .string(hash), .millis(Store.now())])
        // A new password ends the sessions opened with the old one.
        try await database.execute("DELETE FROM hub_admin_sessions WHERE admin = $1", [.string(login)])
    }

    /// Creates `admin` with `password` when there is no admin at all (HUB_ADMIN_PASSWORD at start);
    /// returns whether it did.
    @discardableResult
    public func bootstrap(password: String?) async throws -> Bool {
        guard let password, !password.isEmpty else { return false }
        let count = try await database.query("SELECT COUNT(*) AS n FROM hub_admins").first?["n"]?.intValue ?? 0
        guard count == 0 else { return false }
        try await setPassword(login: "admin", password: password)
        return true
    }

    /// Checks a password; the unknown-login path does the same work so timing reveals nothing.
    func verify(login: String, password: String) async throws -> Bool {
        let stored = try await database.query("SELECT password_hash FROM hub_admins WHERE login = $1", [.string(login)])
            .first?["password_hash"]?.stringValue
        let hash = stored ?? PasswordHash.decoy
        // 200,000 rounds take a noticeable slice of a core: keep them off the cooperative pool.
        let matches = await Task.detached { PasswordHash.verify(password, against: hash) }.value
        return stored != nil && matches
    }

    /// Opens a session; returns the cookie's token and the session.
    func openSession(admin: String) async throws -> (token: String, session: AdminSession) {
        let token = Crypto.token(bytes: 32)
        let csrf = Crypto.token(bytes: 24)
        let now = Store.now()
        try await database.transaction { db in
            try db.execute("DELETE FROM hub_admin_sessions WHERE expires_at < $1", [.millis(now)])
            try db.execute("INSERT INTO hub_admin_sessions (id, admin, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
                           [.string(Self.sessionID(token)), .string(admin), .string(csrf), .millis(now), .millis(now + sessionMillis)])
        }
        return (token, AdminSession(admin: admin, csrfToken: csrf))
    }

    /// The live session of a cookie token, if any.
    func session(token: String) async throws -> AdminSession? {
        guard !token.isEmpty, token.count <= 128 else { return nil }
        let row = try await database.query(
            "SELECT admin, csrf_token FROM hub_admin_sessions WHERE id = $1 AND expires_at > $2",
            [.string(Self.sessionID(token)), .millis(Store.now())]).first
        guard let row, let admin = row["admin"]?.stringValue, let csrf = row["csrf_token"]?.stringValue else { return nil }
        return AdminSession(admin: admin, csrfToken: csrf)
    }

    func closeSession(token: String) async throws {
        try await database.execute("DELETE FROM hub_admin_sessions WHERE id = $1", [.string(Self.sessionID(token))])
    }

    /// Writes one audit entry; `details` must hold no secrets (no passwords, tokens or session ids).
    @discardableResult
    func audit(_ db: any SQLConnection, id: String = RecordID.make(), admin: String, action: String, subject: String?, details: Value) throws -> String {
        try db.execute("INSERT INTO hub_audit_log (id, at, admin, action, subject, details) VALUES ($1, $2, $3, $4, $5, $6)",
                       [.string(id), .millis(Store.now()), .string(admin), .string(action), subject.map(Value.string) ?? .null, .string(details.json)])
        return id
    }

    func audit(admin: String, action: String, subject: String?, details: Value, id: String = RecordID.make()) async throws -> String {
        try await database.withConnection { db in try self.audit(db, id: id, admin: admin, action: action, subject: subject, details: details) }
    }

    /// Drops the free-text notes from a subject's audit entries, keeping the rest: when a
    /// member's personal data is erased, an admin's note about them goes too.
    func forgetNotes(_ db: any SQLConnection, subject: String) throws {
        for row in try db.query("SELECT id, details FROM hub_audit_log WHERE subject = $1", [.string(subject)]) {
            guard let text = row["details"]?.stringValue, case .object(var details)? = try? Value(json: text), details["note"] != nil else { continue }
            details["note"] = nil
            try db.execute("UPDATE hub_audit_log SET details = $2 WHERE id = $1", [row["id"] ?? .null, .string(Value.object(details).json)])
        }
    }

    /// Replaces an audit entry's details with the outcome of the action it announced.
    func completeAudit(id: String, details: Value) async throws {
        try await database.withConnection { db in try self.audit(db, id: id, details: details) }
    }

    static func sessionID(_ token: String) -> String { Crypto.hex(Crypto.sha256(Array(token.utf8))) }

    static func isValidLogin(_ login: String) -> Bool {
        (1...64).contains(login.count) && login.allSatisfy { $0.isLetter || $0.isNumber || "._-".contains($0) }
    }
}
