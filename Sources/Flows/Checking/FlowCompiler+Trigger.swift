import Foundation

extension FlowCompiler {
    mutating func compileTrigger(_ node: SourceNode) -> Trigger? {
        switch node {
        case .scalar(let s):
            if s.text == TriggerKey.cron || s.text == TriggerKey.http {
                error(s.location, "'\(s.text)' needs settings", "missing-key",
                      [s.text == TriggerKey.cron ? "write 'on: { cron: \"0 9 * * *\", timezone: Europe/Moscow }'" : "write 'on: { http: /hooks/name }'"])
                return nil
            }
            return eventTrigger(s)
        case .mapping(let members, _):
            if node[TriggerKey.cron] != nil {
                checkKeys(members, allowed: TriggerKey.cronKeys, context: "cron trigger")
                return cronTrigger(node)
            }
            if let path = node[TriggerKey.http] {
                checkKeys(members, allowed: [TriggerKey.http], context: "http trigger")
                return httpTrigger(path)
            }
            error(node.location, "unknown trigger", "unknown-trigger",
                  ["write 'on: instance.event' (e.g. prodamus.paid), 'on: { cron: \"0 9 * * *\", timezone: Europe/Moscow }' or 'on: { http: /hooks/name }'"])
            return nil
        case .sequence:
            error(node.location, "a flow has exactly one trigger, found a list", "wrong-type", ["make one flow per trigger"])
            return nil
        }
    }

    private mutating func httpTrigger(_ path: SourceNode) -> Trigger? {
        // The path is shown on the dashboard and stored with each event: no place for a secret.
        if let s = path.scalar, let start = s.text.range(of: "${") {
            error(locate(s, offset: s.text.distance(from: s.text.startIndex, to: start.lowerBound), in: s.text),
                  "the webhook path cannot hold ${…}: it is shown on the dashboard and stored with each event", "bad-trigger",
                  ["keep the path plain and check a key in the flow's 'if:', e.g. if: \"{{ event.headers['x-hook-key'] == '${HOOK_KEY}' }}\""])
            return nil
        }
        guard let text = string(path, what: "the webhook path") else { return nil }
        guard text.hasPrefix("/"), !text.contains(" "), text.count > 1 else {
            error(path.location, "the webhook path '\(text)' must start with '/' and have no spaces", "bad-trigger", ["e.g. 'http: /hooks/signup'"])
            return nil
        }
        // A connector's own route is matched first: a flow on it would never run.
        if let owner = connectorRoutes().first(where: { $0.path == text }) {
            error(path.location, "the webhook path '\(text)' is where the \(owner.instance) connector receives its webhooks", "bad-trigger",
                  ["choose another path, e.g. '/hooks/orders'"])
            return nil
        }
        return .http(path: text)
    }

    /// The paths connector instances receive webhooks at: their `webhook_path` setting, as
    /// written, from the environment, or its default.
    private func connectorRoutes() -> [(instance: String, path: String)] {
        catalog.instanceNames.compactMap { name in
            guard let instance = catalog.instance(name), instance.spec.config[named: FlowCompiler.webhookPathSetting] != nil,
                  let path = instance.config(environment: environment).get(FlowCompiler.webhookPathSetting)
            else { return nil }
            return (name, path)
        }
    }

    /// The setting that names where a connector receives its webhooks (Prodamus, Telegram).
    static let webhookPathSetting = "webhook_path"

    private mutating func eventTrigger(_ s: SourceNode.Scalar) -> Trigger? {
        let parts = s.text.split(separator: ".", maxSplits: 1).map(String.init)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            error(s.location, "trigger '\(s.text)' must be written instance.event", "unknown-trigger",
                  ["e.g. 'on: prodamus.paid' or 'on: telegram.command'"] + triggerChoicesNote())
            return nil
        }
        let (instanceName, name) = (parts[0], parts[1])
        if instanceName == BuiltIn.hubInstance {
            guard name == BuiltIn.runFailed else {
                error(s.location, "unknown trigger 'hub.\(name)'", "unknown-trigger", ["the hub's own trigger is 'hub.run_failed'"])
                return nil
            }
            return .runFailed
        }
        guard let instance = catalog.instance(instanceName) else {
            error(s.location, "unknown connector instance '\(instanceName)'", "unknown-instance", [instanceNote(instanceName)])
            return nil
        }
        guard instance.spec.trigger(name) != nil else {
            let names = instance.spec.triggers.map(\.name)
            error(s.location.advanced(by: instanceName.count + 1), "unknown trigger '\(s.text)'", "unknown-trigger",
                  [Suggestions.closest(to: name, in: names).map { "did you mean '\(instanceName).\($0)'?" }
                      ?? Suggestions.note(for: name, in: names, kind: "\(instanceName) trigger")])
            return nil
        }
        return .event(instance: instanceName, name: name)
    }

    private func triggerChoicesNote() -> [String] {
        let all = catalog.instanceNames.flatMap { name in catalog.instance(name)!.spec.triggers.map { "\(name).\($0.name)" } }
        return all.isEmpty ? [] : ["triggers here: " + all.joined(separator: ", ")]
    }

    func instanceNote(_ name: String) -> String {
        if let type = catalog.registry.type(named: name), let configured = catalog.instances.values.first(where: { $0.spec.name == type.spec.name }) {
            return "the \(name) connector is configured as '\(configured.name)'"
        }
        return Suggestions.note(for: name, in: catalog.instanceNames, kind: "instance")
    }

    private mutating func cronTrigger(_ node: SourceNode) -> Trigger? {
        var schedule: CronSchedule?
        if let cronNode = node[TriggerKey.cron], let text = string(cronNode, what: "the cron schedule") {
            do {
                schedule = try CronSchedule(parsing: text)
            } catch {
                let at = cronNode.scalar.map { locate($0, offset: error.offset, in: text) } ?? cronNode.location
                self.error(at, error.message, "bad-cron", error.notes)
            }
        }
        var timeZone: TimeZone?
        if let zoneNode = node[TriggerKey.timezone] {
            if let name = string(zoneNode, what: "the time zone") {
                timeZone = TimeZone(identifier: name)
                if timeZone == nil {
                    let known = TimeZone.knownTimeZoneIdentifiers
                    error(zoneNode.location, "unknown time zone '\(name)'", "bad-timezone",
                          [Suggestions.closest(to: name, in: known).map { "did you mean '\($0)'?" } ?? "use an IANA name such as Europe/Moscow"])
                }
            }
        } else {
            error(node.location, "the cron trigger has no time zone", "missing-key",
                  ["add 'timezone: Europe/Moscow' (an IANA name), so the time does not depend on the server's clock"])
        }
        var grace = MissedSlots.defaultGrace
        if let graceNode = node[TriggerKey.grace], let text = string(graceNode, what: "the grace period") {
            if let parsed = FlowCompiler.duration(text) { grace = parsed } else {
                error(graceNode.location, "'\(text)' is not a duration", "wrong-type", ["write e.g. 30m, 2h, 90s"])
            }
        }
        var missed = MissedSlots.latest(grace: grace)
        if let missedNode = node[TriggerKey.missed], let text = string(missedNode, what: "the missed-slot policy") {
            switch text {
            case "latest": missed = .latest(grace: grace)
            case "all": missed = .all(grace: grace)
            case "skip": missed = .skip
            default: error(missedNode.location, "unknown missed-slot policy '\(text)'", "wrong-type", ["valid: 'latest' (default), 'all', 'skip'"])
            }
        }
        guard let schedule, let timeZone else { return nil }
        return .cron(schedule, timeZone: timeZone, missed: missed)
    }

    /// `500ms`, `30s`, `5m`, `2h`, `90d`, or a plain number of seconds.
    /// Nil for anything else, and for lengths beyond `longestDuration` (or `inf`), which would
    /// not fit in a count of milliseconds.
    public static func duration(_ text: String) -> Duration? {
        let t = text.trimmingCharacters(in: .whitespaces)
        for (suffix, scale) in [("ms", 0.001), ("s", 1.0), ("m", 60.0), ("h", 3600.0), ("d", 86400.0)] where t.hasSuffix(suffix) {
            if let n = Double(t.dropLast(suffix.count)) { return milliseconds(n * scale * 1000) }
        }
        return Double(t).flatMap { milliseconds($0 * 1000) }
    }

    /// A thousand years: longer than any wait, backoff or retention means anything.
    static let longestDuration: Double = 1000 * 365.25 * 86400 * 1000

    private static func milliseconds(_ value: Double) -> Duration? {
        value >= 0 && value <= longestDuration ? .milliseconds(Int64(value)) : nil
    }
}
