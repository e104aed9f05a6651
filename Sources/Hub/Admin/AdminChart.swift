import Flows
import Foundation

/// A bar chart drawn on the server as SVG: axes, value ticks and day labels, no script.
/// Labels are escaped here because the SVG is inserted into the page as markup.
struct AdminChart {
    var points: [(label: String, value: Double)]
    var width = 640.0
    var height = 240.0

    func svg(title: String) -> String {
        let left = 48.0, right = 8.0, top = 10.0, bottom = 34.0
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        let maxValue = Self.niceCeiling(points.map(\.value).max() ?? 0)
        var out = "<svg viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"\(Self.escape(title))\" xmlns=\"http://www.w3.org/2000/svg\">"
        out += "<title>\(Self.escape(title))</title>"
        for tick in 0...4 {
            let value = maxValue * Double(tick) / 4
            let y = top + plotHeight - plotHeight * Double(tick) / 4
            out += "<line x1=\"\(left)\" y1=\"\(Self.f(y))\" x2=\"\(width - right)\" y2=\"\(Self.f(y))\" stroke=\"#e3e6ee\"/>"
            out += "<text x=\"\(left - 4)\" y=\"\(Self.f(y + 4))\" text-anchor=\"end\">\(Self.number(value))</text>"
        }
        out += "<line x1=\"\(left)\" y1=\"\(top)\" x2=\"\(left)\" y2=\"\(top + plotHeight)\" stroke=\"#889\"/>"
        out += "<line x1=\"\(left)\" y1=\"\(top + plotHeight)\" x2=\"\(width - right)\" y2=\"\(top + plotHeight)\" stroke=\"#889\"/>"
        guard !points.isEmpty else { return out + "</svg>" }
        let slot = plotWidth / Double(points.count)
        let labelEvery = max(1, Int((Double(points.count) / 8).rounded(.up)))
        for (i, point) in points.enumerated() {
            let h = maxValue > 0 ? plotHeight * point.value / maxValue : 0
            let x = left + slot * Double(i) + slot * 0.15
            out += "<rect x=\"\(Self.f(x))\" y=\"\(Self.f(top + plotHeight - h))\" width=\"\(Self.f(max(slot * 0.7, 1)))\" height=\"\(Self.f(h))\" fill=\"#2962ff\">"
            out += "<title>\(Self.escape(point.label)): \(Self.number(point.value))</title></rect>"
            if i % labelEvery == 0 {
                out += "<text x=\"\(Self.f(left + slot * (Double(i) + 0.5)))\" y=\"\(Self.f(height - bottom + 16))\" text-anchor=\"middle\">\(Self.escape(point.label))</text>"
            }
        }
        return out + "</svg>"
    }

    /// 1, 2, 5 × 10ⁿ at or above `value`, so ticks fall on round numbers.
    static func niceCeiling(_ value: Double) -> Double {
        guard value > 0 else { return 4 }
        let magnitude = pow(10, floor(log10(value)))
        for step in [1.0, 2, 2.5, 5, 10] where step * magnitude >= value { return step * magnitude }
        return 10 * magnitude
    }

    static func number(_ value: Double) -> String {
        value.rounded() == value ? String(Int64(value)) : String(format: "%.1f", value)
    }

    private static func f(_ value: Double) -> String { String(format: "%.1f", value) }

    static func escape(_ text: String) -> String { text.htmlEscaped }
}
