import Synchronization

/// How long since a loop last got a turn through, for readiness: a loop that has stopped
/// making progress shows as the time since then growing. It runs from the loop's first
/// turn; before that (a loop not started, or one the service does not have) it reads nil.
public final class StallClock: Sendable {
    private let last = Mutex<ContinuousClock.Instant?>(nil)

    public init() {}

    /// The loop got a turn through now.
    public func restart() { last.withLock { $0 = .now } }

    /// Time since the last turn through; nil before the first.
    public var sinceLast: Duration? { last.withLock { $0.map { .now - $0 } } }
}
