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
    if !(await finishes(worker, within: .seconds(5))) {
        logger.warning("a database worker did not stop within 5 s of shutdown; leaving it behind", metadata: ["channel": "\(channel)"])
    }
}

/// Whether `task` ends within `limit`, without being stuck behind it if it never does.
public func finishes(_ task: Task<Void, Never>, within limit: Duration) async -> Bool {
    let done = Mutex(false)
    Task { await task.value; done.withLock { $0 = true } }
    let deadline = ContinuousClock.now + limit
    while ContinuousClock.now < deadline {
        if done.withLock({ $0 }) { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return done.withLock { $0 }
}
