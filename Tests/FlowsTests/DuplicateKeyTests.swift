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

    @Test("at the top level")
    func topLevel() {
        let found = Self.located("name: a\non: { http: /x }\n# the name again\nname: b\nsteps: []\n")
        #expect(found?.code == "duplicate-key")
        #expect(found?.line == 4 && found?.column == 1)
    }

    @Test("inside a step of a list, the first key after `- `")
    func inSequenceItem() {
        let found = Self.located("steps:\n  - do: core.log\n    with: { message: hi }\n    do: core.set\n")
        #expect(found?.code == "duplicate-key")
        #expect(found?.line == 4 && found?.column == 5)
    }

    @Test("quoted, in a nested mapping")
    func nestedQuoted() {
        let found = Self.located("with:\n  values:\n    a: 1\n    b: 2\n    \"a\": 3\n")
        #expect(found?.code == "duplicate-key")
        #expect(found?.line == 5 && found?.column == 5)
    }

    @Test("in a flow mapping")
    func flowMapping() {
        let found = Self.located("with: { a: 1, a: 2 }\n")
        #expect(found?.code == "duplicate-key")
        #expect(found?.line == 1 && found?.column == 15)
    }

    @Test("in a flow mapping over several lines, past nested values, quotes and a comment")
    func flowMappingAcrossLines() {
        let yaml = "steps:\n  - with: {values: {a: 1, b: [x, {a: 2}]},\n      note: 'a, b: c', # a: here\n      \"values\": 3}\n"
        let found = Self.located(yaml)
        #expect(found?.code == "duplicate-key")
        #expect(found?.line == 4 && found?.column == 7)
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
