import Flows
import HTTPTypes

/// One submission of a rendered dashboard form. Each page gives its forms a fresh `form` id, and
/// an action's audit entry is stored under it first, in the action's transaction: the same form
/// sent twice (a double click, a browser resending after a timeout) finds the entry taken and
/// changes nothing more, sends nothing more. A form without one (a page from before) gets a new id.
struct AdminForm {
    /// The page's id and the action: a page's forms share its id (one per page view), so the
    /// action tells them apart (marking paid, then pressing "resend invite" on the same page).
    let id: String

    init(_ fields: [String: String], action: String) {
        // A record id as `RecordID.make()` writes it; anything else is not ours.
        if let given = fields["form"], given.count == 36, given.allSatisfy({ $0.isHexDigit || $0 == "-" }) {
            id = action + ":" + given
        } else {
            id = action + ":" + RecordID.make()
        }
    }

    /// The id a new page gives its forms.
    static func fresh() -> String { RecordID.make() }
}

/// A form sent again: its action was done already, or is under way, or failed.
struct RepeatedForm: Error {}

/// An action refused inside its transaction (which is rolled back): the page says why.
struct RefusedAction: Error {
    let problem: String
    let status: HTTPResponse.Status
}

extension AdminAccounts {
    /// Takes the form's audit entry; `RepeatedForm` when the same form was sent before.
    /// `audit(_:id:details:)` fills in the details once the action knows them.
    func claim(_ db: any SQLConnection, _ form: AdminForm, admin: String, action: String, subject: String, details: Value = [:]) throws {
        do {
            _ = try audit(db, id: form.id, admin: admin, action: action, subject: subject, details: details)
        } catch let error as SQLError where error.kind == .uniqueViolation {
            throw RepeatedForm()
        }
    }

    /// Whether the action a form's entry announced is finished: a Telegram action records
    /// `state` (requested, then done or failed); the others are done when their entry exists.
    func isDone(_ form: AdminForm) async throws -> Bool {
        let details = try await database.query("SELECT details FROM hub_audit_log WHERE id = $1", [.string(form.id)]).first?["details"]
        guard let text = details?.stringValue, let state = try? Value(json: text)["state"] else { return true }
        return state == "done"
    }

    /// Replaces an audit entry's details, in the transaction that made it.
    func audit(_ db: any SQLConnection, id: String, details: Value) throws {
        try db.execute("UPDATE hub_audit_log SET details = $2 WHERE id = $1", [.string(id), .string(details.json)])
    }
}
