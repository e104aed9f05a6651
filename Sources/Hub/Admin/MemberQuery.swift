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
    static let columns = "id, full_name, phone, city, email, telegram_id, telegram_username, status, created_at, paid_at, joined_at, updated_at"

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

    /// The WHERE clause (or "") and its parameters, in `dialect`'s SQL. With `walkingOrder`, the
    /// SQLite search index is only looked up, not used to fetch the members (see `page`).
    func whereClause(format: AdminFormat, dialect: SQLDialect, walkingOrder: Bool = false) -> (sql: String, parameters: [Value]) {
        var conditions: [String] = []
        var parameters: [Value] = []
        func parameter(_ value: Value) -> String {
            parameters.append(value)
            return "$\(parameters.count)"
        }
        if !search.isEmpty { conditions.append(searchCondition(dialect: dialect, walkingOrder: walkingOrder, parameter)) }
        if let status { conditions.append("status = \(parameter(.string(status)))") }
        if let from = format.dayStart(paidFrom) { conditions.append("paid_at >= \(parameter(.millis(from)))") }
        if let to = format.dayStart(paidTo) { conditions.append("paid_at < \(parameter(.millis(to + 86_400_000)))") }
        return (conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "), parameters)
    }

    /// Above this many matches, the page walks the sort's index and skips non-matches (a few
    /// hundred rows for 50); below it, fetching each match and sorting them is cheaper.
    static let walkAbove = 1000

    /// The page's members and how many match in all, on one connection.
    func page(_ db: any SQLConnection, format: AdminFormat, dialect: SQLDialect) throws -> (rows: [SQLRow], total: Int) {
        let (clause, parameters) = whereClause(format: format, dialect: dialect)
        let total = try db.query(countSQL(clause, format: format, dialect: dialect), parameters).first?["n"]?.intValue ?? 0
        let walk = dialect == .sqlite && total > Self.walkAbove
        let (pageClause, pageParameters) = walk ? whereClause(format: format, dialect: dialect, walkingOrder: true) : (clause, parameters)
        let offset = (page - 1) * Self.pageSize
        let rows = try db.query("SELECT \(Self.columns) FROM funnel_members \(pageClause) ORDER BY \(orderBy) LIMIT \(Self.pageSize) OFFSET \(offset)",
                                pageParameters)
        return (rows, total)
    }

    /// Counting the matches of a search alone starts from the index's rows rather than fetching
    /// every member among them: the same number (members that exist), several times faster.
    private func countSQL(_ clause: String, format: AdminFormat, dialect: SQLDialect) -> String {
        if usesSearchIndex(dialect) && status == nil && format.dayStart(paidFrom) == nil && format.dayStart(paidTo) == nil {
            // The search is then the only condition, so its MATCH text is $1.
            return "SELECT COUNT(*) AS n FROM funnel_members_search_docs WHERE docid IN "
                + "(SELECT rowid FROM funnel_members_search WHERE funnel_members_search MATCH $1) AND member_id IN (SELECT id FROM funnel_members)"
        }
        return "SELECT COUNT(*) AS n FROM funnel_members \(clause)"
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
