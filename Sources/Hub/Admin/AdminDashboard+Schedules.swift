import Flows
import Foundation

extension AdminDashboard {
    /// Each scheduled flow (today's session post among them): its last run and the next slot, so
    /// the owner sees at a glance whether today's link went out.
    func scheduleContext() async throws -> [[String: Any]] {
        let format = format
        let now = Date()
        var rows: [[String: Any]] = []
        for flow in flows.flows.sorted(by: { $0.name < $1.name }) {
            guard case .cron(let schedule, let zone, _) = flow.trigger else { continue }
            let last = try await store.runs(flow: flow.name, limit: 1).first
            let next = schedule.next(after: now, in: zone).map { Int64($0.timeIntervalSince1970 * 1000) }
            var row: [String: Any] = ["flow": flow.name, "next": format.date(next)]
            if let last {
                row["last"] = ["id": last.id, "at": format.date(last.createdAt), "status": last.status, "label": AdminText.status(last.status),
                               "error": last.error ?? ""] as [String: Any]
            }
            rows.append(row)
        }
        return rows
    }
}
