import Flows
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

extension AdminDashboard {
    func membersPage(_ request: Request, _ session: AdminSession) async throws -> Response {
        let query = MemberQuery(Self.query(request))
        let format = format
        let dialect = store.database.dialect
        let (rows, total) = try await store.database.withConnection { db in try query.page(db, format: format, dialect: dialect) }
        let pages = max(1, (total + MemberQuery.pageSize - 1) / MemberQuery.pageSize)
        var values: [String: Any] = [
            "title": AdminText.labels["members_title"]!,
            "filter": ["q": query.search, "paid_from": query.paidFrom ?? "", "paid_to": query.paidTo ?? ""],
            "statuses": MemberQuery.statuses.map { ["value": $0, "label": AdminText.status($0), "selected": $0 == query.status] },
            "sorts": MemberQuery.sorts.map { ["value": $0.key, "label": AdminText.labels["sort_" + $0.key] ?? $0.key, "selected": $0.key == query.sort] },
            "query": query.queryString(),
            "total": total, "page": query.page, "pages": pages,
            "rows": rows.map { Self.memberContext($0, format) },
        ]
        // Absent keys, not empty strings: an empty string would still open the template's section.
        if query.page > 1 { values["prev"] = query.queryString(page: query.page - 1) }
        if query.page < pages { values["next"] = query.queryString(page: query.page + 1) }
        return render("members", session: session, values)
    }

    /// Every member the filters match, as CSV (the page's sort, no paging).
    func membersCSV(_ request: Request) async throws -> Response {
        let query = MemberQuery(Self.query(request))
        let format = format
        let (clause, parameters) = query.whereClause(format: format, dialect: store.database.dialect)
        let sql = "SELECT \(MemberQuery.columns) FROM funnel_members \(clause) ORDER BY \(query.orderBy)"
        let rows = try await store.database.query(sql, parameters)
        // A BOM, so spreadsheet programs read the Cyrillic as UTF-8.
        var csv = "\u{FEFF}" + MemberCSV.line(MemberCSV.header)
        for row in rows {
            csv += MemberCSV.line([
                row["id"]?.text ?? "", row["full_name"]?.text ?? "", row["phone"]?.text ?? "", row["email"]?.text ?? "",
                row["city"]?.text ?? "", row["telegram_username"]?.text ?? "", row["telegram_id"]?.text ?? "", row["status"]?.text ?? "",
                format.date(row["created_at"]?.millisValue), format.date(row["paid_at"]?.millisValue), format.date(row["joined_at"]?.millisValue),
            ])
        }
        let headers: HTTPFields = [.contentType: "text/csv; charset=utf-8", .contentDisposition: "attachment; filename=\"members.csv\"",
                                   .cacheControl: "no-store"]
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: csv)))
    }

    func memberPage(_ id: String, _ session: AdminSession, notice: String? = nil, problem: String? = nil,
                    status: HTTPResponse.Status = .ok) async throws -> Response
    {
        let format = format
        let found = try await store.database.withConnection { db -> [String: [SQLRow]]? in
            guard let member = try db.query("SELECT \(MemberQuery.columns) FROM funnel_members WHERE id = $1", [.string(id)]).first else {
                return nil
            }
            let telegramID = member["telegram_id"] ?? .null
            return [
                "member": [member],
                "payments": try db.query("SELECT order_id, amount, currency, status, note, created_at, paid_at FROM funnel_payments WHERE member_id = $1 ORDER BY created_at DESC", [.string(id)]),
                "invites": try db.query("SELECT invite_link, status, created_at, expires_at FROM funnel_invites WHERE member_id = $1 ORDER BY created_at DESC LIMIT 50", [.string(id)]),
                "messages": telegramID.isNull ? [] : try db.query("SELECT direction, text, created_at FROM funnel_support_messages WHERE telegram_id = $1 ORDER BY created_at DESC LIMIT 100", [telegramID]),
                "audit": try db.query("SELECT at, admin, action, details FROM hub_audit_log WHERE subject = $1 ORDER BY at DESC LIMIT 100", [.string("member:" + id)]),
            ]
        }
        guard let found, let member = found["member"]?.first else {
            return render("message", status: .notFound, session: session, ["title": AdminText.notFound, "problem": AdminText.notFound])
        }
        var context = Self.memberContext(member, format)
        context["city"] = member["city"]?.text ?? ""
        context["telegram_id"] = member["telegram_id"]?.text ?? ""
        context["joined"] = format.date(member["joined_at"]?.millisValue)
        context["version"] = member["updated_at"]?.text ?? ""
        var values: [String: Any] = [
            "title": (member["full_name"]?.text ?? "") + " — " + AdminText.labels["member_title"]!,
            "member": context,
            "payments": (found["payments"] ?? []).map { row -> [String: Any] in
                ["order": row["order_id"]?.text ?? "", "amount": row["amount"]?.text ?? "", "currency": row["currency"]?.text ?? "",
                 "status_label": AdminText.status(row["status"]?.text ?? ""), "note": row["note"]?.text ?? "",
                 "created": format.date(row["created_at"]?.millisValue), "paid": format.date(row["paid_at"]?.millisValue)]
            },
            "invites": (found["invites"] ?? []).map { row -> [String: Any] in
                ["link": row["invite_link"]?.text ?? "", "status_label": AdminText.status(row["status"]?.text ?? ""),
                 "created": format.date(row["created_at"]?.millisValue), "expires": format.date(row["expires_at"]?.millisValue)]
            },
            "messages": (found["messages"] ?? []).map { row -> [String: Any] in
                ["direction": AdminText.status(row["direction"]?.text ?? ""), "text": row["text"]?.text ?? "", "created": format.date(row["created_at"]?.millisValue)]
            },
            "audit": (found["audit"] ?? []).map { row -> [String: Any] in
                ["at": format.date(row["at"]?.millisValue), "admin": row["admin"]?.text ?? "", "action": row["action"]?.text ?? "",
                 "details": row["details"]?.text ?? ""]
            },
        ]
        if let notice, let text = AdminText.notices[notice] { values["flash"] = text }
        if let problem { values["problem"] = problem }
        return render("member", status: status, session: session, values)
    }

    static func memberContext(_ row: SQLRow, _ format: AdminFormat) -> [String: Any] {
        let status = row["status"]?.text ?? ""
        return [
            "id": row["id"]?.text ?? "", "name": row["full_name"]?.text ?? "", "phone": row["phone"]?.text ?? "",
            "email": row["email"]?.text ?? "", "username": row["telegram_username"]?.text ?? "",
            "status": status, "status_label": AdminText.status(status), "removed": status == "removed", "bound": !(row["telegram_id"] ?? .null).isNull,
            "created": format.date(row["created_at"]?.millisValue), "paid": format.date(row["paid_at"]?.millisValue),
        ]
    }
}
