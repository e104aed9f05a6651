import Foundation

/// A scratch folder with flow files, and a `hub serve` child started on it.
struct BenchHub {
    let root: URL
    var flows: URL { root.appendingPathComponent("flows") }

    /// A fresh folder holding `flows` (file name → YAML).
    init(_ flows: [String: String]) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("hub-bench-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("flows"), withIntermediateDirectories: true)
        for (name, text) in flows { try text.write(to: self.flows.appendingPathComponent(name), atomically: true, encoding: .utf8) }
    }

    var sqliteURL: String { "sqlite:" + root.appendingPathComponent("hub.db").path }

    /// The environment of a hub on `database` with these flows, its Prodamus webhook keyed for the bench.
    func environment(database: String, extra: [String: String] = [:]) -> [String: String] {
        var env = [
            "HUB_DATABASE_URL": database, "HUB_FLOWS": flows.path, "HUB_LISTEN": "127.0.0.1:0",
            "PRODAMUS_SECRET_KEY": ProdamusWebhooks.secret, "PRODAMUS_FORM_URL": "https://shop.payform.ru/",
        ]
        env.merge(extra) { _, new in new }
        return env
    }

    /// Starts `hub serve` and waits until it listens; returns the process and its port.
    func serve(database: String, extra: [String: String] = [:]) throws -> (BenchProcess, Int) {
        let process = try BenchProcess(["serve", "--log-level", "error"], environment: environment(database: database, extra: extra), directory: root)
        do {
            return (process, try process.waitForPort())
        } catch {
            process.stop()
            throw error
        }
    }

    func remove() { try? FileManager.default.removeItem(at: root) }

    /// A flow on `prodamus.paid` with one pure step: each webhook stores an event and a run.
    static let intakeFlow = """
        name: bench-intake
        on: prodamus.paid
        steps:
          - id: noted
            do: core.set
            with:
              values: { order: "{{ event.order_num }}", sum: "{{ event.sum }}" }
        """

    /// Five pure steps, each reading the one before.
    static let engineFlow = """
        name: bench-engine
        on: { http: /bench/engine }
        steps:
          - id: one
            do: core.set
            with: { values: { n: "{{ event.body.n }}", who: "{{ event.body.name | upper }}" } }
          - id: two
            do: core.set
            with: { values: { greeting: "Здравствуйте, {{ one.who }}", n: "{{ one.n }}" } }
          - id: three
            if: "{{ two.n != null and one.who != '' }}"
            do: core.set
            with: { values: { text: "{{ two.greeting | truncate: 40 }}", paid: true } }
          - id: four
            do: core.set
            with: { values: { summary: "{{ three.text }} / {{ event.body.n | default: 0 }}" } }
          - id: five
            do: core.set
            with: { values: { done: "{{ four.summary | length }}" } }
        """
}
