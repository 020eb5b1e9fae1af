import Logging
import PostgresNIO
import ServiceLifecycle

/// LISTENs on a channel with one leased connection and rings `doorbell` on each notification
/// and on each commit in this process that asked for the channel (`CommitWakeUps`).
/// Notifications are hints only: callers keep polling, so a dropped connection (re-established
/// here with back-off) costs latency, never correctness. Runs until cancelled.
public func listenForNotifications(
    on channel: String,
    client: PostgresClient,
    doorbell: Doorbell,
    logger: Logger
) async {
    // Commits in this process ring it directly (`LocalWakeUps`), others by NOTIFY.
    LocalWakeUps.listen(doorbell, on: channel)
    defer { LocalWakeUps.stopListening(doorbell, on: channel) }
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
            logger.debug(
                "LISTEN connection lost, polling until it is back",
                metadata: ["channel": "\(channel)", "error": "\(ErrorText.describe(error))"]
            )
        }
        try? await Task.sleep(for: delay)
        delay = min(delay * 2, .seconds(5))
    }
}

/// Runs `loop` until graceful shutdown while a listener rings `doorbell` on every
/// notification on `channel`: the shape of every NOTIFY-woken, polling worker.
public func runWokenByNotifications(
    channel: String,
    client: PostgresClient,
    doorbell: Doorbell,
    logger: Logger,
    loop: @escaping @Sendable () async -> Void
) async {
    // What the worker was doing is safe to abandon: an uncommitted batch or job is simply
    // done again later.
    let stopped = await runUntilShutdown(grace: .seconds(5), cancelAtShutdown: true) {
        await withDiscardingTaskGroup { group in
            group.addTask {
                await listenForNotifications(on: channel, client: client, doorbell: doorbell, logger: logger)
            }
            await loop()
            group.cancelAll()
        }
    }
    if !stopped {
        logger.warning("a database worker did not stop within 5 s of shutdown; leaving it behind", metadata: ["channel": "\(channel)"])
    }
}
