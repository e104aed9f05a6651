import Foundation

/// Amounts as the funnel stores them: decimal text with two fraction digits ("3000.00"), so no
/// binary floating point ever touches money.
public enum Money {
    /// "3000", "3000.5", "3 000,50" and the number 3000 all become "3000.00"; `nil` for anything
    /// that is not a non-negative amount with at most two (non-zero) fraction digits.
    public static func normalise(_ text: String) -> String? {
        let compact = text.filter { !$0.isWhitespace }.replacingOccurrences(of: ",", with: ".")
        let parts = compact.split(separator: ".", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count <= 2, let whole = parts.first, !whole.isEmpty, whole.count <= 15,
              whole.allSatisfy({ $0.isASCII && $0.isNumber })
        else { return nil }
        var fraction = parts.count == 2 ? String(parts[1]) : ""
        guard fraction.allSatisfy({ $0.isASCII && $0.isNumber }), parts.count == 1 || !fraction.isEmpty else { return nil }
        while fraction.count > 2, fraction.hasSuffix("0") { fraction.removeLast() }
        guard fraction.count <= 2 else { return nil }
        let integer = String(whole.drop { $0 == "0" })
        return (integer.isEmpty ? "0" : integer) + "." + fraction.padding(toLength: 2, withPad: "0", startingAt: 0)
    }

    /// Kopecks (cents) of an amount `normalise` accepts; nil for anything else.
    public static func cents(_ text: String) -> Int64? {
        guard let normal = normalise(text) else { return nil }
        let parts = normal.split(separator: ".")
        guard parts.count == 2, let whole = Int64(parts[0]), let fraction = Int64(parts[1]) else { return nil }
        return whole * 100 + fraction
    }
}
