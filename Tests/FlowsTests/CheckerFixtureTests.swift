import Foundation
import Testing
@testable import Flows

/// Each fixture `X.yaml` under Fixtures/check has `X.expected`: the exact diagnostics, one
/// headline per line followed by its notes. Set UPDATE_FIXTURES=1 to write them (then review!).
@Suite struct CheckerFixtureTests {
    static let folder = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/check")
    static let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path))?
        .filter { $0.hasSuffix(".yaml") }.map { String($0.dropLast(5)) }.sorted() ?? []

    @Test(arguments: names)
    func fixture(_ name: String) throws {
        let text = try String(contentsOf: Self.folder.appendingPathComponent("\(name).yaml"), encoding: .utf8)
        let result = TestCatalog.compile(text, file: "\(name).yaml")
        let actual = result.diagnostics.map(\.description).joined(separator: "\n") + "\n"
        let expectedURL = Self.folder.appendingPathComponent("\(name).expected")
        if ProcessInfo.processInfo.environment["UPDATE_FIXTURES"] == "1" {
            let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/check/\(name).expected")
            try actual.write(to: source, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOf: expectedURL, encoding: .utf8)
        #expect(actual == expected)
        #expect((result.flow == nil) == result.diagnostics.hasErrors)
    }

    @Test func tenMistakesGiveTenErrors() throws {
        let text = try String(contentsOf: Self.folder.appendingPathComponent("ten-mistakes.yaml"), encoding: .utf8)
        let diagnostics = TestCatalog.compile(text).diagnostics
        #expect(diagnostics.filter { $0.severity == .error }.count == 10)
        #expect(Set(diagnostics.map(\.code)).count == 10)
    }
}
