import Foundation

/// One line of the benchmark table: what was measured, the figure, the target and the verdict.
struct BenchRow: Sendable {
    enum Verdict: String, Sendable { case pass, miss, skipped, info = "-" }

    var measure: String
    var figure: String
    var target: String
    var verdict: Verdict

    static func skipped(_ measure: String, target: String, _ why: String) -> BenchRow {
        BenchRow(measure: measure, figure: "skipped (\(why))", target: target, verdict: .skipped)
    }

    static func check(_ measure: String, _ figure: String, target: String, _ ok: Bool) -> BenchRow {
        BenchRow(measure: measure, figure: figure, target: target, verdict: ok ? .pass : .miss)
    }
}

/// The table `hub bench` prints, as Markdown so it can go into the README as it is.
enum BenchReport {
    static func table(_ rows: [BenchRow], cores: Int, mode: String) -> String {
        let date = ISO8601DateFormatter.string(from: Date(), timeZone: TimeZone(identifier: "UTC")!, formatOptions: [.withFullDate])
        var lines = ["hub bench (\(mode)): \(cores) cores, \(date), release build: \(isOptimized ? "yes" : "NO (debug build: figures are not representative)")", ""]
        let header = ["measure", "figure", "target", "result"]
        let cells = rows.map { [$0.measure, $0.figure, $0.target, $0.verdict.rawValue] }
        let widths = header.indices.map { column in ([header] + cells).map { $0[column].count }.max() ?? 0 }
        func line(_ values: [String]) -> String {
            "| " + values.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }.joined(separator: " | ") + " |"
        }
        lines.append(line(header))
        lines.append("|" + widths.map { String(repeating: "-", count: $0 + 2) }.joined(separator: "|") + "|")
        lines += cells.map(line)
        return lines.joined(separator: "\n")
    }

    static var isOptimized: Bool {
        #if DEBUG
        false
        #else
        true
        #endif
    }

    static func rate(_ value: Double) -> String {
        value >= 100 ? String(Int(value.rounded())).groupedThousands : String(format: "%.1f", value)
    }

    static func millis(_ value: Double) -> String { String(format: value < 10 ? "%.2f ms" : "%.1f ms", value) }

    /// `6,700/s, p50 9.34 ms, p99 15.8 ms`: how a throughput figure starts.
    static func rateAndLatency(_ perSecond: Double, p50: Double, p99: Double) -> String {
        "\(rate(perSecond))/s, p50 \(millis(p50)), p99 \(millis(p99))"
    }

    /// The same from the latencies themselves, in milliseconds.
    static func rateAndLatency(_ perSecond: Double, latencies: [Double]) -> String {
        rateAndLatency(perSecond, p50: LoadGenerator.Outcome.percentile(latencies, 0.5), p99: LoadGenerator.Outcome.percentile(latencies, 0.99))
    }

    static func megabytes(_ bytes: Int) -> String { String(format: "%.1f MB", Double(bytes) / 1_048_576) }
}

extension String {
    /// "12345" → "12,345".
    var groupedThousands: String {
        var out = ""
        for (offset, character) in reversed().enumerated() {
            if offset > 0 && offset % 3 == 0 { out.append(",") }
            out.append(character)
        }
        return String(out.reversed())
    }
}
