import Flows
import Testing

/// `Value.json`: the stored form of every event, step result and API body.
@Suite struct JSONWriterTests {
    @Test func escapesWhatJSONAndHTMLNeed() {
        let text = "a\"b\\c\nd\re\tf<g>h\u{01}i\u{1F}j\u{2028}k\u{2029}l"
        #expect(Value.string(text).json == #""a\"b\\c\nd\re\tf\u003cg\u003eh\u0001i\u001fj\u2028k\u2029l""#)
    }

    @Test func leavesOtherTextWhole() {
        // € is E2 82 AC: the same lead byte as U+2028, not to be escaped.
        let text = "Иван € 🙂 ü 漢字 — plain"
        #expect(Value.string(text).json == "\"" + text + "\"")
        #expect(Value.string("").json == #""""#)
    }

    @Test func sortsKeysAndFormatsNumbers() {
        let value: Value = ["b": [1, 2.5, .null, true], "a": ["z": "x", "ё": false], "c": .number(-3)]
        #expect(value.json == #"{"a":{"z":"x","ё":false},"b":[1,2.5,null,true],"c":-3}"#)
    }

    @Test func roundTripsHostileText() throws {
        let hostile: Value = ["name": "Robert'); DROP TABLE members;-- <script>alert(1)</script>", "note": "\u{0}\u{7F}\u{2028}\\\"",
                              "nested": [["k\"ey": "v\nal"]]]
        #expect(try Value(json: hostile.json) == hostile)
    }
}
