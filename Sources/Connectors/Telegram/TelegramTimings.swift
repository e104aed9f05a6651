/// How long the update receiver's lease lasts and how it backs off; tests shorten these.
struct TelegramTimings: Sendable {
    /// How long a taken lease lasts without renewal; a crashed owner is replaced after this.
    var lease: Duration = .seconds(60)
    /// How often the owner renews its lease (well inside `lease`).
    var renew: Duration = .seconds(20)
    /// How often a process on standby asks for the lease.
    var standby: Duration = .seconds(15)
    /// First wait after a failed call; doubles up to `maxBackoff`.
    var backoff: Duration = .seconds(1)
    var maxBackoff: Duration = .seconds(60)
    /// The long-poll time Telegram holds getUpdates open, in seconds.
    var longPoll: Int = 25

    /// The wait after `failures` failures in a row (1, 2, 4 … capped), with up to 20 % jitter.
    func backoff(after failures: Int) -> Duration {
        let exponent = min(max(failures - 1, 0), 16)
        let base = min(backoff * (1 << exponent), maxBackoff)
        return base + base * Double.random(in: 0..<0.2)
    }
}
