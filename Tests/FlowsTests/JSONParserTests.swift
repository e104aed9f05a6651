import Flows
import Testing

/// `Value(json:)`: strict JSON as stored in the database and received from APIs.
@Suite struct JSONParserTests {
    @Test func parsesEveryKindOfValue() throws {
        let text = #" { "s" : "текст 🙂", "n": [0, -12, 3.25, 1e3, -2.5E-2], "t": true, "f": false, "z": null, "o": {}, "a": [] } "#
        #expect(try Value(json: text) == ["s": "текст 🙂", "n": [0, -12, 3.25, 1000, -0.025], "t": true, "f": false, "z": .null,
                                          "o": .object([:]), "a": .array([])])
        #expect(try Value(json: "\t\r\n\"x\"\n") == "x")
        #expect(try Value(json: "[[[1]],{\"k\":[true,null]}]") == [[[1]], ["k": [true, .null]]])
        // A repeated key: the last one counts, as in JavaScript.
        #expect(try Value(json: #"{"a":1,"b":2,"a":3}"#) == ["a": 3, "b": 2])
    }

    @Test func decodesEscapes() throws {
        #expect(try Value(json: #""a\"b\\c\/d\ne\tf\rg\bh\fi""#) == "a\"b\\c/d\ne\tf\rg\u{8}h\u{C}i")
        #expect(try Value(json: #""\u0041\u00e9\u20AC\u2028""#) == "Aé€\u{2028}")
        // A surrogate pair is one scalar; a lone surrogate becomes U+FFFD.
        #expect(try Value(json: #""\ud83d\ude42 \ud83d x""#) == "🙂 \u{FFFD} x")
        // A high surrogate before an escape that is not its low half (this once trapped on overflow).
        #expect(try Value(json: #""\ud83d\u0041\ud800\uffff\udbff\u00e9""#) == "\u{FFFD}A\u{FFFD}\u{FFFF}\u{FFFD}é")
        #expect(try Value(json: #"{"k\"ey":"v\nal"}"#) == ["k\"ey": "v\nal"])
    }

    @Test("malformed JSON is refused with the byte where it went wrong",
          arguments: [("", "invalid JSON at byte 0: unexpected end"),
                      ("{\"a\":1} x", "invalid JSON at byte 8: unexpected trailing characters"),
                      ("\"abc", "invalid JSON at byte 4: unterminated string"),
                      ("[1,]", "invalid JSON at byte 3: unexpected character"),
                      ("tru", "invalid JSON at byte 0: unexpected character"),
                      ("{\"a\" 1}", "invalid JSON at byte 5: expected ':'"),
                      ("{1:2}", "invalid JSON at byte 1: expected a key"),
                      ("[1 2]", "invalid JSON at byte 3: expected ',' or ']'"),
                      ("{\"a\":1 \"b\"}", "invalid JSON at byte 7: expected ',' or '}'"),
                      ("\"\\u12G4\"", "invalid JSON at byte 3: bad \\u escape"),
                      ("-", "invalid JSON at byte 0: unexpected character"),
                      (String(repeating: "[", count: 300), "invalid JSON at byte 256: nested too deeply")])
    func refusesMalformed(text: String, message: String) {
        #expect { try Value(json: text) } throws: { "\($0)" == message }
    }
}
