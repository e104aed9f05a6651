import Foundation

/// A five-field cron schedule (`minute hour day month weekday`) for `cron` triggers.
///
/// Fields accept `*`, numbers, ranges `a-b`, lists `a,b,c`, steps `*/n`, `a-b/n` and `a/n`,
/// and the names `jan`…`dec` and `sun`…`sat` (also inside ranges). Weekday 0 and 7 are Sunday.
/// Like Vixie cron, when both day and weekday are restricted (neither starts with `*`)
/// a day matches if either matches. The shortcuts `@hourly`, `@daily`, `@midnight`,
/// `@weekly`, `@monthly`, `@yearly` and `@annually` are accepted too.
public struct CronSchedule: Sendable, Hashable, CustomStringConvertible {
    /// Why a cron expression was rejected, worded for people who write flows rather than code.
    public struct ParseError: Error, Sendable, Hashable {
        /// What is wrong, e.g. `cron field 'hour' value 25 is out of range 0-23`.
        public let message: String
        /// 0-based character offset of the offending field or token in the text, for a caret.
        public let offset: Int
        /// Hints such as the accepted values or an example.
        public let notes: [String]
    }

    /// The expression exactly as written.
    public let text: String
    // Bit n set means value n matches; weekday 7 is folded into 0 while parsing.
    let minutes: UInt64, hours: UInt64, days: UInt64, months: UInt64, weekdays: UInt64
    // Vixie cron decides between AND and OR on whether a day field starts with `*`.
    let dayIsStar: Bool, weekdayIsStar: Bool

    /// The expression exactly as written.
    public var description: String { text }

    /// Parses five whitespace-separated fields or one `@` shortcut.
    public init(parsing text: String) throws(ParseError) {
        self.text = text
        var source = Array(text)
        var spans = Self.words(source)
        if spans.count == 1, source[spans[0].lowerBound] == "@" {
            let name = String(source[spans[0]]).lowercased()
            guard let expansion = Self.shortcuts[name] else {
                throw ParseError(message: "unknown cron shortcut '\(name)'", offset: spans[0].lowerBound,
                                 notes: ["shortcuts: @hourly @daily @midnight @weekly @monthly @yearly @annually"])
            }
            source = Array(expansion)
            spans = Self.words(source)
        }
        guard spans.count == 5 else {
            throw ParseError(message: "cron needs 5 fields (minute hour day month weekday), found \(spans.count)",
                             offset: spans.count > 5 ? spans[5].lowerBound : source.count,
                             notes: [#"example: "0 9 * * *" runs at 09:00 every day"#])
        }
        var bits: [UInt64] = []
        for field in Field.allCases {
            bits.append(try field.parse(source, spans[field.rawValue]))
        }
        if bits[4] & (1 << 7) != 0 { bits[4] = bits[4] & ~(1 << 7) | 1 }
        (minutes, hours, days, months, weekdays) = (bits[0], bits[1], bits[2], bits[3], bits[4])
        dayIsStar = source[spans[2].lowerBound] == "*"
        weekdayIsStar = source[spans[4].lowerBound] == "*"
        if let problem = impossibleDays {
            throw ParseError(message: "this schedule never fires: \(problem)", offset: spans[2].lowerBound, notes: [Self.impossibleDaysNote])
        }
    }

    private static let shortcuts = [
        "@hourly": "0 * * * *", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@weekly": "0 0 * * 0",
        "@monthly": "0 0 1 * *", "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *",
    ]

    /// Index ranges of the whitespace-separated words, so errors can point into the original text.
    private static func words(_ chars: [Character]) -> [Range<Int>] {
        var spans: [Range<Int>] = []
        var i = 0
        while i < chars.count {
            if chars[i].isWhitespace { i += 1; continue }
            let start = i
            while i < chars.count, !chars[i].isWhitespace { i += 1 }
            spans.append(start..<i)
        }
        return spans
    }

    private enum Field: Int, CaseIterable {
        case minute, hour, day, month, weekday

        var bounds: ClosedRange<Int> { [0...59, 0...23, 1...31, 1...12, 0...7][rawValue] }

        var names: [String] {
            switch self {
            case .month: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
            case .weekday: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
            default: []
            }
        }

        var accepted: String {
            switch self {
            case .month: "'month' accepts 1-12 or jan-dec, e.g. 1,6 or jan-mar or */3"
            case .weekday: "'weekday' accepts 0-7 (0 and 7 are Sunday) or sun-sat, e.g. mon-fri"
            default: "'\(self)' accepts \(bounds.lowerBound)-\(bounds.upperBound), e.g. 5 or 1,15 or 9-17 or */10"
            }
        }

        func error(_ problem: String, at offset: Int) -> ParseError {
            ParseError(message: "cron field '\(self)' \(problem)", offset: offset, notes: [accepted])
        }

        /// One field: a comma-separated list of items, each `base` or `base/step`.
        func parse(_ chars: [Character], _ span: Range<Int>) throws(ParseError) -> UInt64 {
            var bits: UInt64 = 0
            var start = span.lowerBound
            for i in span.lowerBound...span.upperBound where i == span.upperBound || chars[i] == "," {
                bits |= try item(chars, start..<i)
                start = i + 1
            }
            return bits
        }

        private func item(_ chars: [Character], _ span: Range<Int>) throws(ParseError) -> UInt64 {
            guard !span.isEmpty else { throw error("has an empty list entry", at: span.lowerBound) }
            var base = span
            var step: Int?
            if let slash = span.first(where: { chars[$0] == "/" }) {
                let digits = String(chars[slash + 1..<span.upperBound])
                guard digits.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(digits), n >= 1 else {
                    throw error("step '\(digits)' must be a whole number of at least 1", at: slash + 1)
                }
                step = n
                base = span.lowerBound..<slash
            }
            var range = bounds
            if String(chars[base]) != "*" {
                if let dash = base.first(where: { chars[$0] == "-" }) {
                    let low = try value(chars, base.lowerBound..<dash)
                    let high = try value(chars, dash + 1..<base.upperBound)
                    guard low <= high else {
                        throw error("range \(String(chars[base])) is reversed; write the smaller value first",
                                    at: base.lowerBound)
                    }
                    range = low...high
                } else {
                    let low = try value(chars, base)
                    range = low...(step == nil ? low : bounds.upperBound)
                }
            }
            var bits: UInt64 = 0
            for v in stride(from: range.lowerBound, through: range.upperBound, by: step ?? 1) { bits |= 1 << v }
            return bits
        }

        private func value(_ chars: [Character], _ span: Range<Int>) throws(ParseError) -> Int {
            let token = String(chars[span])
            guard !token.isEmpty else { throw error("is missing a value", at: span.lowerBound) }
            if token.allSatisfy({ $0.isASCII && $0.isNumber }) {
                guard let n = Int(token), bounds.contains(n) else {
                    throw error("value \(token) is out of range \(bounds.lowerBound)-\(bounds.upperBound)",
                                at: span.lowerBound)
                }
                return n
            }
            guard let index = names.firstIndex(of: token.lowercased()) else {
                throw error("has unknown value '\(token)'", at: span.lowerBound)
            }
            return self == .month ? index + 1 : index
        }
    }
}
