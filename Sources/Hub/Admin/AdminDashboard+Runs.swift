import Flows
import Foundation
import Hummingbird

extension AdminDashboard {
    func runsPage(_ request: Request, _ session: AdminSession) async throws -> Response {
        let query = Self.query(request)
        let flow = query["flow"].flatMap { $0.isEmpty ? nil : $0 }
        let status = query["status"].flatMap { RunStatus(rawValue: $0)?.rawValue }
        let runs = try await store.runs(flow: flow, status: status, limit: 200)
        let format = format
        let names = Set(flows.flows.map(\.name)).union(flow.map { [$0] } ?? []).sorted()
        return render("runs", session: session, [
            "title": AdminText.labels["runs_title"]!,
            "retention": AdminText.retention(keepRuns),
            "flows": names.map { ["value": $0, "selected": $0 == flow] },
            "statuses": RunStatus.allCases.map { ["value": $0.rawValue, "label": AdminText.status($0.rawValue), "selected": $0.rawValue == status] },
            "rows": runs.map { run -> [String: Any] in
                ["id": run.id, "flow": run.flow, "status": run.status, "status_label": AdminText.status(run.status),
                 "created": format.date(run.createdAt), "finished": format.date(run.finishedAt), "error": run.error ?? ""]
            },
        ])
    }

    func runPage(_ id: String, _ session: AdminSession, notice: String? = nil) async throws -> Response {
        guard let found = try await store.run(id: id) else {
            return render("message", status: .notFound, session: session, ["title": AdminText.notFound, "problem": AdminText.notFound])
        }
        let format = format
        let run = found.run
        var values: [String: Any] = [
            "title": AdminText.labels["run_title"]! + " " + run.flow,
            "run": ["id": run.id, "flow": run.flow, "status": run.status, "status_label": AdminText.status(run.status),
                    "created": format.date(run.createdAt), "finished": format.date(run.finishedAt),
                    "failed_step": run.failedStep ?? "", "error": run.error ?? "", "retryable": run.status == RunStatus.failed.rawValue,
                    "event": found.event.json] as [String: Any],
            "steps": found.steps.map { step -> [String: Any] in
                var context: [String: Any] = ["id": step.stepID, "status": step.status, "status_label": AdminText.status(step.status),
                                              "attempts": step.attempts]
                // Absent keys, not empty strings: an empty string would still open the template's section.
                if let result = step.result, !result.isEmpty { context["result"] = result }
                if let error = step.error, !error.isEmpty { context["error"] = error }
                return context
            },
        ]
        if let notice, let text = AdminText.notices[notice] { values["flash"] = text }
        return render("run", session: session, values)
    }

    /// "Повторить": a dead-lettered run goes back to the queue from its failed step.
    func retryRun(_ id: String, _ session: AdminSession) async throws -> Response {
        guard try await store.retry(runID: id) else {
            return render("message", status: .conflict, session: session, ["problem": AdminText.notRetryable])
        }
        _ = try await accounts.audit(admin: session.admin, action: "retry_run", subject: "run:" + id, details: [:])
        wakeUp()
        return Self.redirect("/admin/runs/\(id)?notice=retried")
    }

    func flowsPage(_ request: Request, _ session: AdminSession) async throws -> Response {
        let format = format
        var rows: [[String: Any]] = []
        for flow in flows.flows.sorted(by: { $0.name < $1.name }) {
            let last = try await store.runs(flow: flow.name, limit: 1).first
            var scheduled = false
            let trigger: String
            switch flow.trigger {
            case .cron(let schedule, let zone, _):
                trigger = AdminText.trigger(cron: schedule.text, timeZone: zone.identifier)
                scheduled = true
            case .http(let path): trigger = AdminText.trigger(http: path)
            case .runFailed: trigger = AdminText.triggerRunFailed
            case .event(let instance, let name): trigger = AdminText.trigger(event: "\(instance).\(name)")
            }
            var row: [String: Any] = [
                "name": flow.name, "file": flow.file, "trigger": trigger, "scheduled": scheduled,
                "encoded": flow.name.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "",
                "last_run": last.map { format.date($0.createdAt) } ?? AdminText.never,
            ]
            if let last {
                row["status"] = last.status
                row["status_label"] = AdminText.status(last.status)
            }
            rows.append(row)
        }
        return render("flows", session: session, ["title": AdminText.labels["flows_title"]!, "rows": rows])
    }

    /// "Запустить сейчас": queues a run of a scheduled flow with the event its schedule would give,
    /// as `hub run` does; the worker picks it up at once. The page's form id is the event's dedup
    /// key, so a double click queues one run (and posts one link), and its double lands on it too.
    func runFlowNow(_ name: String, _ form: AdminForm, _ session: AdminSession) async throws -> Response {
        guard let flow = flows.flow(named: name), case .cron(_, let zone, _) = flow.trigger else {
            return render("message", status: .notFound, session: session, ["problem": AdminText.unknownFlow])
        }
        let payload: Value = ["slot": .string(Date().formatted(.iso8601)), "timezone": .string(zone.identifier), "manual": true]
        let source = "manual:\(flow.name)"
        guard let runID = try await store.storeEvent(source: source, dedupKey: form.id, payload: payload,
                                                     runs: [NewRun(flow: flow.name, flowVersion: flow.version)])?.first else {
            let first = try await store.database.query("""
                SELECT r.id FROM hub_runs r JOIN hub_events e ON e.id = r.event_id WHERE e.source = $1 AND e.dedup_key = $2
                """, [.string(source), .string(form.id)]).first?["id"]?.stringValue
            return Self.redirect(first.map { "/admin/runs/\($0)?notice=queued" } ?? "/admin/runs")
        }
        _ = try await accounts.audit(admin: session.admin, action: "run_flow", subject: "flow:" + flow.name, details: ["run": .string(runID)])
        wakeUp()
        return Self.redirect("/admin/runs/\(runID)?notice=queued")
    }

    func connectorsPage(_ session: AdminSession) -> Response {
        render("connectors", session: session, ["title": AdminText.labels["connectors_title"]!, "docs": ConnectorDocs.markdown(specs)])
    }
}
