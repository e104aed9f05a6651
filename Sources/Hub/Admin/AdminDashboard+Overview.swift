import Flows
import Foundation
import Hummingbird

extension AdminDashboard {
    static let periods = [7, 30, 90]

    /// Registrations, payments and revenue per day as SVG, the funnel, connector health, dead letters.
    func overview(_ request: Request, _ session: AdminSession) async throws -> Response {
        let days = Int(Self.query(request)["days"] ?? "").flatMap { Self.periods.contains($0) ? $0 : nil } ?? 30
        let format = format
        let offset = format.offsetMillis
        let today = (Store.now() + offset) / 86_400_000
        let firstDay = today - Int64(days) + 1
        let since = firstDay * 86_400_000 - offset
        // The offset is the zone's, computed here (an integer, not request data); the date is bound.
        let registrationsSQL = """
            SELECT (created_at + \(offset)) / 86400000 AS day, COUNT(*) AS n FROM funnel_members
            WHERE created_at >= $1 GROUP BY (created_at + \(offset)) / 86400000
            """
        let paymentsSQL = """
            SELECT (paid_at + \(offset)) / 86400000 AS day, COUNT(*) AS n, SUM(CAST(amount AS NUMERIC)) AS revenue FROM funnel_payments
            WHERE status = 'paid' AND paid_at >= $1 GROUP BY (paid_at + \(offset)) / 86400000
            """
        let funnelSQL = """
            SELECT COUNT(*) AS registered, COUNT(paid_at) AS paid, COUNT(joined_at) AS joined,
                SUM(CASE WHEN status = 'joined' THEN 1 ELSE 0 END) AS active
            FROM funnel_members WHERE created_at >= $1
            """
        let (registrations, payments, funnelRows) = try await store.database.withConnection { db in
            (try db.query(registrationsSQL, [.millis(since)]), try db.query(paymentsSQL, [.millis(since)]), try db.query(funnelSQL, [.millis(since)]))
        }
        let runCounts = try await store.runCounts()

        var registered: [Int64: Double] = [:], paid: [Int64: Double] = [:], revenue: [Int64: Double] = [:]
        for row in registrations { if let day = row["day"]?.millisValue { registered[day] = Self.double(row["n"]) } }
        for row in payments {
            guard let day = row["day"]?.millisValue else { continue }
            paid[day] = Self.double(row["n"])
            revenue[day] = Self.double(row["revenue"])
        }
        let dayLabel = DateFormatter()
        dayLabel.timeZone = TimeZone(secondsFromGMT: 0)
        dayLabel.dateFormat = "dd.MM"
        let dayList = (firstDay...today).map { ($0, dayLabel.string(from: Date(timeIntervalSince1970: Double($0) * 86_400))) }
        func chart(_ key: String, _ values: [Int64: Double]) -> [String: Any] {
            let title = AdminText.labels[key]!
            return ["title": title, "svg": AdminChart(points: dayList.map { ($0.1, values[$0.0] ?? 0) }).svg(title: title)]
        }

        let funnel = funnelRows.first
        let stages = [("stage_registered", "registered"), ("stage_paid", "paid"), ("stage_joined", "joined"), ("stage_active", "active")]
        let counts = stages.map { Int(Self.double(funnel?[$0.1])) }
        let funnelContext = stages.enumerated().map { i, stage -> [String: Any] in
            let previous = i == 0 ? nil : counts[i - 1]
            let conversion = previous.map { $0 > 0 ? String(format: "%.1f %%", Double(counts[i]) * 100 / Double($0)) : "—" } ?? ""
            return ["label": AdminText.labels[stage.0]!, "count": counts[i], "conversion": conversion]
        }
        let schedules = try await scheduleContext()
        let surveyed = await health.value(waitingAtMost: .seconds(2))
        let health = surveyed ?? []
        let checks = Dictionary(health.map { ($0.name, $0.checks) }, uniquingKeysWith: { a, _ in a })
        let levels = health.flatMap(\.checks).map(\.level)
        let errors = levels.filter { $0 == .error }.count, warnings = levels.filter { $0 == .warning }.count
        return render("overview", session: session, [
            "title": AdminText.labels["overview_title"]!,
            "periods": Self.periods.map { ["days": $0, "label": AdminText.labels["days_\($0)"]!, "current": $0 == days] },
            "charts": [chart("chart_registrations", registered), chart("chart_payments", paid), chart("chart_revenue", revenue)],
            "funnel": funnelContext,
            "schedules": schedules, "has_schedules": !schedules.isEmpty,
            "connectors": connectorStates.map { state in
                [
                    "name": state.name, "type": state.type, "state": AdminText.labels[state.running ? "running" : "not_running"]!,
                    "has_checks": !(checks[state.name] ?? []).isEmpty,
                    "checks": (checks[state.name] ?? []).map { check in
                        ["name": check.name, "level": check.level.rawValue, "label": AdminText.labels["health_\(check.level.rawValue)"]!,
                         "text": check.russian] as [String: Any]
                    },
                ] as [String: Any]
            },
            "health_pending": surveyed == nil,
            "health_problems": errors + warnings > 0,
            "health_level": errors > 0 ? "error" : "warning",
            "health_summary": AdminText.healthProblems(errors: errors, warnings: warnings),
            "failed_runs": runCounts["failed"] ?? 0,
            "run_counts": RunStatus.allCases.map { ["status": $0.rawValue, "label": AdminText.status($0.rawValue), "count": runCounts[$0.rawValue] ?? 0] },
        ])
    }

    /// `/admin/api/stats`: the same numbers for scripts and monitoring.
    func stats() async throws -> Value {
        let members = try await store.database.query("SELECT status, COUNT(*) AS n FROM funnel_members GROUP BY status")
        let runs = try await store.runCounts()
        return [
            "members": .object(Dictionary(members.map { ($0["status"]?.text ?? "", Value.number(Self.double($0["n"]))) }, uniquingKeysWith: { a, _ in a })),
            "runs": .object(runs.mapValues { .number(Double($0)) }),
            "connectors": .array(connectorStates.map { ["name": .string($0.name), "type": .string($0.type), "running": .bool($0.running)] }),
            "health": .array((await health.value(waitingAtMost: .seconds(5)) ?? []).map { instance in
                ["name": .string(instance.name), "type": .string(instance.type),
                 "checks": .array(instance.checks.map { ["name": .string($0.name), "level": .string($0.level.rawValue), "message": .string($0.message)] })]
            }),
        ]
    }

    /// A count or sum, whether the database gave a number or numeric text.
    static func double(_ value: Value?) -> Double {
        switch value {
        case .number(let n): n
        case .string(let s): Double(s) ?? 0
        default: 0
        }
    }
}
