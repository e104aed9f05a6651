import Flows
import Foundation
import Testing
@testable import Hub

/// The flows shipped in `flows/` must pass `hub check` with the built-in connectors.
@Suite struct RepositoryFlowsTests {
    @Test func everyShippedFlowChecksClean() throws {
        let set = FlowSet.load(paths: [Repository.path("flows")], catalog: Catalog.defaults(BuiltinConnectors.registry),
                               environment: [:])
        #expect(!set.sources.isEmpty, "no flow files found")
        #expect(set.diagnostics.isEmpty, "\(set.rendered())")
        #expect(set.flows.count == set.sources.count)
    }

    /// `core.set` returns its values and results are stored: `hub check` warns about a secret
    /// going in (and only about a secret), without refusing the flow.
    @Test func aSecretInCoreSetIsWarnedAbout() throws {
        let flow = """
            name: secrets
            on: { http: /s }
            steps:
              - id: cfg
                do: core.set
                with: { values: { auth: "Bearer ${API_TOKEN}", price: "${SESSION_PRICE}" } }
              - do: http.request
                with: { url: "http://127.0.0.1:1/x", headers: { Authorization: "Bearer ${API_TOKEN}" } }
            """
        let set = FlowSet.compile([("secrets.yaml", flow)], catalog: Catalog.defaults(BuiltinConnectors.registry),
                                  environment: ["API_TOKEN": "t0k3n-xyz", "SESSION_PRICE": "3000.00"])
        #expect(set.flows.count == 1)
        #expect(set.diagnostics.map(\.description) == [
            "secrets.yaml:6:37: warning: '${API_TOKEN}' looks like a secret, and 'core.set' returns its values: they are stored with the run and shown on its page [stored-secret]\nnote: write ${API_TOKEN} in the step that needs it instead",
        ])
    }
}

