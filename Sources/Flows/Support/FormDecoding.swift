import Foundation

/// Flat `application/x-www-form-urlencoded` decoding for generic webhooks and page forms.
/// (Prodamus needs PHP's nested rules; its connector has its own parser.)
public enum FormDecoding {
    /// Name → value; a repeated name keeps its last value; at most 1,000 fields are read.
    public static func fields(_ body: [UInt8]) -> [String: String] {
        var out: [String: String] = [:]
        for pair in String(decoding: body, as: UTF8.self).split(separator: "&", omittingEmptySubsequences: true).prefix(1000) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = decode(parts[0])
            guard !name.isEmpty else { continue }
            out[name] = parts.count > 1 ? decode(parts[1]) : ""
        }
        return out
    }

    private static func decode(_ s: Substring) -> String {
        let plus = s.replacingOccurrences(of: "+", with: " ")
        return plus.removingPercentEncoding ?? plus
    }
}
