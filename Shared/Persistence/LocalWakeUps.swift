import Synchronization

/// Wake-ups within this process for the loops that LISTEN on a channel (the outbox relay, the
/// job worker). A transaction that leaves work for them rings their doorbells once it has
/// committed instead of sending a NOTIFY: PostgreSQL holds one database-wide lock from a
/// notifying transaction's commit until its flush, so NOTIFYs line every event-writing commit
/// up behind the others (desk redemptions ran at a seventh of the database's own rate). The
/// writing process's loops wake at once; those of other processes (replicas) find the work
/// when they poll, and a NOTIFY still comes from writes made outside `PostgresClient.transaction`.
public enum LocalWakeUps {
    private static let listeners = Mutex<[String: [ObjectIdentifier: Doorbell]]>([:])

    /// Rings every doorbell of this process that listens on `channel`.
    public static func ring(_ channel: String) {
        let doorbells = listeners.withLock { Array(($0[channel] ?? [:]).values) }
        for doorbell in doorbells { doorbell.ring() }
    }

    static func listen(_ doorbell: Doorbell, on channel: String) {
        listeners.withLock { $0[channel, default: [:]][ObjectIdentifier(doorbell)] = doorbell }
    }

    static func stopListening(_ doorbell: Doorbell, on channel: String) {
        listeners.withLock { $0[channel]?[ObjectIdentifier(doorbell)] = nil }
    }
}

/// The channels to ring when the transaction in progress commits: `PostgresClient.transaction`
/// collects them (a task-local) and rings them after its COMMIT, never after a rollback.
public final class CommitWakeUps: Sendable {
    @TaskLocal static var current: CommitWakeUps?
    private let channels = Mutex<Set<String>>([])

    init() {}

    /// Asks for `channel` to be rung once the transaction in progress has committed. False
    /// outside `PostgresClient.transaction`: the caller then sends a NOTIFY with its write.
    public static func ringAfterCommit(_ channel: String) -> Bool {
        guard let current else { return false }
        current.channels.withLock { _ = $0.insert(channel) }
        return true
    }

    /// The wake-up for a statement that leaves work on `channel`: asked for after the commit
    /// (no SQL), or, outside `PostgresClient.transaction`, a NOTIFY to join to the statement's
    /// final SELECT (delivered at commit only).
    public static func wakeUp(_ channel: String) -> String {
        ringAfterCommit(channel) ? "" : ", (SELECT pg_notify('\(channel)', '')) AS wake"
    }

    func ringAll() {
        for channel in channels.withLock({ $0 }) { LocalWakeUps.ring(channel) }
    }
}
