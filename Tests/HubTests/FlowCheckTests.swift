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
    }
}
