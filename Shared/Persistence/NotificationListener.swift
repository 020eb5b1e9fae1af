import Logging
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// LISTENs on a channel with one leased connection and rings `doorbell` on each notification.
/// Notifications are hints only: callers keep polling, so a dropped connection (re-established
/// here with back-off) costs latency, never correctness. Runs until cancelled.
public func listenForNotifications(
    on channel: String, client: PostgresClient, doorbell: Doorbell, logger: Logger
) async {
    var delay = Duration.milliseconds(250)
    while !Task.isCancelled {
        do {
            try await client.withConnection { connection in
                try await connection.listen(on: channel) { notifications in
                    delay = .milliseconds(250)
                    doorbell.ring()  // anything committed while we were not listening
                    for try await _ in notifications { doorbell.ring() }
                }
            }
        } catch {
            if Task.isCancelled { return }
            logger.debug("LISTEN connection lost, polling until it is back", metadata: ["channel": "\(channel)", "error": "\(ErrorText.describe(error))"])
        }
        try? await Task.sleep(for: delay)
        delay = min(delay * 2, .seconds(5))
    }
}

/// Runs `loop` until graceful shutdown while a listener rings `doorbell` on every
/// notification on `channel`: the shape of every NOTIFY-woken, polling worker.
public func runWokenByNotifications(
    channel: String, client: PostgresClient, doorbell: Doorbell, logger: Logger,
    loop: @escaping @Sendable () async -> Void
) async {
    let worker = Task {
        await withDiscardingTaskGroup { group in
            group.addTask {
                await listenForNotifications(on: channel, client: client, doorbell: doorbell, logger: logger)
            }
            await loop()
            group.cancelAll()
        }
    }
    try? await gracefulShutdown()
    worker.cancel()
    // Not awaited past a grace period: after the database was dropped and recreated under
    // a running service, a cancelled PostgresClient query was seen never to return
    // (PostgresNIO 1.33.2), holding the service's shutdown for ever. What the worker was
    // doing is safe to abandon: an uncommitted batch or job is simply done again later.
    let ended = Ended()
    Task { await worker.value; ended.mark() }
    let deadline = ContinuousClock.now + .seconds(5)
    while !ended.isMarked, ContinuousClock.now < deadline {
        try? await Task.sleep(for: .milliseconds(20))
    }
    if !ended.isMarked {
        logger.warning("a database worker did not stop within 5 s of shutdown; leaving it behind", metadata: ["channel": "\(channel)"])
    }
}

/// Whether a task has ended, readable without awaiting it.
private final class Ended: Sendable {
    private let state = Mutex(false)
    func mark() { state.withLock { $0 = true } }
    var isMarked: Bool { state.withLock { $0 } }
}
