extension Duration {
    /// Whole milliseconds, rounded down: epoch-millisecond arithmetic and libcurl's timeouts.
    public var milliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
}
