import Metrics
import Synchronization

/// Counters and timers by label and dimensions, made once: making one goes through the metrics
/// factory's registry each time, which costs more than the step it measures.
enum MetricsCache {
    private static let counters = Mutex<[[String]: Counter]>([:])
    private static let timers = Mutex<[[String]: Metrics.Timer]>([:])

    static func counter(_ label: String, _ dimensions: [(String, String)]) -> Counter {
        let key = [label] + dimensions.flatMap { [$0.0, $0.1] }
        return counters.withLock { cache in
            if let cached = cache[key] { return cached }
            let made = Counter(label: label, dimensions: dimensions)
            cache[key] = made
            return made
        }
    }

    static func timer(_ label: String, _ dimensions: [(String, String)]) -> Metrics.Timer {
        let key = [label] + dimensions.flatMap { [$0.0, $0.1] }
        return timers.withLock { cache in
            if let cached = cache[key] { return cached }
            let made = Metrics.Timer(label: label, dimensions: dimensions)
            cache[key] = made
            return made
        }
    }
}
