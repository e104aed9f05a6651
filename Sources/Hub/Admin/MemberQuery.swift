import Foundation
import Flows

/// The members page's filters, turned into one parameterised WHERE clause. Search is a
/// case-insensitive substring match whose `%`, `_` and `\` are literal; sorting is by a
/// whitelisted key only, so nothing from the request reaches the SQL text.
struct MemberQuery: Sendable {
    var search = ""
    var status: String?
    var paidFrom: String?
    var paidTo: String?
    var sort = "created_desc"
    var page = 1

    static let pageSize = 50
    static let statuses = ["registered", "paid", "joined", "left", "removed"]
    /// key → ORDER BY; the id last makes the order total, so pages neither repeat nor skip rows.
    static let sorts: [(key: String, sql: String)] = [
        ("created_desc", "created_at DESC, id DESC"),
        ("created_asc", "created_at ASC, id ASC"),
        ("name_asc", "full_name ASC, id ASC"),
        ("paid_desc", "paid_at IS NULL, paid_at DESC, id DESC"),
        ("status_asc", "status ASC, created_at DESC, id DESC"),
    ]
    static let columns = "id, full_name, phone, city, email, telegram_id, telegram_username, status, created_at, paid_at, joined_at"

    init(_ parameters: [String: String]) {
        search = String((parameters["q"] ?? "").trimmingCharacters(in: .whitespaces).prefix(200))
        status = parameters["status"].flatMap { Self.statuses.contains($0) ? $0 : nil }
        paidFrom = parameters["paid_from"].flatMap { $0.isEmpty ? nil : String($0.prefix(10)) }
        paidTo = parameters["paid_to"].flatMap { $0.isEmpty ? nil : String($0.prefix(10)) }
        if let sort = parameters["sort"], Self.sorts.contains(where: { $0.key == sort }) { self.sort = sort }
        page = max(1, min(Int(parameters["page"] ?? "") ?? 1, 1_000_000))
    }

    /// `%…%` with the LIKE wildcards and the escape character escaped.
    static func likePattern(_ text: String, folding: Bool = true) -> String {
        var out = "%"
        for c in folding ? text.lowercased() : text {
            if c == "\\" || c == "%" || c == "_" { out.append("\\") }
            out.append(c)
        }
        return out + "%"
    }

    /// The WHERE clause (or "") and its parameters.
    func whereClause(format: AdminFormat) -> (sql: String, parameters: [Value]) {
        var conditions: [String] = []
        var parameters: [Value] = []
        func parameter(_ value: Value) -> String {
            parameters.append(value)
            return "$\(parameters.count)"
        }
        if !search.isEmpty {
            let term = search.hasPrefix("@") ? String(search.dropFirst()) : search
            let p = parameter(.string(Self.likePattern(term)))
            var alternatives = ["LOWER(full_name) LIKE \(p) ESCAPE '\\'", "LOWER(email) LIKE \(p) ESCAPE '\\'",
                                "LOWER(telegram_username) LIKE \(p) ESCAPE '\\'", "phone LIKE \(p) ESCAPE '\\'"]
            // SQLite's LOWER() folds ASCII letters only: match Cyrillic names as typed and as names are written too.
            if term.unicodeScalars.contains(where: { !$0.isASCII }) {
                var variants: [String] = []
                for variant in [term, term.capitalized] where variant != term.lowercased() && !variants.contains(variant) {
                    variants.append(variant)
                    alternatives.append("full_name LIKE \(parameter(.string(Self.likePattern(variant, folding: false)))) ESCAPE '\\'")
                }
            }
            // Phones are stored as +79991234567: "8 999 123" should find them by their digits.
            let digits = term.filter(\.isNumber)
            if digits.count >= 3 && term.allSatisfy({ $0.isNumber || " +-()".contains($0) }) {
                let tail = digits.count == 11 && (digits.hasPrefix("8") || digits.hasPrefix("7")) ? String(digits.dropFirst()) : digits
                alternatives.append("phone LIKE \(parameter(.string(Self.likePattern(tail)))) ESCAPE '\\'")
            }
            conditions.append("(" + alternatives.joined(separator: " OR ") + ")")
        }
        if let status { conditions.append("status = \(parameter(.string(status)))") }
        if let from = format.dayStart(paidFrom) { conditions.append("paid_at >= \(parameter(.millis(from)))") }
        if let to = format.dayStart(paidTo) { conditions.append("paid_at < \(parameter(.millis(to + 86_400_000)))") }
        return (conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "), parameters)
    }

    var orderBy: String { Self.sorts.first { $0.key == sort }?.sql ?? Self.sorts[0].sql }

    /// The filters as a query string (for CSV links and pages), without the page.
    func queryString(page: Int? = nil) -> String {
        var items: [(String, String)] = []
        if !search.isEmpty { items.append(("q", search)) }
        if let status { items.append(("status", status)) }
        if let paidFrom { items.append(("paid_from", paidFrom)) }
        if let paidTo { items.append(("paid_to", paidTo)) }
        if sort != "created_desc" { items.append(("sort", sort)) }
        if let page { items.append(("page", String(page))) }
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
        return items.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }.joined(separator: "&")
    }
}
