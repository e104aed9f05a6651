import Flows
import Foundation
@testable import Hub
import Testing

/// 1,000 generated flow files, each with one admin-style mistake: every one is rejected with a
/// diagnostic that points into that file (file:line:col), and nothing crashes, both through the
/// FlowSet API and through the `hub check` binary on the folder.
@Suite(.serialized, .timeLimit(.minutes(2))) struct MalformedFlowTests {
    static let count = 1000

    /// One kind of mistake: how to write it into a flow numbered `n`, the diagnostic code it must
    /// raise and the line that code must point at.
    struct Mistake: Sendable {
        var name: String
        var code: String
        var line: Int
        var text: @Sendable (Int) -> String
    }

    /// A valid flow with `lines` spliced in as its steps; line numbers below count from this header.
    static func flow(_ n: Int, trigger: String? = nil, steps: String) -> String {
        """
        name: generated-\(n)
        on: \(trigger ?? "{ http: /hooks/generated-\(n) }")
        steps:
        \(steps)
        """
    }

    static let mistakes: [Mistake] = [
        Mistake(name: "bad indentation", code: "yaml-syntax", line: 5) { n in
            flow(n, steps: "  - id: first\n     do: core.set\n    with: { values: { n: \(n) } }")
        },
        Mistake(name: "unknown action", code: "unknown-action", line: 5) { n in
            flow(n, steps: "  - id: first\n    do: core.sett\(String(repeating: "x", count: n % 3))\n    with: { values: { n: \(n) } }")
        },
        Mistake(name: "unknown connector", code: "unknown-instance", line: 4) { n in
            flow(n, steps: "  - do: telegramm.send_message\n    with: { chat_id: \(n), text: hi }")
        },
        Mistake(name: "unknown trigger", code: "unknown-trigger", line: 2) { n in
            flow(n, trigger: "prodamus.payd\(n % 5)", steps: "  - do: core.log\n    with: { message: hi }")
        },
        Mistake(name: "bad template", code: "bad-template", line: 5) { n in
            flow(n, steps: "  - do: core.log\n    with: { message: \"total {{ event.body.n \(n) \" }")
        },
        Mistake(name: "missing required input", code: "missing-input", line: 5) { n in
            flow(n, steps: "  - do: core.log\n    with: { level: info }")
        },
        Mistake(name: "wrong type", code: "wrong-type", line: 5) { n in
            flow(n, steps: "  - do: telegram.send_message\n    with: { chat_id: \"{{ event.body.chat }}\", text: hi, protect_content: maybe\(n) }")
        },
        Mistake(name: "bad cron", code: "bad-cron", line: 2) { n in
            flow(n, trigger: "{ cron: \"\(61 + n % 30) 9 * * *\", timezone: Europe/Moscow }", steps: "  - do: core.log\n    with: { message: hi }")
        },
        Mistake(name: "duplicate step id", code: "duplicate-step-id", line: 7) { n in
            flow(n, steps: "  - id: step\(n)\n    do: core.log\n    with: { message: a }\n  - id: step\(n)\n    do: core.log\n    with: { message: b }")
        },
        Mistake(name: "unknown step key", code: "unknown-key", line: 6) { n in
            flow(n, steps: "  - do: core.log\n    with: { message: hi }\n    retry: { attempts: 3, backof: \(n)s }")
        },
        Mistake(name: "bad condition", code: "bad-condition", line: 5) { n in
            flow(n, steps: "  - do: core.log\n    if: \"{{ event.body.n => \(n) }}\"\n    with: { message: hi }")
        },
        Mistake(name: "unknown reference", code: "unknown-reference", line: 8) { n in
            flow(n, steps: "  - id: first\n    do: core.set\n    with: { values: { n: 1 } }\n  - do: core.log\n    with: { message: \"{{ frist.n }} \(n)\" }")
        },
        Mistake(name: "steps not a list", code: "wrong-type", line: 3) { n in
            "name: generated-\(n)\non: { http: /hooks/generated-\(n) }\nsteps: \(n)\n"
        },
        Mistake(name: "unknown top-level key", code: "unknown-key", line: 3) { n in
            "name: generated-\(n)\non: { http: /hooks/generated-\(n) }\nstepz:\n  - do: core.log\n    with: { message: hi }\n"
        },
        // Reported at the repeated key (line 3), not where the mapping starts.
        Mistake(name: "duplicate key", code: "duplicate-key", line: 3) { n in
            "name: generated-\(n)\non: { http: /hooks/generated-\(n) }\nname: again-\(n)\nsteps:\n  - do: core.log\n    with: { message: hi }\n"
        },
        Mistake(name: "unknown input", code: "unknown-input", line: 5) { n in
            flow(n, steps: "  - do: http.request\n    with: { url: \"http://127.0.0.1/\(n)\", tiemout: \(n) }")
        },
        Mistake(name: "unterminated quote", code: "yaml-syntax", line: 5) { n in
            flow(n, steps: "  - do: \"core.log\n    with: { message: hi \(n) }")
        },
        Mistake(name: "tab indentation", code: "yaml-syntax", line: 5) { n in
            flow(n, steps: "  - do: core.log\n\twith: { message: hi \(n) }")
        },
    ]

    static func generate(into folder: URL) throws -> [String: Mistake] {
        var expected: [String: Mistake] = [:]
        for n in 0..<count {
            let mistake = mistakes[n % mistakes.count]
            let file = folder.appendingPathComponent(String(format: "f%04d.yaml", n)).path
            try mistake.text(n).write(toFile: file, atomically: false, encoding: .utf8)
            expected[file] = mistake
        }
        return expected
    }

    @Test("1,000 malformed flow files: each rejected with a located diagnostic (FlowSet API)")
    func everyFileRejectedInProcess() throws {
        let folder = try FlowFolder([:])
        defer { folder.remove() }
        let expected = try Self.generate(into: URL(fileURLWithPath: folder.flows))
        let set = FlowSet.load(paths: [folder.flows], catalog: Catalog.defaults(BuiltinConnectors.registry), environment: [:])
        #expect(set.sources.count == Self.count)
        #expect(set.flows.isEmpty, "a malformed flow was accepted: \(set.flows.map(\.file).prefix(5))")
        let errors = set.diagnostics.filter { $0.severity == .error }
        let filesWithErrors = Set(errors.map(\.location.file))
        #expect(filesWithErrors.count == Self.count)
        #expect(filesWithErrors == Set(expected.keys))
        for diagnostic in set.diagnostics {
            #expect(diagnostic.location.line >= 1 && diagnostic.location.column >= 1, "\(diagnostic)")
            #expect(diagnostic.headline.hasPrefix("\(diagnostic.location.file):\(diagnostic.location.line):\(diagnostic.location.column): "))
        }
        // Each mistake is reported as what it is, on the line where it was made.
        var missed: [String] = []
        for (file, mistake) in expected.sorted(by: { $0.key < $1.key }) {
            let found = errors.filter { $0.location.file == file }
            if !found.contains(where: { $0.code == mistake.code && $0.location.line == mistake.line }) {
                missed.append("\(mistake.name): expected [\(mistake.code)] on line \(mistake.line), got \(found.map(\.headline))")
            }
        }
        #expect(missed.isEmpty, "\(missed.count) files without the expected diagnostic, e.g.\n\(missed.prefix(20).joined(separator: "\n"))")
    }

    @Test("hub check on a folder of 1,000 malformed flows: exit 1, every file located, no crash")
    func everyFileRejectedByTheBinary() throws {
        let folder = try FlowFolder([:])
        defer { folder.remove() }
        let expected = try Self.generate(into: URL(fileURLWithPath: folder.flows))
        let process = Process()
        process.executableURL = HubProcess.executable
        process.arguments = ["check", folder.flows, "--format", "json"]
        process.currentDirectoryURL = folder.root
        process.environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HUB_SANDBOX": "off"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Read before waiting: the report is larger than a pipe's buffer.
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationReason == .exit, "hub check crashed")
        #expect(process.terminationStatus == 1)
        let report = try #require(try Value(json: String(decoding: data, as: UTF8.self)).arrayValue)
        var files = Set<String>()
        for entry in report where entry["severity"]?.text == "error" {
            let file = try #require(entry["file"]?.text)
            #expect((entry["line"]?.intValue ?? 0) >= 1 && (entry["column"]?.intValue ?? 0) >= 1, "\(entry.json)")
            files.insert(file)
        }
        #expect(files.count == Self.count)
        #expect(files == Set(expected.keys))
    }
}
