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
}
