import Metrics
import Prometheus

/// The process's Prometheus registry behind swift-metrics, bootstrapped once (the metrics
/// system allows one bootstrap per process; tests start several hubs).
public enum HubMetrics {
    public static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }()

    /// The metrics in Prometheus text format.
    public static func exposition() -> [UInt8] {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }
}
