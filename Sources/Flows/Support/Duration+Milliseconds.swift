extension Duration {
    /// Whole milliseconds, rounded down: epoch-millisecond arithmetic and libcurl's timeouts.
    /// Saturates rather than traps: a wait an API asked for (`Retry-After: 99999999999999999`)
    /// must not be able to crash the hub.
    public var milliseconds: Int64 {
        let (scaled, overflow) = components.seconds.multipliedReportingOverflow(by: 1000)
        guard !overflow else { return components.seconds < 0 ? .min : .max }
        let (sum, overflowed) = scaled.addingReportingOverflow(components.attoseconds / 1_000_000_000_000_000)
        return overflowed ? .max : sum
    }
}
