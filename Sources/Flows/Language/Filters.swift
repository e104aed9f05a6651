import Foundation
import Synchronization

/// The fixed set of template filters: `{{ value | name: argument }}`.
public enum Filters {
    /// Each filter with the number of arguments it accepts and a one-line description.
    public static let catalogue: [(name: String, arguments: ClosedRange<Int>, summary: String)] = [
        ("default", 1...1, "the argument when the value is null or empty text"),
        ("date", 1...2, "formats a date (ISO 8601 text, Unix seconds or `now`) with a pattern such as 'dd.MM HH:mm', in the flow's time zone or the one given"),
        ("upper", 0...0, "upper case"),
        ("lower", 0...0, "lower case"),
        ("trim", 0...0, "removes spaces and line breaks at both ends"),
        ("json", 0...0, "the value as JSON text"),
        ("length", 0...0, "number of characters, items or keys"),
        ("join", 0...1, "joins a list with the separator (default ', ')"),
        ("truncate", 1...1, "at most N characters, with '…' when cut"),
        ("urlencode", 0...0, "percent-encodes for use in a URL"),
        ("round", 0...1, "rounds a number to N decimals (default 0)"),
        ("html", 0...0, "escapes < > & \" ' for Telegram HTML messages"),
    ]

    public static var names: [String] { catalogue.map(\.name) }

    static func apply(_ name: String, to input: Value, arguments: [Value], scope: Scope, offset: Int) throws(ExpressionError) -> Value {
        switch name {
        case "default":
            if input.isNull || input == .string("") { return arguments.first ?? .null }
            return input
        case "date":
            return try date(input, pattern: arguments.first?.text ?? "dd.MM.yyyy", zone: arguments.count > 1 ? arguments[1].text : nil, scope: scope, offset: offset)
        case "upper": return .string(input.text.uppercased())
        case "lower": return .string(input.text.lowercased())
        case "trim": return .string(input.text.trimmingCharacters(in: .whitespacesAndNewlines))
        case "json": return .string(input.json)
        case "length":
            switch input {
            case .array(let a): return .number(Double(a.count))
            case .object(let o): return .number(Double(o.count))
            case .null: return .number(0)
            default: return .number(Double(input.text.count))
            }
        case "join":
            let separator = arguments.first?.text ?? ", "
            return .string((input.arrayValue ?? [input]).map(\.text).joined(separator: separator))
        case "truncate":
            let argument = arguments.first ?? .null
            guard let limit = truncationLimit(argument) else {
                throw ExpressionError("truncate takes a whole number of characters from 1, found \(argument.json)", offset: offset)
            }
            let text = input.text
            return .string(text.count > limit ? String(text.prefix(limit - 1)) + "…" : text)
        case "urlencode":
            var allowed = CharacterSet.alphanumerics
            allowed.insert(charactersIn: "-._~")
            return .string(input.text.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")
        case "round":
            guard let n = input.numberValue ?? Double(input.text) else { return .null }
            let scale = pow(10, Double(max(0, min(10, arguments.first?.intValue ?? 0))))
            return .number((n * scale).rounded() / scale)
        case "html":
            return .string(input.text.htmlEscaped)
        default:
            throw ExpressionError("unknown filter '\(name)'", offset: offset, notes: [Suggestions.note(for: name, in: names, kind: "filter")])
        }
    }

    /// `truncate`'s limit: a whole number from 1, since a limit of 0 or less would render '…' alone.
    static func truncationLimit(_ argument: Value) -> Int? {
        guard let limit = argument.intValue, limit >= 1 else { return nil }
        return limit
    }

    private static func date(_ input: Value, pattern: String, zone: String?, scope: Scope, offset: Int) throws(ExpressionError) -> Value {
        let instant: Date
        switch input {
        case .number(let seconds): instant = Date(timeIntervalSince1970: seconds)
        case .string(let text):
            guard let parsed = parseDate(text) else { return .null }
            instant = parsed
        default: return .null
        }
        var timeZone = scope.timeZone
        if let zone {
            guard let z = TimeZone(identifier: zone) else {
                throw ExpressionError("unknown time zone '\(zone)'", offset: offset, notes: ["use an IANA name such as Europe/Moscow"])
            }
            timeZone = z
        }
        return .string(format(instant, pattern: pattern, timeZone: timeZone))
    }

    /// An ISO 8601 date-time, with or without fractional seconds, or a date (its midnight in UTC).
    public static func parseDate(_ text: String) -> Date? {
        if let d = try? Date(text, strategy: .iso8601) { return d }
        if let d = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text) { return d }
        let day = DateFormatter()
        day.locale = Locale(identifier: "en_US_POSIX")
        day.timeZone = TimeZone(identifier: "UTC")
        day.dateFormat = "yyyy-MM-dd"
        return day.date(from: text)
    }

    /// DateFormatter is costly to build; templates render the same few patterns over and over.
    private static let formatters = Mutex<[String: DateFormatter]>([:])

    private static func format(_ instant: Date, pattern: String, timeZone: TimeZone) -> String {
        let key = pattern + "|" + timeZone.identifier
        return formatters.withLock { cache in
            let formatter = cache[key] ?? {
                let f = DateFormatter()
                f.locale = Locale(identifier: "ru_RU")
                f.timeZone = timeZone
                f.dateFormat = pattern
                return f
            }()
            if cache.count < 256 { cache[key] = formatter }
            return formatter.string(from: instant)
        }
    }
}
