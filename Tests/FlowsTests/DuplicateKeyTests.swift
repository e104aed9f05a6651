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

    @Test("in a flow mapping: where the mapping starts")
    func flowMapping() {
        let found = Self.located("with: { a: 1, a: 2 }\n")
        #expect(found?.code == "duplicate-key")
        #expect(found?.line == 1)
    }
}
