import Flows
import Testing

/// A repeated key is reported where it repeats, not where its mapping starts.
@Suite struct DuplicateKeyTests {
    static func located(_ yaml: String) -> (code: String, line: Int, column: Int)? {
        do {
            _ = try SourceNode.parse(yaml, file: "f.yaml")
            return nil
        } catch {
            return (error.code, error.location.line, error.location.column)
        }
    }

    /// A flow with a repeated key, and where the repeat is.
    struct Case: Sendable, CustomTestStringConvertible {
        var testDescription: String
        var yaml: String
        var line: Int
        var column: Int
    }

    static let cases = [
        Case(testDescription: "at the top level",
             yaml: "name: a\non: { http: /x }\n# the name again\nname: b\nsteps: []\n", line: 4, column: 1),
        Case(testDescription: "inside a step of a list, the first key after `- `",
             yaml: "steps:\n  - do: core.log\n    with: { message: hi }\n    do: core.set\n", line: 4, column: 5),
        Case(testDescription: "quoted, in a nested mapping",
             yaml: "with:\n  values:\n    a: 1\n    b: 2\n    \"a\": 3\n", line: 5, column: 5),
        Case(testDescription: "in a flow mapping",
             yaml: "with: { a: 1, a: 2 }\n", line: 1, column: 15),
        Case(testDescription: "in a flow mapping over several lines, past nested values, quotes and a comment",
             yaml: "steps:\n  - with: {values: {a: 1, b: [x, {a: 2}]},\n      note: 'a, b: c', # a: here\n      \"values\": 3}\n", line: 4, column: 7),
    ]

    @Test("the repeat is located", arguments: cases)
    func located(_ example: Case) {
        let found = Self.located(example.yaml)
        #expect(found?.code == "duplicate-key")
        #expect(found?.line == example.line && found?.column == example.column)
    }

    @Test("with CRLF line endings: the repeat is located, and its line is shown under the headline")
    func windowsLineEndings() {
        let yaml = "steps:\r\n  - do: core.log\r\n    with: { message: hi }\r\n    do: core.set\r\n"
        let found = Self.located(yaml)
        #expect(found?.code == "duplicate-key" && found?.line == 4 && found?.column == 5)
        do {
            _ = try SourceNode.parse(yaml, file: "f.yaml")
        } catch {
            #expect(error.rendered(source: yaml).split(separator: "\n").dropFirst().prefix(2) == ["    do: core.set", "    ^"])
        }
    }

    @Test("a flow mapping cut off anywhere still gets a location inside the text")
    func truncatedFlowMappings() {
        let yaml = "a: {x: 'q, \"y\": 1', y: [1, {x: 2}], # x:\n  \"x\": 3, x: 4}\n"
        let whole = Self.located(yaml)
        #expect(whole?.code == "duplicate-key" && whole?.line == 2 && whole?.column == 3)
        for end in yaml.indices {
            // Cut off, then closed again by hand: some of these parse, with or without the repeat.
            let text = String(yaml[..<end]) + "}\n"
            guard let found = Self.located(text), found.code == "duplicate-key" else { continue }
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            #expect(found.line >= 1 && found.line <= lines.count, "\(text.debugDescription)")
            #expect(found.column >= 1 && found.column <= lines[found.line - 1].count, "\(text.debugDescription)")
        }
    }
}
