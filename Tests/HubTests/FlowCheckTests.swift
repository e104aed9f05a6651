import Flows
import Foundation
@testable import Hub
import Testing

/// What `hub check` says about config and flows written against the built-in connectors.
@Suite struct FlowCheckTests {
    static let catalog = Catalog.defaults(BuiltinConnectors.registry)

    static func check(_ flow: String, environment: [String: String] = [:]) -> [String] {
        FlowSet.compile([("hook.yaml", flow)], catalog: catalog, environment: environment).diagnostics.map(\.description)
    }

    /// The report goes to terminals, CI logs and the journal: a line holding a secret's value is
    /// never printed, whatever the diagnostic on it.
    @Test func aLineHoldingASecretIsNotPrintedUnderAnyDiagnostic() {
        let source = "connectors:\n  payments: { type: prodamsu, secret_key: 0f3a9c77e1 }\n  bot:\n    type: telegram\n    token: 123456:ABCdef\n    tokn: x\n"
        var compiler = FlowCompiler(catalog: Self.catalog, environment: [:])
        let (_, diagnostics) = compiler.compileConfig(source, file: "hub.yaml")
        let text = CheckReport.text(diagnostics, sources: ["hub.yaml": source], fileCount: 1)
        #expect(!text.contains("0f3a9c77e1"), "\(text)")
        #expect(!text.contains("ABCdef"), "\(text)")
        #expect(text.contains("hub.yaml:2:21: error: unknown connector type 'prodamsu' [unknown-connector]"))
        #expect(text.contains("    tokn: x\n    ^"), "a line without a secret keeps its line and caret")

        let broken = "connectors:\n  payments: { type: prodamus, secret_key: 0f3a9c77e1 }}\n"
        let (_, syntax) = compiler.compileConfig(broken, file: "hub.yaml")
        let report = CheckReport.text(syntax, sources: ["hub.yaml": broken], fileCount: 1)
        #expect(syntax.map(\.code).contains("yaml-syntax"))
        #expect(!report.contains("0f3a9c77e1"), "\(report)")

        // A character YAML cannot read at all: the reader's own message quotes no line either.
        let unreadable = "connectors:\n  bot:\n    type: telegram\n    token: 123456:ABC\u{7f}def\n"
        let (_, reader) = compiler.compileConfig(unreadable, file: "hub.yaml")
        let readerText = CheckReport.text(reader, sources: ["hub.yaml": unreadable], fileCount: 1)
        let readerJSON = CheckReport.json(reader)
        #expect(readerText.contains("hub.yaml:4:22: error: invalid YAML: control characters are not allowed (U+007F) [yaml-syntax]"), "\(readerText)")
        #expect(!readerText.contains("ABC") && !readerJSON.contains("ABC"), "\(readerText)\n\(readerJSON)")
        // Saved with Windows line ends and a heart on the way, it is the same place.
        let crlf = "connectors:\r\n  bot: # ❤️\r\n    type: telegram\r\n    token: 123456:ABC\u{7f}def\r\n"
        let (_, crlfReader) = compiler.compileConfig(crlf, file: "hub.yaml")
        #expect(CheckReport.text(crlfReader, sources: ["hub.yaml": crlf], fileCount: 1).contains("hub.yaml:4:22: error: invalid YAML"))
    }

    /// The path is shown on the dashboard and stored with each event: a secret must not be in it.
    @Test func anHTTPPathCannotReadTheEnvironment() {
        let flow = "name: hook\non:\n  http: /hooks/${HOOK_TOKEN}\nsteps:\n  - do: core.log\n    with: { message: hi }\n"
        #expect(Self.check(flow, environment: ["HOOK_TOKEN": "a1b2c3d4e5"]) == [
            "hook.yaml:3:16: error: the webhook path cannot hold ${…}: it is shown on the dashboard and stored with each event [bad-trigger]\n"
                + "note: keep the path plain and check a key in the flow's 'if:', e.g. if: \"{{ event.headers['x-hook-key'] == '${HOOK_KEY}' }}\"",
        ])
    }

    /// A connector's own route wins over a flow's, so such a flow would never run.
    @Test(arguments: [("/hooks/prodamus", "prodamus"), ("/hooks/telegram", "telegram")])
    func anHTTPPathAConnectorServesIsRefused(_ path: String, _ instance: String) {
        let flow = "name: hook\non: { http: \(path) }\nsteps:\n  - do: core.log\n    with: { message: hi }\n"
        #expect(Self.check(flow) == [
            "hook.yaml:2:13: error: the webhook path '\(path)' is where the \(instance) connector receives its webhooks [bad-trigger]\n"
                + "note: choose another path, e.g. '/hooks/orders'",
        ])
    }

    @Test func aPathSetInTheConfigIsTheConnectorsToo() {
        var compiler = FlowCompiler(catalog: Self.catalog, environment: [:])
        let (catalog, _) = compiler.compileConfig("connectors:\n  pay: { type: prodamus, webhook_path: /in/pay }\n", file: "hub.yaml")
        let flow = "name: hook\non: { http: /in/pay }\nsteps:\n  - do: core.log\n    with: { message: hi }\n"
        #expect(FlowSet.compile([("hook.yaml", flow)], catalog: catalog).diagnostics.map(\.headline) == [
            "hook.yaml:2:13: error: the webhook path '/in/pay' is where the pay connector receives its webhooks [bad-trigger]",
        ])
    }

    /// `core.log` writes its message to the log, `core.fail` keeps it as the run's error.
    @Test func aSecretInALogOrFailMessageIsWarnedAbout() {
        let flow = """
            name: hook
            on: { http: /hooks/x }
            steps:
              - do: core.log
                with: { message: "key ${API_TOKEN}" }
              - do: core.fail
                with: { message: "${API_TOKEN}" }
            """
        #expect(Self.check(flow, environment: ["API_TOKEN": "t0k3n-xyz"]) == [
            "hook.yaml:5:27: warning: '${API_TOKEN}' looks like a secret, and 'core.log' writes its message to the hub's log [stored-secret]\n"
                + "note: write ${API_TOKEN} in the step that needs it instead",
            "hook.yaml:7:23: warning: '${API_TOKEN}' looks like a secret, and 'core.fail' keeps its message as the run's error, stored and shown on the run's page [stored-secret]\n"
                + "note: write ${API_TOKEN} in the step that needs it instead",
        ])
    }

    @Test func retryShorthandReadsTheEnvironment() throws {
        let flow = "name: hook\non: { http: /hooks/x }\nsteps:\n  - do: core.log\n    with: { message: hi }\n    retry: ${ATTEMPTS}\n"
        let set = FlowSet.compile([("hook.yaml", flow)], catalog: Self.catalog, environment: ["ATTEMPTS": "7"])
        #expect(set.diagnostics.isEmpty, "\(set.rendered())")
        #expect(set.flows.first?.steps.first?.retry.attempts == 7)
    }

    @Test func anEmptyVariableIsCalledEmpty() {
        let flow = "name: hook\non: { http: /hooks/x }\nsteps:\n  - do: core.log\n    with: { message: \"${GREETING}\" }\n"
        #expect(Self.check(flow, environment: ["GREETING": ""]) == [
            "hook.yaml:5:23: error: environment variable 'GREETING' is empty [missing-env]\n"
                + "note: set it before starting the hub (export GREETING=…), or write '${GREETING:-default}'",
        ])
    }

    /// Editors' lock files (`.#x.yaml`, often a dangling link) and macOS's `._x.yaml` are not flows.
    @Test func hiddenFilesAreNotLoaded() throws {
        let folder = try FlowFolder(["payment.yaml": "name: pay\non: { http: /hooks/x }\nsteps:\n  - do: core.log\n    with: { message: hi }\n"])
        defer { folder.remove() }
        try FileManager.default.createSymbolicLink(atPath: folder.flows + "/.#payment.yaml", withDestinationPath: "root@host.1234:1700000000")
        try Data([0x00, 0x05, 0x16, 0x07, 0xCF, 0xF0]).write(to: URL(fileURLWithPath: folder.flows + "/._payment.yaml"))
        let set = FlowSet.load(paths: [folder.flows], catalog: Self.catalog, environment: [:])
        #expect(set.diagnostics.isEmpty, "\(set.rendered())")
        #expect(set.flows.map(\.name) == ["pay"])
    }

    /// A file that cannot be opened says why, rather than blaming its encoding.
    @Test func aFileThatCannotBeReadSaysWhy() throws {
        let folder = try FlowFolder([:])
        defer { folder.remove() }
        try FileManager.default.createSymbolicLink(atPath: folder.flows + "/gone.yaml", withDestinationPath: folder.root.path + "/moved.yaml")
        let set = FlowSet.load(paths: [folder.flows], catalog: Self.catalog, environment: [:])
        #expect(set.diagnostics.map(\.headline) == ["\(folder.flows)/gone.yaml:1:1: error: cannot read the file: No such file or directory [unreadable-file]"])
    }
}
