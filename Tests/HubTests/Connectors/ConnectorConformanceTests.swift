import Flows
import Foundation
import Testing
@testable import Hub

/// Every built-in connector's spec must be well-formed, its examples must pass the checker,
/// and its secrets must be marked and come from the environment.
@Suite struct ConnectorConformanceTests {
    static let specs = BuiltinConnectors.registry.specs
    static let catalog = Catalog.defaults(BuiltinConnectors.registry)

    static func isName(_ s: String) -> Bool {
        !s.isEmpty && s.first!.isLowercase && s.allSatisfy { ($0.isLowercase && $0.isASCII) || $0.isNumber || $0 == "_" }
    }

    @Test(arguments: specs.map(\.name))
    func specIsWellFormed(_ name: String) throws {
        let spec = try #require(BuiltinConnectors.registry.type(named: name)?.spec)
        #expect(Self.isName(spec.name))
        #expect(Self.isName(spec.defaultInstance))
        #expect(!spec.summary.isEmpty)
        #expect(Set(spec.actions.map(\.name)).count == spec.actions.count, "duplicate action names")
        #expect(Set(spec.triggers.map(\.name)).count == spec.triggers.count, "duplicate trigger names")
        #expect(Set(spec.config.map(\.name)).count == spec.config.count, "duplicate config fields")
        for field in spec.config {
            #expect(Self.isName(field.name), "config field \(field.name)")
            if field.secret { #expect(field.environment != nil, "secret \(field.name) must name its environment variable") }
        }
        for action in spec.actions {
            #expect(Self.isName(action.name), "action \(action.name)")
            #expect(!action.summary.isEmpty)
            #expect(Set(action.inputs.map(\.name)).count == action.inputs.count, "\(action.name): duplicate inputs")
            for input in action.inputs { #expect(Self.isName(input.name), "\(action.name).\(input.name)") }
        }
        for trigger in spec.triggers {
            #expect(Self.isName(trigger.name))
            #expect(!trigger.fields.isEmpty, "trigger \(trigger.name) declares no event fields")
        }
    }

    @Test(arguments: specs.map(\.name))
    func examplesPassTheChecker(_ name: String) throws {
        let spec = try #require(BuiltinConnectors.registry.type(named: name)?.spec)
        var files: [(file: String, text: String)] = []
        for action in spec.actions {
            let step = action.example.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
                .map { $0.offset == 0 ? "  - \($0.element)" : "    \($0.element)" }.joined(separator: "\n")
            files.append(("\(name).\(action.name).yaml", "name: example-\(name)-\(action.name)\non: { http: /example/\(name)/\(action.name) }\nsteps:\n\(step)\n"))
        }
        for trigger in spec.triggers {
            files.append(("\(name).on.\(trigger.name).yaml", "name: example-\(name)-on-\(trigger.name)\n" + trigger.example + "\n"))
        }
        let set = FlowSet.compile(files, catalog: Self.catalog, environment: ["EXAMPLE": "1"])
        #expect(set.diagnostics.isEmpty, "\(set.rendered())")
        #expect(set.flows.count == files.count)
    }
}
