import Synchronization

/// The one way Aftercare waits with a deadline: the answer comes by `limit` whatever the
/// work does. A call that cannot be trusted to end (PostgresNIO 1.33.2 can lose a query
/// written to a connection that has just closed, see docs/decisions.md) is run as a task of
/// its own and raced against the clock; when the clock wins, the task is cancelled and left
/// behind rather than awaited, and the caller gets `DeadlineExceeded`. Cancelling the
/// caller ends the wait at once too.
///
/// `operation` gets an `abandon` function: calling it ends the wait at once with the given
/// error (a transaction whose connection closed need not wait for its deadline).
public func withDeadline<T: Sendable>(
    _ limit: Duration,
    _ what: String,
    operation: @escaping @Sendable (_ abandon: @escaping @Sendable (any Error) -> Void) async throws -> T
) async throws -> T {
    let race = Race<T>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            race.start(continuation)
            let abandon: @Sendable (any Error) -> Void = { race.finish(.failure($0)) }
            race.attach(
                work: Task {
                    do { race.finish(.success(try await operation(abandon))) } catch { race.finish(.failure(error)) }
                }
            )
            race.attach(
                timer: Task {
                    guard (try? await Task.sleep(for: limit)) != nil else { return }
                    race.finish(.failure(DeadlineExceeded(what: what, limit: limit)))
                }
            )
        }
    } onCancel: {
        race.finish(.failure(CancellationError()))
    }
}

/// The same without the `abandon` function.
public func withDeadline<T: Sendable>(_ limit: Duration, _ what: String, operation: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withDeadline(limit, what) { _ in try await operation() }
}

/// `what` did not finish within `limit`.
public struct DeadlineExceeded: Error, CustomStringConvertible {
    public let what: String
    public let limit: Duration
    public var description: String { "\(what) did not finish within \(limit)" }
}

/// Lets exactly one of the work, the clock, `abandon` and the caller's cancellation give
/// the answer; the others are then cancelled.
private final class Race<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        var result: Result<T, any Error>?
        var work: Task<Void, Never>?
        var timer: Task<Void, Never>?
    }

    private let state = Mutex(State())

    func start(_ continuation: CheckedContinuation<T, any Error>) {
        let early = state.withLock { state -> Result<T, any Error>? in
            if let result = state.result { return result }  // cancelled before it began
            state.continuation = continuation
            return nil
        }
        if let early { continuation.resume(with: early) }
    }

    func attach(work: Task<Void, Never>) { attach(work, \.work) }
    func attach(timer: Task<Void, Never>) { attach(timer, \.timer) }

    private func attach(_ task: Task<Void, Never>, _ slot: WritableKeyPath<State, Task<Void, Never>?>) {
        let finished = state.withLock { state in
            state[keyPath: slot] = task
            return state.result != nil
        }
        if finished { task.cancel() }
    }

    func finish(_ result: Result<T, any Error>) {
        let (continuation, tasks) = state.withLock { state -> (CheckedContinuation<T, any Error>?, [Task<Void, Never>]) in
            guard state.result == nil else { return (nil, []) }
            state.result = result
            defer { state.continuation = nil }
            return (state.continuation, [state.work, state.timer].compactMap { $0 })
        }
        for task in tasks { task.cancel() }
        continuation?.resume(with: result)
    }
}
