import Emulators
import Flows
import Foundation
import Testing
@testable import ZoomConnector

/// `zoom.link`: the standing link, for shops without a Zoom app.
@Suite struct ZoomLinkTests {
    static func connector(_ config: [String: Value]) throws -> ZoomConnector {
        let services = ConnectorServices(instance: "zoom", logger: .init(label: "t"), database: nil, http: CurlHTTPClient(),
                                         events: NoEvents(), publicURL: "http://127.0.0.1:1")
        return try ZoomConnector(config: Fields(config), services: services)
    }

    @Test func returnsTheStandingLinkWithoutCredentials() async throws {
        let url = "https://us02web.zoom.us/j/85746065123?pwd=abcDEF123"
        let result = try await Self.connector(["meeting_url": .string(url)]).perform(ZoomHarness.call("link", [:]))
        #expect(result == ["join_url": .string(url)])
    }

    @Test func withoutAStandingLinkFailsPermanently() async throws {
        let error = await connectorError { try await Self.connector([:]).perform(ZoomHarness.call("link", [:])) }
        #expect(error?.code == "zoom-no-meeting-url")
        #expect(error?.disposition == .permanent)
        #expect(error?.message.contains("ZOOM_MEETING_URL") == true)
    }

    @Test func specExamplesPassTheChecker() throws {
        let registry = ConnectorRegistry([ZoomConnector.self])
        let spec = ZoomConnector.spec
        let files = spec.actions.map { action in
            let step = action.example.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
                .map { $0.offset == 0 ? "  - \($0.element)" : "    \($0.element)" }.joined(separator: "\n")
            return ("zoom.\(action.name).yaml", "name: example-zoom-\(action.name)\non: { http: /example/zoom/\(action.name) }\nsteps:\n\(step)\n")
        }
        let set = FlowSet.compile(files, catalog: Catalog.defaults(registry))
        #expect(set.diagnostics.isEmpty, "\(set.rendered())")
        #expect(set.flows.count == files.count)
        #expect(spec.config.filter(\.secret).map(\.name) == ["client_secret"])
        #expect(spec.action("link")?.hasSideEffects == false)
        #expect(spec.action("create_meeting")?.hasSideEffects == true)
    }
}
