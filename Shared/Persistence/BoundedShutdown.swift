import AftercareDeadline
import ServiceLifecycle

/// Runs `work` as a task of its own until graceful shutdown begins, then waits at most
/// `grace` for it to end, so that it cannot hold the service's shutdown for ever: a
/// PostgresClient call that never returns was seen (PostgresNIO 1.33.2, after the database
/// or the client went away under a running service), and a task group would wait for it.
/// With `cancelAtShutdown` the work is cancelled as shutdown begins; otherwise it winds down
/// by itself (it sees the same graceful shutdown) and is cancelled only if this task is, or
/// once `grace` ran out. Returns false when the work was left behind, still running.
public func runUntilShutdown(grace: Duration, cancelAtShutdown: Bool, _ work: @escaping @Sendable () async -> Void) async -> Bool {
    let task = Task { await work() }
    do {
        try await gracefulShutdown()
        if cancelAtShutdown { task.cancel() }
    } catch {
        task.cancel()
    }
    if await finishes(task, within: grace) { return true }
    task.cancel()
    return false
}

/// Whether `task` ends within `limit`, without being stuck behind it if it never does.
public func finishes(_ task: Task<Void, Never>, within limit: Duration) async -> Bool {
    (try? await withDeadline(limit, "a task") { await task.value }) != nil
}
